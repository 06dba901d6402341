import {
  MalformedResponseError,
  VendorRejectedError,
  VendorUnavailableError,
} from '../../../../functions/core/errors.js';
import type { FetchLike } from '../../../../functions/core/oauth/http.js';
import {
  applyDiscovery,
  discoverProvider,
  issuerOfDiscoveryUrl,
} from '../../../../functions/core/provider/discovery.js';
import { loadProviderTemplate } from '../../../../functions/core/provider/load.js';
import { resolveProvider } from '../../../../functions/core/provider/resolve.js';

const ISSUER = 'https://idp.example.com/tenant1';
const DISCOVERY_URL = `${ISSUER}/.well-known/openid-configuration`;

const template = loadProviderTemplate({
  id: 'generic',
  name: 'Generic',
  endpoints: { discovery: DISCOVERY_URL },
  grants: { authorization_code: { pkce: { when: 'always' } }, refresh_token: {} },
});

const goodDocument = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/authorize`,
  token_endpoint: `${ISSUER}/token`,
  revocation_endpoint: `${ISSUER}/revoke`,
  userinfo_endpoint: `${ISSUER}/userinfo`,
  authorization_response_iss_parameter_supported: true,
  response_types_supported: ['code'],
};

function problemOf(document: unknown, discoveryUrl = DISCOVERY_URL, t = template): string {
  try {
    applyDiscovery(t, document, { discoveryUrl });
  } catch (e) {
    expect(e).toBeInstanceOf(MalformedResponseError);
    expect((e as MalformedResponseError).status).toBe(502);
    return (e as Error).message;
  }
  throw new Error('expected the document to be rejected');
}

describe('issuerOfDiscoveryUrl', () => {
  it.each([
    ['https://a.example/.well-known/openid-configuration', 'https://a.example'],
    ['https://a.example/t/1/.well-known/openid-configuration', 'https://a.example/t/1'],
    ['https://a.example/.well-known/oauth-authorization-server', 'https://a.example'],
    ['https://a.example/.well-known/oauth-authorization-server/t/1', 'https://a.example/t/1'],
  ])('%s belongs to %s', (url, issuer) => {
    expect(issuerOfDiscoveryUrl(url)).toBe(issuer);
  });

  it.each([
    'https://a.example/metadata.json',
    'https://a.example/.well-known/openid-configuration?x=1',
    'not a url',
  ])('%s is not a well-known URL', (url) => {
    expect(issuerOfDiscoveryUrl(url)).toBeUndefined();
  });
});

describe('applyDiscovery', () => {
  it('fills endpoints, issuer and the RFC 9207 flag, and stays a valid template', () => {
    const t = applyDiscovery(template, goodDocument, { discoveryUrl: DISCOVERY_URL });
    expect(t.endpoints.authorize).toBe(`${ISSUER}/authorize`);
    expect(t.endpoints.token).toBe(`${ISSUER}/token`);
    expect(t.endpoints.revoke).toEqual({
      url: `${ISSUER}/revoke`,
      method: 'POST',
      auth: 'client',
      clientAuth: 'basic',
      token: 'refresh_token',
    });
    expect(t.endpoints.userinfo).toEqual({ url: `${ISSUER}/userinfo`, subject: 'sub' });
    expect(t.authorize.issuer).toBe(ISSUER);
    expect(t.authorize.issParameterSupported).toBe(true);
    expect(template.endpoints.token).toBeUndefined();
    expect(loadProviderTemplate(t)).toEqual(t);
  });

  it('keeps the template revoke and userinfo settings and replaces only their URLs', () => {
    const withSpecs = loadProviderTemplate({
      ...template,
      endpoints: {
        discovery: DISCOVERY_URL,
        revoke: { url: 'https://old.example/revoke', clientAuth: 'body', token: 'access_token' },
        userinfo: { url: 'https://old.example/me', subject: 'data.id' },
      },
    });
    const t = applyDiscovery(withSpecs, goodDocument, { discoveryUrl: DISCOVERY_URL });
    expect(t.endpoints.revoke).toMatchObject({
      url: `${ISSUER}/revoke`,
      clientAuth: 'body',
      token: 'access_token',
    });
    expect(t.endpoints.userinfo).toEqual({ url: `${ISSUER}/userinfo`, subject: 'data.id' });
  });

  it('revokes with client_secret_post when that is the only method offered', () => {
    const t = applyDiscovery(
      template,
      {
        ...goodDocument,
        revocation_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'],
      },
      { discoveryUrl: DISCOVERY_URL },
    );
    expect(t.endpoints.revoke?.clientAuth).toBe('body');
  });

  it('does not claim iss support the document does not state', () => {
    const { authorization_response_iss_parameter_supported: _, ...rest } = goodDocument;
    const t = applyDiscovery(template, rest, { discoveryUrl: DISCOVERY_URL });
    expect(t.authorize.issParameterSupported).toBe(false);
    expect(t.authorize.issuer).toBe(ISSUER);
  });

  it('accepts the RFC 8414 well-known form', () => {
    const url = 'https://idp.example.com/.well-known/oauth-authorization-server/tenant1';
    expect(applyDiscovery(template, goodDocument, { discoveryUrl: url }).authorize.issuer).toBe(ISSUER);
  });

  it.each([
    ['not an object', 'nope', /is invalid at \$/],
    ['null', null, /is invalid/],
    ['an array', [goodDocument], /is invalid/],
    ['no issuer', { ...goodDocument, issuer: undefined }, /is invalid at issuer/],
    ['a numeric endpoint', { ...goodDocument, token_endpoint: 42 }, /is invalid at token_endpoint/],
    [
      'a non-boolean iss flag',
      { ...goodDocument, authorization_response_iss_parameter_supported: 'yes' },
      /iss/,
    ],
  ])('rejects a document: %s', (_, document, message) => {
    expect(problemOf(document)).toMatch(message);
  });

  it.each([
    ['another issuer', 'https://evil.example/tenant1'],
    ['a trailing slash', `${ISSUER}/`],
    ['another tenant', 'https://idp.example.com/tenant2'],
  ])('rejects an issuer that is %s (OIDC Discovery 4.3)', (_, issuer) => {
    expect(problemOf({ ...goodDocument, issuer })).toContain(`expected ${ISSUER}`);
  });

  it.each([
    ['http', { token_endpoint: 'http://idp.example.com/tenant1/token' }, /token_endpoint .* must use https/],
    ['loopback http outside local mode', { token_endpoint: 'http://127.0.0.1:8080/token' }, /must use https/],
    [
      'credentials',
      { authorization_endpoint: 'https://u:p@idp.example.com/a' },
      /must not carry credentials/,
    ],
    ['a relative URL', { userinfo_endpoint: '/userinfo' }, /userinfo_endpoint .* not a valid URL/],
    [
      'a placeholder',
      { revocation_endpoint: 'https://idp.example.com/${secret.client_secret}' },
      /placeholder/,
    ],
    ['javascript:', { authorization_endpoint: 'javascript:alert(1)' }, /must use https/],
  ])('rejects an endpoint with %s', (_, change, message) => {
    expect(problemOf({ ...goodDocument, ...change })).toMatch(message);
  });

  it('accepts loopback http only when asked', () => {
    const local = 'http://127.0.0.1:4000';
    const doc = {
      ...goodDocument,
      issuer: local,
      token_endpoint: `${local}/token`,
      authorization_endpoint: `${local}/a`,
    };
    const discoveryUrl = `${local}/.well-known/openid-configuration`;
    expect(problemOf(doc, discoveryUrl)).toMatch(/issuer .* must use https/);
    const t = applyDiscovery(template, doc, { discoveryUrl, allowInsecureLoopback: true });
    expect(t.endpoints.token).toBe(`${local}/token`);
  });

  it('rejects a document that leaves the template without a needed endpoint', () => {
    expect(problemOf({ issuer: ISSUER, token_endpoint: `${ISSUER}/token` })).toMatch(
      /no authorization_endpoint/,
    );
    expect(problemOf({ issuer: ISSUER, authorization_endpoint: `${ISSUER}/a` })).toMatch(/no token_endpoint/);
  });

  it('rejects a discovery URL that is not a well-known URL', () => {
    expect(problemOf(goodDocument, `${ISSUER}/metadata`)).toMatch(/not a well-known metadata URL/);
  });
});

describe('discoverProvider', () => {
  const resolved = resolveProvider(template);
  const answering =
    (status: number, body: string): FetchLike =>
    async () =>
      new Response(body, { status, headers: { 'content-type': 'application/json' } });

  it('returns a provider with the discovered endpoints and issuer', async () => {
    const seen: string[] = [];
    const fetch: FetchLike = async (url, init) => {
      seen.push(`${init.method} ${url}`);
      return new Response(JSON.stringify(goodDocument), { status: 200 });
    };
    const p = await discoverProvider(resolved, { fetch });
    expect(seen).toEqual([`GET ${DISCOVERY_URL}`]);
    expect(p.endpoints).toMatchObject({
      authorize: `${ISSUER}/authorize`,
      token: `${ISSUER}/token`,
      revoke: `${ISSUER}/revoke`,
      userinfo: `${ISSUER}/userinfo`,
      discovery: DISCOVERY_URL,
    });
    expect(p.issuer).toBe(ISSUER);
    expect(p.template.authorize.issParameterSupported).toBe(true);
  });

  it('does not accept loopback http endpoints from an https document', async () => {
    const doc = { ...goodDocument, token_endpoint: 'http://127.0.0.1:9/token' };
    await expect(discoverProvider(resolved, { fetch: answering(200, JSON.stringify(doc)) })).rejects.toThrow(
      /must use https/,
    );
  });

  it('maps failures to typed errors', async () => {
    await expect(discoverProvider(resolved, { fetch: answering(200, '<html>') })).rejects.toThrow(
      MalformedResponseError,
    );
    await expect(discoverProvider(resolved, { fetch: answering(404, '{}') })).rejects.toThrow(
      VendorRejectedError,
    );
    const unavailable = discoverProvider(resolved, { fetch: answering(503, '{}') });
    await expect(unavailable).rejects.toThrow(VendorUnavailableError);
    await expect(unavailable).rejects.toMatchObject({ outcomeUnknown: false, vendorStatus: 503 });
  });

  it('returns the provider unchanged when it declares no discovery URL', async () => {
    const plain = resolveProvider(
      loadProviderTemplate({
        id: 'plain',
        name: 'Plain',
        endpoints: { token: 'https://a.example/token' },
        grants: { client_credentials: {} },
      }),
    );
    const fetch: FetchLike = async () => {
      throw new Error('must not fetch');
    };
    await expect(discoverProvider(plain, { fetch })).resolves.toBe(plain);
  });
});
