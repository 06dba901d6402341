/**
 * OIDC discovery against oidc-provider's real /.well-known/openid-configuration: a template that names
 * only its discovery URL gets every endpoint and the RFC 9207 issuer from the server, then runs grants.
 */
import { AuthorizationResponseError, MalformedResponseError } from '../../functions/core/errors.js';
import {
  buildAuthorizationUrl,
  createPkce,
  createState,
  validateAuthorizationResponse,
} from '../../functions/core/oauth/authorize.js';
import { type EngineDeps, requestToken, resolveSubject } from '../../functions/core/oauth/engine.js';
import { discoverProvider } from '../../functions/core/provider/discovery.js';
import { loadProviderTemplate } from '../../functions/core/provider/load.js';
import { resolveProvider } from '../../functions/core/provider/resolve.js';
import { type OidcServer, startOidcServer, TEST_CLIENT } from '../support/oidc-server.js';

const deps: EngineDeps = { fetch: (input, init) => fetch(input, init) };
const client = { client_id: TEST_CLIENT.client_id, client_secret: TEST_CLIENT.client_secret };

let server: OidcServer;
let other: OidcServer;

beforeAll(async () => {
  [server, other] = await Promise.all([startOidcServer(), startOidcServer()]);
});

afterAll(async () => {
  await Promise.all([server.close(), other.close()]);
});

function discoveryOnly(discovery: string) {
  return resolveProvider(
    loadProviderTemplate({
      id: 'generic',
      name: 'Generic',
      endpoints: { discovery },
      authorize: { defaultScopes: ['openid'] },
      grants: {
        authorization_code: { pkce: { when: 'always' } },
        refresh_token: {},
        client_credentials: {},
      },
    }),
    {},
    { allowInsecureLoopback: true },
  );
}

describe('discoverProvider against oidc-provider', () => {
  it('takes every endpoint and the issuer from the server', async () => {
    const provider = await discoverProvider(discoveryOnly(server.discoveryEndpoint), deps);
    expect(provider.issuer).toBe(server.issuer);
    expect(provider.endpoints).toMatchObject({
      authorize: server.authorizationEndpoint,
      token: server.tokenEndpoint,
      revoke: server.revocationEndpoint,
      userinfo: server.userinfoEndpoint,
    });
    expect(provider.template.authorize.issParameterSupported).toBe(true);
  });

  it('runs auth code + PKCE with the discovered issuer checked', async () => {
    const provider = await discoverProvider(discoveryOnly(server.discoveryEndpoint), deps);
    const state = createState();
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(provider, {
      client,
      redirectUri: TEST_CLIENT.redirect_uri,
      state,
      pkce,
    });
    const params = (await server.authorize(url, 'grace')).searchParams;

    const forged = new URLSearchParams(params);
    forged.set('iss', other.issuer);
    expect(() => validateAuthorizationResponse(provider, forged, state)).toThrow(AuthorizationResponseError);

    const { code } = validateAuthorizationResponse(provider, params, state);
    const tokens = await requestToken(
      provider,
      {
        grant: 'authorization_code',
        code,
        redirectUri: TEST_CLIENT.redirect_uri,
        codeVerifier: pkce.verifier,
      },
      client,
      deps,
    );
    await expect(resolveSubject(provider, tokens, deps)).resolves.toBe('grace');
  });

  it('runs client credentials at the discovered token endpoint', async () => {
    const provider = await discoverProvider(discoveryOnly(server.discoveryEndpoint), deps);
    server.resetCounts();
    await requestToken(provider, { grant: 'client_credentials' }, client, deps);
    expect(server.tokenRequests('client_credentials')).toBe(1);
  });

  it('rejects a document served under another issuer prefix (OIDC Discovery 4.3)', async () => {
    // A well-known URL on one server whose document names another issuer: proxy the other server's document.
    const { createServer } = await import('node:http');
    const proxy = createServer(async (_req, res) => {
      const doc = await (await fetch(other.discoveryEndpoint)).text();
      res.setHeader('content-type', 'application/json');
      res.end(doc);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const { port } = proxy.address() as { port: number };
      const attempt = discoverProvider(
        discoveryOnly(`http://127.0.0.1:${port}/.well-known/openid-configuration`),
        deps,
      );
      await expect(attempt).rejects.toBeInstanceOf(MalformedResponseError);
      await expect(attempt).rejects.toThrow(
        `names issuer ${other.issuer}, expected http://127.0.0.1:${port}`,
      );
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});
