/**
 * Property tests: whatever a template file, a vendor or a browser sends, the core answers with a value or
 * one of its typed errors, never a TypeError, SyntaxError or a crash.
 */
import fc from 'fast-check';
import { TemplateError, TokenvendError } from '../../../functions/core/errors.js';
import { validateAuthorizationResponse } from '../../../functions/core/oauth/authorize.js';
import { mapTokenResponse } from '../../../functions/core/oauth/response-mapping.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { loadProviderTemplate } from '../../../functions/core/provider/load.js';
import type { TokenSet } from '../../../functions/core/token-set.js';
import { baseTemplate, errorText, provider } from './fixtures.js';

const fullTemplate = {
  ...baseTemplate,
  variables: {
    ...baseTemplate.variables,
    org: { description: 'org', pattern: '[a-z]*', default: '' },
    port: { description: 'port', type: 'number', enum: [443, 8443] },
  },
  endpoints: {
    ...baseTemplate.endpoints,
    revoke: { url: 'https://api.${region}/revoke', method: 'DELETE', auth: 'bearer' },
    userinfo: { url: 'https://api.${region}/me', subject: { path: 'data.id' } },
  },
  authorize: { params: { org: '${org}' }, defaultScopes: ['openid'], issuer: 'https://login.${region}' },
  grants: {
    authorization_code: {
      pkce: { when: 'public-client' },
      code: { in: 'header', name: 'X-Code', value: '${code}' },
    },
    refresh_token: { refreshTokenParam: 'token', headers: { 'X-Key': '${secret.k}' } },
    saml2_bearer: { assertionFormat: 'response-base64', params: { orgName: '${org}' } },
    static: { username: '${secret.u}', password: '${secret.p}' },
  },
  response: {
    refreshToken: { match: 'refresh.[tT]oken' },
    expiresIn: { field: 'expires_in', format: 'relative' },
    refreshExpiresIn: { field: 'rt_exp', format: 'iso8601' },
  },
  refresh: { rotates: true, refreshAt: { kind: 'lifetime-fraction', fraction: 0.75 } },
  usage: { in: 'query', name: 'token' },
};

/** Every path to an object or a leaf in `value`. */
function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return [prefix, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
}
const allPaths = pathsOf(fullTemplate).filter((p) => p.length > 0);

type Mutation = { path: string[]; op: 'delete' | 'set' | 'addKey'; value: unknown; key: string };

function mutate(template: unknown, mutations: Mutation[]): unknown {
  const copy = structuredClone(template) as Record<string, unknown>;
  for (const { path, op, value, key } of mutations) {
    let node: unknown = copy;
    for (const part of path.slice(0, -1)) {
      if (typeof node !== 'object' || node === null) break;
      node = (node as Record<string, unknown>)[part];
    }
    if (typeof node !== 'object' || node === null) continue;
    const obj = node as Record<string, unknown>;
    const last = path[path.length - 1] as string;
    if (op === 'delete') delete obj[last];
    else if (op === 'set') obj[last] = value;
    else if (typeof obj[last] === 'object' && obj[last] !== null)
      (obj[last] as Record<string, unknown>)[key] = value;
  }
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  path: fc.constantFrom(...allPaths),
  op: fc.constantFrom('delete', 'set', 'addKey'),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      '${nope}',
      '${secret.x}',
      'http://a.com',
      '([',
      '${region',
      'https://${org}/x',
      -1,
      0.5,
      'S256',
    ),
  ),
  key: fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'match', 'path', 'in'),
    fc.string({ maxLength: 8 }),
  ),
});

function onlyTemplateOrTemplateError(input: unknown): void {
  try {
    const t = loadProviderTemplate(input, 'prop.json');
    expect(typeof t.id).toBe('string');
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    expect(e.message.startsWith('prop.json: $')).toBe(true);
  }
}

describe('loadProviderTemplate on arbitrary input', () => {
  it('the unmutated template loads', () => {
    expect(loadProviderTemplate(fullTemplate).id).toBe('acme');
  });

  it('arbitrary values: a template or a TemplateError', () => {
    fc.assert(fc.property(fc.anything({ maxDepth: 3 }), onlyTemplateOrTemplateError), { numRuns: 300 });
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), onlyTemplateOrTemplateError), { numRuns: 300 });
  });

  it('mutations of a valid template: a template or a TemplateError', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) =>
        onlyTemplateOrTemplateError(mutate(fullTemplate, ms)),
      ),
      { numRuns: 1000 },
    );
  });

  it('mutated templates that load also resolve, or fail with a TemplateError', () => {
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.jsonValue({ maxDepth: 1 }),
        (ms, org) => {
          let t: ReturnType<typeof loadProviderTemplate>;
          try {
            t = loadProviderTemplate(mutate(fullTemplate, ms));
          } catch {
            return;
          }
          try {
            provider(t as unknown as Record<string, unknown>, { org });
          } catch (e) {
            if (!(e instanceof TokenvendError)) throw e;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('token responses on arbitrary input', () => {
  const p = provider({ response: fullTemplate.response, defaultRefreshTokenSeconds: 3600 });
  const typedOnly = (fn: () => unknown) => {
    try {
      const t = fn() as TokenSet;
      expect(typeof t.accessToken).toBe('string');
      expect(t.accessToken.length).toBeGreaterThan(0);
      // Times a store can hold: whole seconds, never Infinity or 1e300.
      for (const at of [t.expiresAt, t.refreshExpiresAt]) {
        if (at !== undefined) expect(Number.isSafeInteger(at) && at >= 0).toBe(true);
      }
      if (t.refreshToken === undefined) expect(t.refreshExpiresAt).toBeUndefined();
    } catch (e) {
      if (!(e instanceof TokenvendError)) throw e;
    }
  };

  const field = fc.oneof(
    fc.jsonValue({ maxDepth: 1 }),
    fc.string(),
    fc.constantFrom(
      '1799',
      '9'.repeat(400),
      '-1',
      '2027-01-01T00:00:00Z',
      'a.b.c',
      'eyJhbGciOiJub25lIn0.eyJleHAiOjF9.',
    ),
  );
  const tokenish = fc.dictionary(
    fc.constantFrom(
      'access_token',
      'refresh_token',
      'refreshToken',
      'refresh-token',
      'expires_in',
      'rt_exp',
      'token_type',
      'scope',
      'id_token',
      'error',
      'error_description',
    ),
    field,
  );
  const body = fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    tokenish.map((v) => JSON.stringify(v)),
    fc.string(),
  );
  const headers = fc.dictionary(
    fc.constantFrom('retry-after', 'content-type', 'x-other'),
    fc.string({ maxLength: 40 }),
  );

  it('mapTokenResponse: a TokenSet or a typed error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), tokenish), fc.integer({ min: 0, max: 4_000_000_000 }), (b, now) =>
        typedOnly(() => mapTokenResponse(b, p.template.response, { scopeDelimiter: ' ' }, now)),
      ),
      { numRuns: 1000 },
    );
  });

  it('processTokenResponse: a TokenSet or a typed error, for any status, headers and body', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), headers, body, (status, h, b) =>
        typedOnly(() => processTokenResponse(p, { status, headers: new Headers(h), body: b }, 1_800_000_000)),
      ),
      { numRuns: 1000 },
    );
  });
});

describe('validateAuthorizationResponse on arbitrary query strings', () => {
  const plain = provider();
  const strict = provider({
    authorize: { issuer: 'https://login.${region}', issParameterSupported: true },
    grants: { authorization_code: { responseCodeParam: 'authCode' } },
  });
  const name = fc.oneof(
    fc.constantFrom('code', 'authCode', 'state', 'iss', 'error', 'error_description', 'id_token', 'response'),
    fc.string({ maxLength: 6 }),
  );
  const value = fc.oneof(
    fc.constantFrom('st', 'https://login.eu.acme.com', 'access_denied', ''),
    fc.string({ maxLength: 20 }),
  );
  const query = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.array(fc.tuple(name, value), { maxLength: 6 }).map((pairs) => new URLSearchParams(pairs).toString()),
  );

  it('returns a code or throws a TokenvendError that never carries the code', () => {
    const marker = fc.stringMatching(/^[0-9a-f]{12}$/).map((hex) => `CODEMARK${hex}`);
    fc.assert(
      fc.property(
        query,
        fc.boolean(),
        fc.option(marker),
        fc.constantFrom('code', 'authCode'),
        (q, useStrict, secret, as) => {
          const params = new URLSearchParams(q);
          if (secret !== null) params.append(as, secret);
          try {
            const { code } = validateAuthorizationResponse(useStrict ? strict : plain, params, 'st');
            expect(code.length).toBeGreaterThan(0);
          } catch (e) {
            if (!(e instanceof TokenvendError)) throw e;
            if (secret !== null) expect(errorText(e)).not.toContain(secret);
          }
        },
      ),
      { numRuns: 800 },
    );
  });
});
