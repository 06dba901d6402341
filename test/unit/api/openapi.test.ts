/**
 * Keeps docs/openapi.yaml true: it documents exactly the routes of functions/handlers/routes.ts (plus the two
 * local-only ones), every answer's Cache-Control, every error a route can give, and every `$ref` resolves.
 * The error cases are produced by the real code (error classes, the vendor response classifier, the request
 * helpers and the error middleware), so a changed status or code fails here until the docs follow.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  CallerAuthError,
  CallerAuthUnavailableError,
} from '../../../functions/adapters/caller-auth/errors.js';
import type { Deployment } from '../../../functions/core/config/deployment.js';
import { DiscoveredProviders } from '../../../functions/core/config/discovered-providers.js';
import { ConfigError, InvalidRequestError, TokenvendError } from '../../../functions/core/errors.js';
import {
  type BrowserFlowDeps,
  ClaimRefusedError,
  claimConnection,
} from '../../../functions/core/flows/claim.js';
import { TooManyConnectFlowsError } from '../../../functions/core/flows/connect.js';
import {
  CredentialsRefusedError,
  connectWithCredentials,
  credentialsOf,
  TooManyCredentialChecksError,
  verifyOutcome,
} from '../../../functions/core/flows/credentials.js';
import { type FlowDeps, integrationOf } from '../../../functions/core/flows/deps.js';
import { onBehalfSubject } from '../../../functions/core/flows/on-behalf-vend.js';
import { checkReturnUrl } from '../../../functions/core/flows/return-url.js';
import {
  NeedsReauthError,
  NotConnectedError,
  RefreshUnavailableError,
} from '../../../functions/core/lifecycle/errors.js';
import { validateAuthorizationResponse } from '../../../functions/core/oauth/authorize.js';
import { send } from '../../../functions/core/oauth/send.js';
import { tokenErrorFor } from '../../../functions/core/oauth/token-response.js';
import { SamlTooLargeError, SamlValidationError } from '../../../functions/core/saml/errors.js';
import { IdpMetadataUnavailableError } from '../../../functions/core/saml/idp-metadata.js';
import { MAX_SAML_RESPONSE_BYTES } from '../../../functions/core/saml/validate.js';
import { bodyLimit } from '../../../functions/handlers/middleware/body-limit.js';
import { noStore } from '../../../functions/handlers/middleware/no-store.js';
import { oauthErrors } from '../../../functions/handlers/middleware/oauth-errors.js';
import type { HttpEvent, HttpResult } from '../../../functions/handlers/middleware/types.js';
import { FUNCTIONS, type RouteSpec } from '../../../functions/handlers/routes.js';
import { formBody, jsonBody } from '../../../functions/handlers/runtime/http.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../../functions/handlers/runtime/http-handler.js';
import { provider } from '../core/fixtures.js';
import {
  deref,
  errorCodes,
  examples,
  header,
  headerNames,
  httpMethods,
  isObject,
  type Json,
  loadSpec,
  openapiPath,
  operation,
  operations,
  pointer,
  responses,
  schemaValidator,
  templateParams,
} from './spec.js';

const spec = loadSpec();
const LOCAL_ONLY = ['POST /local/token', 'GET /local/jwks.json'];
const BLAND = 'the server could not complete the request';
const routes: RouteSpec[] = FUNCTIONS.flatMap((f) => f.routes);
const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

function thrown(fn: () => unknown): TokenvendError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TokenvendError) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

async function rejection(promise: Promise<unknown>): Promise<TokenvendError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof TokenvendError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

function event(headers: Record<string, string>, body?: string): HttpEvent {
  return {
    version: '2.0',
    routeKey: 'POST /x',
    rawPath: '/x',
    rawQueryString: '',
    headers,
    body,
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST' } },
  } as unknown as HttpEvent;
}

/** What the real error middleware answers for `error`. */
async function answerFor(error: Error): Promise<HttpResult> {
  const handler = middy<HttpEvent, HttpResult>()
    .use(oauthErrors())
    .use(noStore())
    .handler(() => Promise.reject(error));
  return handler(event({}), {} as Context);
}

const vendorResponse = (status: number, body: Json = {}, headers: Record<string, string> = {}) => ({
  status,
  headers: new Headers(headers),
  body: JSON.stringify(body),
});

describe('docs/openapi.yaml', () => {
  it('is an OpenAPI 3.1 document whose servers include the local runtime', () => {
    expect(spec.openapi).toMatch(/^3\.1\.\d+$/);
    expect(isObject(spec.info) && typeof spec.info.title === 'string').toBe(true);
    expect((spec.servers as Json[]).map((s) => s.url)).toContain('http://127.0.0.1:8787');
  });

  it('documents exactly the routes of FUNCTIONS plus the two local-only routes', () => {
    const documented = operations(spec).map((o) => key(o.method, o.path));
    const expected = [...routes.map((r) => key(r.method, openapiPath(r.path))), ...LOCAL_ONLY];
    expect(documented.sort()).toEqual(expected.sort());
    // Nothing hides outside the HTTP methods either (a typo'd method would be silently ignored by tools).
    for (const [path, item] of Object.entries(spec.paths as Json)) {
      const extra = Object.keys(item as Json).filter(
        (k) => !(httpMethods as readonly string[]).includes(k) && !k.startsWith('x-'),
      );
      expect({ path, extra }).toEqual({ path, extra: [] });
    }
  });

  it('marks the local routes, and only them, with x-local-only: true', () => {
    for (const { method, path, op } of operations(spec)) {
      const local = LOCAL_ONLY.includes(key(method, path));
      expect({ route: key(method, path), local: op['x-local-only'] ?? false }).toEqual({
        route: key(method, path),
        local,
      });
    }
  });

  it('declares the security each route has in the route table', () => {
    const schemes = (spec.components as Json).securitySchemes as Json;
    expect(deref(spec, schemes.userJwt)).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    expect(deref(spec, schemes.awsSigV4)).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
    });
    const expected = { none: [], jwt: [{ userJwt: [] }], iam: [{ awsSigV4: [] }] };
    for (const route of routes) {
      const op = operation(spec, route.method, route.path)!;
      expect({ route: key(route.method, route.path), security: op.security ?? spec.security }).toEqual({
        route: key(route.method, route.path),
        security: expected[route.auth],
      });
    }
  });

  it('declares every path template parameter, and no other path parameter', () => {
    for (const { method, path, op } of operations(spec)) {
      const params = ((op.parameters ?? []) as unknown[]).map((p) => deref(spec, p));
      const inPath = params.filter((p) => p.in === 'path');
      expect({ route: key(method, path), params: inPath.map((p) => p.name).sort() }).toEqual({
        route: key(method, path),
        params: templateParams(path).sort(),
      });
      for (const p of inPath) expect(p.required).toBe(true);
    }
  });

  it('declares Cache-Control: no-store (required) on every response of every operation', () => {
    const missing: string[] = [];
    for (const { method, path, op } of operations(spec)) {
      for (const [status, response] of responses(spec, op)) {
        const cacheControl = header(spec, response, 'Cache-Control');
        const schema = cacheControl && deref(spec, cacheControl.schema);
        if (!(cacheControl?.required === true && schema?.const === 'no-store')) {
          missing.push(`${key(method, path)} ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('declares the error responses every route can give', () => {
    const problems: string[] = [];
    const need = (method: string, path: string, status: string, why: string) => {
      const op = operation(spec, method, path)!;
      if (!responses(spec, op).has(status)) problems.push(`${key(method, path)}: no ${status} (${why})`);
    };
    for (const { method, path } of operations(spec)) need(method, path, '500', 'server_error');
    for (const route of routes) {
      const { method, path } = route;
      if (route.auth === 'jwt') {
        need(method, path, '401', 'invalid_token');
        need(method, path, '503', 'JWKS unavailable');
        const unauthorised = responses(spec, operation(spec, method, path)!).get('401');
        if (unauthorised && !header(spec, unauthorised, 'WWW-Authenticate')?.required) {
          problems.push(`${key(method, path)}: 401 without a required WWW-Authenticate`);
        }
      }
      if (route.auth === 'iam') need(method, path, '403', 'principal not allowed');
      if (path.includes('{integration}')) need(method, path, '404', 'unknown_integration');
      if (method === 'POST') {
        need(method, path, '400', 'invalid_request');
        need(method, path, '413', 'body limit');
        need(method, path, '415', 'media type');
      }
    }
    need('POST', '/local/token', '400', 'invalid body');
    // Every error answer has a body with at least one example naming its `error` code.
    for (const { method, path, op } of operations(spec)) {
      for (const [status, response] of responses(spec, op)) {
        if (Number(status) < 400) continue;
        if (errorCodes(spec, response).size === 0)
          problems.push(`${key(method, path)} ${status}: no error example`);
        const json = (response.content as Json | undefined)?.['application/json'];
        if (isObject(json)) {
          const schema = deref(spec, json.schema);
          const isError =
            schema === pointer(spec, '#/components/schemas/Error') ||
            ((schema.allOf ?? []) as unknown[]).some(
              (s) => deref(spec, s) === pointer(spec, '#/components/schemas/Error'),
            );
          if (!isError) problems.push(`${key(method, path)} ${status}: JSON body is not an Error`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('resolves every $ref, and every component is used', () => {
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (isObject(node)) {
        if (typeof node.$ref === 'string') refs.push(node.$ref);
        Object.values(node).forEach(walk);
      }
    };
    walk(spec);
    expect(refs.length).toBeGreaterThan(50);
    expect(refs.filter((ref) => pointer(spec, ref) === undefined)).toEqual([]);
    const components = spec.components as Json;
    const unused: string[] = [];
    for (const [kind, entries] of Object.entries(components)) {
      if (kind === 'securitySchemes') continue;
      for (const name of Object.keys(entries as Json)) {
        if (!refs.includes(`#/components/${kind}/${name}`)) unused.push(`${kind}/${name}`);
      }
    }
    expect(unused).toEqual([]);
  });

  it('every example matches its schema', () => {
    const validatorFor = schemaValidator(spec);
    const problems: string[] = [];
    const check = (where: string, schema: unknown, value: unknown) => {
      for (const problem of validatorFor(schema)(value)) problems.push(`${where}: ${problem}`);
    };
    const checkMedia = (where: string, content: unknown) => {
      for (const [type, media] of Object.entries((content ?? {}) as Json)) {
        const m = media as Json;
        if ('example' in m) check(`${where} ${type} example`, m.schema, m.example);
        for (const [name, example] of Object.entries((m.examples ?? {}) as Json)) {
          check(`${where} ${type} ${name}`, m.schema, deref(spec, example).value);
        }
      }
    };
    let checked = 0;
    for (const { method, path, op } of operations(spec)) {
      const where = key(method, path);
      for (const p of ((op.parameters ?? []) as unknown[]).map((x) => deref(spec, x))) {
        if ('example' in p) check(`${where} parameter ${p.name}`, p.schema, p.example);
      }
      if (op.requestBody) checkMedia(`${where} request`, deref(spec, op.requestBody).content);
      for (const [status, response] of responses(spec, op)) {
        checkMedia(`${where} ${status}`, response.content);
        for (const [name, h] of Object.entries((response.headers ?? {}) as Json)) {
          const headerSpec = deref(spec, h);
          if ('example' in headerSpec)
            check(`${where} ${status} ${name}`, headerSpec.schema, headerSpec.example);
        }
        checked += 1;
      }
    }
    // Schema-level `examples` (2020-12 annotations) must satisfy the schema they sit in.
    const walk = (where: string, schema: unknown): void => {
      if (Array.isArray(schema)) {
        for (const [i, s] of schema.entries()) walk(`${where}/${i}`, s);
      }
      if (!isObject(schema)) return;
      if (Array.isArray(schema.examples)) for (const e of schema.examples) check(where, schema, e);
      for (const [k, v] of Object.entries(schema)) if (k !== 'examples') walk(`${where}/${k}`, v);
    };
    walk('#/components/schemas', (spec.components as Json).schemas);
    expect(checked).toBeGreaterThan(40);
    expect(problems).toEqual([]);
  });

  it('uses the limits of the code', async () => {
    const samlForm = deref(spec, pointer(spec, '#/components/schemas/SamlAcsForm'));
    expect((samlForm.properties as Json).SAMLResponse).toMatchObject({ maxLength: MAX_SAML_RESPONSE_BYTES });
    const tooLarge = thrown(() =>
      bodyLimit(DEFAULT_MAX_BODY_BYTES).before?.({
        event: event({}, 'x'.repeat(DEFAULT_MAX_BODY_BYTES + 1)),
      } as never),
    );
    const documented = examples(
      spec,
      deref(spec, pointer(spec, '#/components/responses/PayloadTooLarge')),
      'application/json',
    );
    expect(documented).toContainEqual({ error: tooLarge.error, error_description: tooLarge.message });
    expect(tooLarge.status).toBe(413);
  });

  describe('documents the errors the code gives', () => {
    const noIntegrations = { config: {}, integrations: new Map() } as unknown as Deployment;
    const vendor = provider();
    const timeout = () =>
      rejection(
        send(
          { method: 'POST', url: 'https://vendor.example/token', headers: {} },
          {
            timeoutMs: 1,
            fetch: () => Promise.reject(new DOMException('timed out', 'TimeoutError')),
          },
        ),
      );
    const vendorFailures = async () => [
      tokenErrorFor(vendor, vendorResponse(500), 0),
      tokenErrorFor(vendor, vendorResponse(429, {}, { 'retry-after': '7' }), 0),
      tokenErrorFor(vendor, vendorResponse(401, { error: 'invalid_client' }), 0),
      tokenErrorFor(vendor, vendorResponse(200), 0),
      await timeout(),
    ];

    const unknownIntegration = () =>
      rejection(
        integrationOf(
          {
            deployment: noIntegrations,
            providers: new DiscoveredProviders({ fetch, timeoutMs: 1000, allowInsecureLoopback: false }),
          },
          'nope',
        ),
      );
    /** A claim through the real flow, with nothing parked under any code. */
    const unknownClaim = (claim: unknown) =>
      rejection(
        claimConnection(
          {
            deployment: {
              config: {},
              integrations: new Map([['acme', { id: 'acme', provider: vendor, config: {} }]]),
            },
            providers: new DiscoveredProviders({ fetch, timeoutMs: 1000, allowInsecureLoopback: false }),
            parked: { park: async () => undefined, consume: async () => undefined },
            now: () => 0,
          } as unknown as BrowserFlowDeps,
          { integration: 'acme', subject: 'alice', claim },
        ),
      );
    const cases: Array<[string, () => Promise<Error[]> | Error[]]> = [
      ['GET /health', () => [new ConfigError('bad config')]],
      [
        'POST /connect/{integration}',
        async () => [
          new CallerAuthError('missing'),
          new CallerAuthError('expired'),
          new CallerAuthUnavailableError(10),
          await unknownIntegration(),
          thrown(() => checkReturnUrl('https://evil.example/', ['https://app.example.com'])),
          thrown(() => jsonBody(event({ 'content-type': 'text/plain' }, '{}'))),
          thrown(() => jsonBody(event({ 'content-type': 'application/json' }, '[1]'))),
          new TooManyConnectFlowsError(30),
          new ConfigError('bad config'),
        ],
      ],
      [
        'POST /connect/{integration}/claim',
        async () => [
          new CallerAuthError('missing'),
          new CallerAuthUnavailableError(10),
          await unknownIntegration(),
          await unknownClaim('EXAMPLE-CLAIM-CODE'),
          await unknownClaim(42),
          new ClaimRefusedError(true),
          thrown(() => jsonBody(event({ 'content-type': 'text/plain' }, '{}'))),
          new ConfigError('bad config'),
        ],
      ],
      [
        'POST /connect/{integration}/credentials',
        async () => {
          const acme = { id: 'acme', provider: vendor, config: {} } as never;
          const checked = (status: number, headers: Record<string, string> = {}) =>
            verifyOutcome(acme, vendorResponse(status, {}, headers), 0) as Error;
          return [
            new CallerAuthError('missing'),
            new CallerAuthUnavailableError(10),
            await unknownIntegration(),
            thrown(() => credentialsOf({ username: 'agent1001' })),
            thrown(() => credentialsOf({ username: 'a', password: 'p', extra: 1 })),
            thrown(() => jsonBody(event({ 'content-type': 'text/plain' }, '{}'))),
            // The test provider declares no user_credentials grant.
            await rejection(
              connectWithCredentials(
                {
                  deployment: { config: {}, integrations: new Map([['acme', acme]]) },
                  providers: new DiscoveredProviders({
                    fetch,
                    timeoutMs: 1000,
                    allowInsecureLoopback: false,
                  }),
                } as unknown as FlowDeps,
                { integration: 'acme', subject: 'alice', body: { username: 'a', password: 'p' } },
              ),
            ),
            new CredentialsRefusedError('finesse', 401),
            new TooManyCredentialChecksError('finesse', 600),
            checked(403),
            checked(500),
            checked(503, { 'retry-after': '7' }),
            checked(429, { 'retry-after': '7' }),
            checked(302),
            checked(404),
            await timeout(),
            new ConfigError('bad config'),
          ];
        },
      ],
      [
        'GET /oauth/{integration}/callback',
        async () => [
          await unknownIntegration(),
          thrown(() =>
            validateAuthorizationResponse(vendor, new URLSearchParams('error=access_denied&state=s'), 's'),
          ),
          thrown(() => validateAuthorizationResponse(vendor, new URLSearchParams('code=c&state=t'), 's')),
          tokenErrorFor(vendor, vendorResponse(400, { error: 'invalid_grant' }), 0),
          ...(await vendorFailures()),
          new ConfigError('bad config'),
        ],
      ],
      [
        'POST /saml/{integration}/acs',
        async () => [
          await unknownIntegration(),
          new SamlValidationError('replay'),
          new SamlTooLargeError(MAX_SAML_RESPONSE_BYTES),
          thrown(() => formBody(event({ 'content-type': 'application/json' }, '{}'), ['SAMLResponse'])),
          thrown(() =>
            formBody(
              event({ 'content-type': 'application/x-www-form-urlencoded' }, 'RelayState=a&RelayState=b'),
              ['RelayState'],
            ),
          ),
          tokenErrorFor(vendor, vendorResponse(400, { error: 'invalid_grant' }), 0),
          new IdpMetadataUnavailableError('acme', 'the metadata URL answered 500'),
          ...(await vendorFailures()),
        ],
      ],
      [
        'GET /saml/{integration}/login',
        async () => [
          await unknownIntegration(),
          new IdpMetadataUnavailableError('acme', 'the metadata URL answered 500'),
          thrown(() => checkReturnUrl('https://evil.example/', ['https://app.example.com'])),
          new ConfigError('bad config'),
        ],
      ],
      [
        'GET /saml/{integration}/metadata',
        async () => [
          await unknownIntegration(),
          new ConfigError(
            'integration acme: secret: saml_signing_cert is not the certificate of saml_signing_key',
          ),
        ],
      ],
      [
        'GET /vend/{integration}',
        async () => [
          new CallerAuthError('invalid_signature'),
          new CallerAuthUnavailableError(10),
          await unknownIntegration(),
          new NotConnectedError('genesys-eu'),
          new NeedsReauthError('genesys-eu', 'invalid_grant'),
          new RefreshUnavailableError('busy', { retryAfterSeconds: 5 }),
          new ConfigError('bad config'),
        ],
      ],
      ['GET /connections', () => [new CallerAuthError('missing'), new CallerAuthUnavailableError(10)]],
      [
        'DELETE /connections/{integration}',
        async () => [
          new CallerAuthError('wrong_audience'),
          await unknownIntegration(),
          new NotConnectedError('genesys-eu'),
          ...(await vendorFailures()),
        ],
      ],
      [
        'POST /service/users/{integration}/vend',
        async () => [
          await unknownIntegration(),
          thrown(() => jsonBody(event({ 'content-type': 'text/plain' }, '{}'))),
          thrown(() => onBehalfSubject({ deployment: noIntegrations }, {})),
          thrown(() => onBehalfSubject({ deployment: noIntegrations }, { user: 'alice', extra: 1 })),
          new InvalidRequestError('this principal may not act for users of this integration', {
            status: 403,
            error: 'access_denied',
          }),
          new NotConnectedError('genesys-eu'),
          new NeedsReauthError('genesys-eu', 'invalid_grant'),
          new RefreshUnavailableError('busy', { retryAfterSeconds: 5 }),
          new ConfigError('bad config'),
        ],
      ],
      [
        'GET /service/vend/{integration}/{connection}',
        async () => [
          await unknownIntegration(),
          tokenErrorFor(vendor, vendorResponse(400, { error: 'invalid_grant' }), 0),
          new RefreshUnavailableError('busy', { retryAfterSeconds: 5 }),
          ...(await vendorFailures()),
        ],
      ],
    ];

    it.each(cases)('%s', async (route, make) => {
      const [method, path] = route.split(' ') as [string, string];
      const op = operation(spec, method, path)!;
      const documented = responses(spec, op);
      const problems: string[] = [];
      for (const error of await make()) {
        if (!(error instanceof TokenvendError)) throw error;
        const what = `${error.name} ${error.status} ${error.error}`;
        const response = documented.get(String(error.status));
        if (!response) {
          problems.push(`${what}: status not documented`);
          continue;
        }
        if (!errorCodes(spec, response).has(error.error)) problems.push(`${what}: code not in the examples`);
        const answer = await answerFor(error);
        for (const name of Object.keys(answer.headers ?? {})) {
          if (
            ['cache-control', 'www-authenticate', 'retry-after'].includes(name) &&
            !headerNames(response).includes(name)
          ) {
            problems.push(`${what}: answers ${name}, not documented`);
          }
        }
        if (!error.expose) {
          const json = examples(spec, response, 'application/json').filter(
            (e) => isObject(e) && e.error === error.error,
          );
          if (json.some((e) => (e as Json).error_description !== BLAND)) {
            problems.push(`${what}: a 5xx example shows a description the API never shows`);
          }
        }
      }
      expect(problems).toEqual([]);
    });
  });
});
