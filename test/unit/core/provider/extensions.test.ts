/**
 * The template extensions real vendors need, as data: token-response metadata, values from the callback URL,
 * an API base URL, millisecond lifetimes and GET token requests. Loaded, resolved and run through the real
 * loader, engine pieces and lifecycle merge.
 */
import { randomUUID } from 'node:crypto';
import {
  AuthorizationResponseError,
  MalformedResponseError,
  TemplateError,
} from '../../../../functions/core/errors.js';
import { mergeRefreshed } from '../../../../functions/core/lifecycle/schedule.js';
import { validateAuthorizationResponse } from '../../../../functions/core/oauth/authorize.js';
import type { HttpResponse } from '../../../../functions/core/oauth/http.js';
import { buildTokenRequest } from '../../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../../functions/core/oauth/token-response.js';
import { loadProviderTemplate } from '../../../../functions/core/provider/load.js';
import {
  apiBaseUrlFor,
  bindToConnection,
  resolveProvider,
} from '../../../../functions/core/provider/resolve.js';

const NOW = 1_900_000_000;
const tok = (kind: string) => `${kind}-${randomUUID()}`;

const INSTANCE = 'https://[a-z0-9-]+\\.my\\.salesforce\\.com';

const crm = {
  id: 'crm',
  name: 'CRM',
  variables: {
    host: {
      description: 'login host',
      enum: ['login.crm.example', 'test.crm.example'],
      default: 'login.crm.example',
    },
  },
  endpoints: { authorize: 'https://${host}/authorize', token: 'https://${host}/token' },
  authorize: {
    callbackParams: {
      accountsServer: { param: 'accounts-server', pattern: 'https://accounts\\.crm\\.(?:com|eu)' },
    },
  },
  grants: { authorization_code: {}, refresh_token: {} },
  response: {
    metadata: {
      instance_url: { field: 'instance_url', pattern: INSTANCE },
      user: 'id',
    },
  },
  api: { baseUrl: '${metadata.instance_url}/services/data/v62.0' },
};

function reply(body: unknown): HttpResponse {
  return {
    status: 200,
    headers: new Headers({ 'content-type': 'application/json' }),
    body: JSON.stringify(body),
  };
}

function loadError(input: unknown): TemplateError {
  try {
    loadProviderTemplate(input, 'providers/crm.json');
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error('expected the template to fail');
}

describe('response.metadata', () => {
  const provider = resolveProvider(loadProviderTemplate(crm));

  it('keeps the listed token-response fields, numbers as text, and nothing else', () => {
    const tokens = processTokenResponse(
      provider,
      reply({
        access_token: tok('at'),
        instance_url: 'https://acme.my.salesforce.com',
        id: 42,
        signature: tok('sig'),
      }),
      NOW,
    );
    expect(tokens.metadata).toEqual({ instance_url: 'https://acme.my.salesforce.com', user: '42' });
  });

  it('refuses a value outside its pattern, naming the field but not the value', () => {
    const evil = 'https://evil.example/steal';
    let error: unknown;
    try {
      processTokenResponse(provider, reply({ access_token: tok('at'), instance_url: evil }), NOW);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as Error).message).toContain('instance_url');
    expect((error as Error).message).not.toContain(evil);
  });

  it('refuses an over-long value and leaves a missing one absent', () => {
    const big = { ...crm, response: { metadata: { note: 'note' } } };
    const p = resolveProvider(loadProviderTemplate({ ...big, api: undefined }));
    expect(() =>
      processTokenResponse(p, reply({ access_token: tok('at'), note: 'x'.repeat(1025) }), NOW),
    ).toThrow(MalformedResponseError);
    expect(processTokenResponse(p, reply({ access_token: tok('at') }), NOW).metadata).toBeUndefined();
  });

  it('survives a refresh that does not repeat it, and takes a new value when it does', () => {
    const before = {
      accessToken: tok('at'),
      tokenType: 'Bearer',
      issuedAt: NOW,
      metadata: { instance_url: 'https://a.my.salesforce.com', user: '1' },
    };
    const fresh = { accessToken: tok('at'), tokenType: 'Bearer', issuedAt: NOW + 1 };
    expect(mergeRefreshed(before, fresh).metadata).toEqual(before.metadata);
    const moved = { ...fresh, metadata: { instance_url: 'https://b.my.salesforce.com' } };
    expect(mergeRefreshed(before, moved).metadata).toEqual({
      instance_url: 'https://b.my.salesforce.com',
      user: '1',
    });
  });
});

describe('api.baseUrl', () => {
  it('resolves a variables-only base once, at resolve time', () => {
    const t = loadProviderTemplate({
      ...crm,
      response: undefined,
      authorize: undefined,
      api: { baseUrl: 'https://api.${host}/v2' },
    });
    const p = resolveProvider(t, { host: 'test.crm.example' });
    expect(p.apiBaseUrl).toBe('https://api.test.crm.example/v2');
    expect(apiBaseUrlFor(p, undefined)).toBe('https://api.test.crm.example/v2');
  });

  it('resolves a metadata base per connection, and gives none while the value is missing', () => {
    const p = resolveProvider(loadProviderTemplate(crm));
    expect(p.apiBaseUrl).toBeUndefined();
    expect(apiBaseUrlFor(p, { instance_url: 'https://acme.my.salesforce.com' })).toBe(
      'https://acme.my.salesforce.com/services/data/v62.0',
    );
    expect(apiBaseUrlFor(p, {})).toBeUndefined();
    expect(apiBaseUrlFor(p, undefined)).toBeUndefined();
  });

  it('gives no base for a stored value that does not make an https URL', () => {
    const p = resolveProvider(loadProviderTemplate(crm));
    expect(apiBaseUrlFor(p, { instance_url: 'http://acme.my.salesforce.com' })).toBeUndefined();
  });

  it('is absent when the template names none', () => {
    const p = resolveProvider(loadProviderTemplate({ ...crm, api: undefined }));
    expect(p.apiBaseUrl).toBeUndefined();
    expect(apiBaseUrlFor(p, { instance_url: 'https://acme.my.salesforce.com' })).toBeUndefined();
  });

  it.each([
    [{ baseUrl: '${metadata.nope}/x' }, '$.api.baseUrl', 'not declared'],
    [{ baseUrl: 'https://${metadata.user}.crm.example' }, '$.api.baseUrl', 'must declare a pattern'],
    [{ baseUrl: '${host}/x' }, '$.api.baseUrl', 'must start with https://'],
    [{ baseUrl: 'https://${elsewhere}/x' }, '$.api.baseUrl', 'undeclared variable'],
  ])('the loader refuses %j', (api, path, problem) => {
    const e = loadError({ ...crm, api });
    expect(e.path).toBe(path);
    expect(e.message).toContain(problem);
  });

  it('lets a metadata value lead only when its pattern pins https', () => {
    const loose = {
      ...crm,
      response: { metadata: { instance_url: { field: 'instance_url', pattern: '[a-z:/.]+' } } },
    };
    expect(loadError(loose).message).toContain('only when its pattern starts with https://');
  });

  it('refuses an unknown key under api', () => {
    expect(loadError({ ...crm, api: { baseUrl: 'https://api.crm.example', base: 'x' } }).message).toContain(
      'unknown key "base"',
    );
  });
});

describe('authorize.callbackParams', () => {
  const provider = resolveProvider(loadProviderTemplate(crm));
  const params = (extra: Record<string, string>) =>
    new URLSearchParams({ code: tok('code'), state: 'st', ...extra });

  it('keeps a declared value from the redirect back as metadata', () => {
    const { metadata } = validateAuthorizationResponse(
      provider,
      params({ 'accounts-server': 'https://accounts.crm.eu' }),
      'st',
    );
    expect(metadata).toEqual({ accountsServer: 'https://accounts.crm.eu' });
  });

  it('refuses a value outside the pattern without quoting it', () => {
    const evil = 'https://accounts.crm.eu.evil.example';
    let error: unknown;
    try {
      validateAuthorizationResponse(provider, params({ 'accounts-server': evil }), 'st');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthorizationResponseError);
    expect((error as Error).message).toContain('accounts-server');
    expect((error as Error).message).not.toContain(evil);
  });

  it('is optional unless required', () => {
    expect(validateAuthorizationResponse(provider, params({}), 'st').metadata).toBeUndefined();
    const strict = resolveProvider(
      loadProviderTemplate({
        ...crm,
        authorize: {
          callbackParams: {
            accountsServer: { param: 'accounts-server', pattern: 'https://a\\.example', required: true },
          },
        },
      }),
    );
    expect(() => validateAuthorizationResponse(strict, params({}), 'st')).toThrow(AuthorizationResponseError);
  });

  it.each(['code', 'state', 'iss', 'error'])('cannot capture the flow parameter %s', (param) => {
    const e = loadError({ ...crm, authorize: { callbackParams: { x: { param, pattern: '.*' } } } });
    expect(e.path).toBe('$.authorize.callbackParams.x.param');
  });

  it('needs a pattern', () => {
    const e = loadError({ ...crm, authorize: { callbackParams: { x: { param: 'dc' } } } });
    expect(e.path).toBe('$.authorize.callbackParams.x.pattern');
  });
});

describe('lifetimes in milliseconds and GET token requests', () => {
  it('reads expires_in in milliseconds when the template says relative-millis', () => {
    const t = loadProviderTemplate({
      ...crm,
      api: undefined,
      response: {
        expiresIn: { field: 'expires_in', format: 'relative-millis' },
        refreshExpiresIn: { field: 'rt_expires_in', format: 'relative-millis' },
      },
    });
    const tokens = processTokenResponse(
      resolveProvider(t),
      reply({
        access_token: tok('at'),
        refresh_token: tok('rt'),
        expires_in: 3_600_000,
        rt_expires_in: 86_400_000,
      }),
      NOW,
    );
    expect(tokens.expiresAt).toBe(NOW + 3600);
    expect(tokens.refreshExpiresAt).toBe(NOW + 86_400);
  });

  it('sends a GET with every parameter in the query and no body', () => {
    const t = loadProviderTemplate({
      ...crm,
      grants: {
        authorization_code: { method: 'GET', paramsIn: 'query', clientAuth: 'basic' },
        refresh_token: {},
      },
    });
    const code = tok('code');
    const request = buildTokenRequest(
      resolveProvider(t),
      { grant: 'authorization_code', code, redirectUri: 'https://tv.example/cb' },
      { client_id: 'cid', client_secret: tok('sec') },
    );
    expect(request.method).toBe('GET');
    expect(request.body).toBeUndefined();
    expect(Object.fromEntries(new URL(request.url).searchParams)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'https://tv.example/cb',
    });
    expect(request.headers.authorization).toMatch(/^Basic /);
  });

  it('refuses a GET whose parameters would need a body, and a credential that would sit in the URL', () => {
    expect(loadError({ ...crm, grants: { authorization_code: { method: 'GET' } } }).path).toBe(
      '$.grants.authorization_code.method',
    );
    expect(
      loadError({
        ...crm,
        grants: { authorization_code: { method: 'GET', paramsIn: 'query', clientAuth: 'private_key_jwt' } },
      }).path,
    ).toBe('$.grants.authorization_code.clientAuth');
  });
});

describe('the private key', () => {
  it.each([
    [
      { grants: { authorization_code: { params: { k: '${secret.private_key}' } }, refresh_token: {} } },
      '$.grants.authorization_code.params.k',
    ],
    [
      {
        grants: {
          authorization_code: {},
          jwt_bearer: { assertion: { source: 'signed', claims: { leak: '${secret.private_key}' } } },
        },
      },
      '$.grants.jwt_bearer.assertion.claims.leak',
    ],
  ])('can never be placed into a request or a signed claim (%#)', (extra, path) => {
    const e = loadError({ ...crm, api: undefined, ...extra });
    expect(e.path).toBe(path);
    expect(e.message).toContain('never sent');
  });
});

describe('grants.user_credentials', () => {
  const finesse = (verifyUrl: string) => ({
    id: 'agents',
    name: 'Agents',
    variables: { host: { description: 'host', pattern: '[a-z0-9.-]+(?::\\d{1,5})?' } },
    endpoints: {},
    grants: { user_credentials: { username: { pattern: '[a-z0-9]+' }, verify: { url: verifyUrl } } },
  });

  it('checks the verify URL when the integration is resolved: loopback http only where local mode allows it', () => {
    const local = loadProviderTemplate(finesse('http://127.0.0.1:8445/api/User/${username}'));
    expect(() => resolveProvider(local)).toThrow(TemplateError);
    expect(() => resolveProvider(local, {}, { allowInsecureLoopback: true })).not.toThrow();
    const remote = loadProviderTemplate(finesse('https://${host}/finesse/api/User/${username}'));
    expect(() => resolveProvider(remote, { host: 'finesse.example.com:8445' })).not.toThrow();
    // Left unset by an integration that never takes credentials: nothing to check yet.
    expect(() => resolveProvider(remote)).not.toThrow();
  });

  it('refuses a verify URL with an undeclared placeholder or a templated scheme', () => {
    expect(loadError({ ...finesse('https://x.example/${user}'), id: 'crm' }).message).toContain(
      'undeclared variable',
    );
    expect(loadError({ ...finesse('${host}/User/${username}'), id: 'crm' }).path).toBe(
      '$.grants.user_credentials.verify.url',
    );
  });
});

describe('authorize.callbackParams.selects', () => {
  const dc = {
    ...crm,
    api: undefined,
    variables: {
      ...crm.variables,
      dc: { description: 'data centre', enum: ['eu', 'us'], default: 'us' },
      free: { description: 'free', pattern: '[a-z]+', default: 'x' },
    },
    endpoints: {
      authorize: 'https://login.${dc}.example/authorize',
      token: 'https://login.${dc}.example/token',
    },
  };
  const withSelects = (selects: unknown, pattern = 'https://accounts\\.(?:eu|us)\\.example') => ({
    ...dc,
    authorize: { callbackParams: { accounts: { param: 'accounts-server', pattern, selects } } },
  });

  it('binds a connection to the variable value its callback selected, and only to listed values', () => {
    const p = resolveProvider(
      loadProviderTemplate(withSelects({ variable: 'dc', values: { 'https://accounts.eu.example': 'eu' } })),
    );
    expect(p.endpoints.token).toBe('https://login.us.example/token');
    const bound = bindToConnection(p, { accounts: 'https://accounts.eu.example' });
    expect(bound.endpoints.token).toBe('https://login.eu.example/token');
    expect(bound.vars.dc).toBe('eu');
    // Bound once per selection: a later vend or refresh of the connection resolves nothing again.
    expect(bindToConnection(p, { accounts: 'https://accounts.eu.example' })).toBe(bound);
    expect(bindToConnection(p, { accounts: 'https://accounts.us.example' })).toBe(p);
    expect(bindToConnection(p, undefined)).toBe(p);
  });

  it.each([
    [
      { variable: 'free', values: { 'https://accounts.eu.example': 'eu' } },
      'selects.variable',
      'with an enum',
    ],
    [{ variable: 'nope', values: {} }, 'selects.variable', 'with an enum'],
    [{ variable: 'dc', values: { 'https://accounts.eu.example': 'moon' } }, 'values', 'not one of'],
    [{ variable: 'dc', values: { 'https://evil.example': 'eu' } }, 'values', 'never lets this value in'],
  ])('the loader refuses %j', (selects, where, problem) => {
    const e = loadError(withSelects(selects));
    expect(e.path).toContain(`$.authorize.callbackParams.accounts.selects`);
    expect(e.path).toContain(where.split('.').pop() as string);
    expect(e.message).toContain(problem);
  });
});
