/**
 * The grant engine against a real authorization server (oidc-provider 9 on loopback): every grant the
 * harness supports, the front-channel checks, and how network failures are classified.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import {
  AuthorizationResponseError,
  InvalidClientError,
  InvalidGrantError,
  VendorRejectedError,
  VendorUnavailableError,
} from '../../functions/core/errors.js';
import {
  buildAuthorizationUrl,
  createPkce,
  createState,
  validateAuthorizationResponse,
} from '../../functions/core/oauth/authorize.js';
import type { ClientSecret } from '../../functions/core/oauth/client-auth.js';
import {
  type EngineDeps,
  requestToken,
  resolveSubject,
  revokeTokens,
} from '../../functions/core/oauth/engine.js';
import { loadProviderTemplate } from '../../functions/core/provider/load.js';
import { type ResolvedProvider, resolveProvider } from '../../functions/core/provider/resolve.js';
import type { TokenSet } from '../../functions/core/token-set.js';
import { type OidcServer, PUBLIC_CLIENT, startOidcServer, TEST_CLIENT } from '../support/oidc-server.js';

const deps: EngineDeps = { fetch: (input, init) => fetch(input, init) };
const confidential: ClientSecret = {
  client_id: TEST_CLIENT.client_id,
  client_secret: TEST_CLIENT.client_secret,
};
const publicClient: ClientSecret = { client_id: PUBLIC_CLIENT.client_id };

let server: OidcServer;
let provider: ResolvedProvider;

function resolve(template: unknown): ResolvedProvider {
  return resolveProvider(loadProviderTemplate(template), {}, { allowInsecureLoopback: true });
}

beforeAll(async () => {
  server = await startOidcServer({ accessTokenTtl: 120 });
  provider = resolve(server.template());
});

afterAll(async () => {
  await server.close();
});

/** Runs the front channel for `client` and returns the callback parameters plus what we kept server-side. */
async function frontChannel(client: ClientSecret, accountId = 'alice') {
  const state = createState();
  const pkce = await createPkce();
  const url = buildAuthorizationUrl(provider, { client, redirectUri: TEST_CLIENT.redirect_uri, state, pkce });
  const callback = await server.authorize(url, accountId);
  return { params: callback.searchParams, state, pkce };
}

async function connect(client: ClientSecret, accountId = 'alice'): Promise<TokenSet> {
  const { params, state, pkce } = await frontChannel(client, accountId);
  const { code } = validateAuthorizationResponse(provider, params, state);
  return requestToken(
    provider,
    { grant: 'authorization_code', code, redirectUri: TEST_CLIENT.redirect_uri, codeVerifier: pkce.verifier },
    client,
    deps,
  );
}

describe('authorization code + PKCE', () => {
  it('connects a confidential client and maps the token response', async () => {
    const before = Math.floor(Date.now() / 1000);
    const tokens = await connect(confidential, 'bob');
    expect(tokens.accessToken).toEqual(expect.any(String));
    expect(tokens.refreshToken).toEqual(expect.any(String));
    expect(tokens.tokenType).toBe('Bearer');
    // The template declares no `jwks` (not OpenID Connect): its ID token cannot be checked, so it is dropped.
    expect(tokens.idToken).toBeUndefined();
    expect(tokens.scopes).toEqual(['openid']);
    expect(tokens.expiresAt).toBeGreaterThanOrEqual(before + 120);
    expect(tokens.expiresAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 120);
    await expect(resolveSubject(provider, tokens, deps)).resolves.toBe('bob');
  });

  it('connects a public client with PKCE and no secret', async () => {
    const tokens = await connect(publicClient, 'carol');
    expect(tokens.refreshToken).toEqual(expect.any(String));
    await expect(resolveSubject(provider, tokens, deps)).resolves.toBe('carol');
  });

  it('sends the server issuer as RFC 9207 iss and rejects a tampered one', async () => {
    const { params, state } = await frontChannel(confidential);
    expect(params.get('iss')).toBe(server.issuer);
    const tampered = new URLSearchParams(params);
    tampered.set('iss', 'http://127.0.0.1:1');
    expect(() => validateAuthorizationResponse(provider, tampered, state)).toThrow(
      AuthorizationResponseError,
    );
    const missing = new URLSearchParams(params);
    missing.delete('iss');
    expect(() => validateAuthorizationResponse(provider, missing, state)).toThrow(AuthorizationResponseError);
    expect(validateAuthorizationResponse(provider, params, state).code).toBe(params.get('code'));
  });

  it('rejects a response whose state is not ours', async () => {
    const { params } = await frontChannel(confidential);
    expect(() => validateAuthorizationResponse(provider, params, createState())).toThrow(
      AuthorizationResponseError,
    );
  });

  it('refuses a code redeemed twice with InvalidGrantError', async () => {
    const { params, state, pkce } = await frontChannel(confidential);
    const { code } = validateAuthorizationResponse(provider, params, state);
    const input = {
      grant: 'authorization_code' as const,
      code,
      redirectUri: TEST_CLIENT.redirect_uri,
      codeVerifier: pkce.verifier,
    };
    const first = await requestToken(provider, input, confidential, deps);
    const replay = requestToken(provider, input, confidential, deps);
    await expect(replay).rejects.toBeInstanceOf(InvalidGrantError);
    await expect(replay).rejects.toMatchObject({ vendorError: 'invalid_grant', status: 400 });
    // RFC 6749 §4.1.2: the server revokes what the code issued once it sees the replay.
    await expect(resolveSubject(provider, first, deps)).rejects.toBeInstanceOf(VendorRejectedError);
    await expect(resolveSubject(provider, first, deps)).rejects.toMatchObject({
      vendorStatus: 401,
      vendorError: 'invalid_token',
    });
  });

  it('refuses a wrong PKCE verifier', async () => {
    const { params, state } = await frontChannel(confidential);
    const { code } = validateAuthorizationResponse(provider, params, state);
    const wrong = await createPkce();
    await expect(
      requestToken(
        provider,
        {
          grant: 'authorization_code',
          code,
          redirectUri: TEST_CLIENT.redirect_uri,
          codeVerifier: wrong.verifier,
        },
        confidential,
        deps,
      ),
    ).rejects.toBeInstanceOf(InvalidGrantError);
  });
});

describe('refresh with rotation', () => {
  it('rotates, and reusing the old refresh token kills the whole grant', async () => {
    const tokens = await connect(confidential, 'dave');
    server.resetCounts();
    const refreshed = await requestToken(
      provider,
      { grant: 'refresh_token', refreshToken: tokens.refreshToken! },
      confidential,
      deps,
    );
    expect(refreshed.refreshToken).toEqual(expect.any(String));
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);

    // A second refresher that read the connection before the first one wrote it back:
    const stale = requestToken(
      provider,
      { grant: 'refresh_token', refreshToken: tokens.refreshToken! },
      confidential,
      deps,
    );
    await expect(stale).rejects.toBeInstanceOf(InvalidGrantError);
    // ...and the server revoked the grant, so the winner's fresh refresh token is dead too: the user must
    // log in again. This is why refreshes of one connection must be single-flight.
    await expect(
      requestToken(
        provider,
        { grant: 'refresh_token', refreshToken: refreshed.refreshToken! },
        confidential,
        deps,
      ),
    ).rejects.toBeInstanceOf(InvalidGrantError);
    expect(server.tokenRequests('refresh_token')).toBe(3);
  });

  it('refreshes a public client without client authentication', async () => {
    const tokens = await connect(publicClient);
    const refreshed = await requestToken(
      provider,
      { grant: 'refresh_token', refreshToken: tokens.refreshToken! },
      publicClient,
      deps,
    );
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
  });
});

describe('service grants', () => {
  it('client credentials', async () => {
    server.resetCounts();
    const tokens = await requestToken(provider, { grant: 'client_credentials' }, confidential, deps);
    expect(tokens.accessToken).toEqual(expect.any(String));
    expect(tokens.refreshToken).toBeUndefined();
    expect(tokens.expiresAt).toBeGreaterThan(Math.floor(Date.now() / 1000));
    expect(server.tokenRequests('client_credentials')).toBe(1);
    expect(server.tokenRequests()).toBe(1);
  });

  it('rejects a wrong client secret with InvalidClientError', async () => {
    const wrong = { client_id: TEST_CLIENT.client_id, client_secret: 'not-the-secret' };
    const attempt = requestToken(provider, { grant: 'client_credentials' }, wrong, deps);
    await expect(attempt).rejects.toBeInstanceOf(InvalidClientError);
    await expect(attempt).rejects.toMatchObject({ vendorStatus: 401, vendorError: 'invalid_client' });
  });

  it('saml2-bearer exchanges an assertion for a token of its NameID', async () => {
    const assertionXml =
      '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Subject>' +
      '<saml:NameID>erin@example.test</saml:NameID></saml:Subject></saml:Assertion>';
    const tokens = await requestToken(
      provider,
      { grant: 'saml2_bearer', samlResponse: 'unused-for-base64url', assertionXml },
      confidential,
      deps,
    );
    await expect(resolveSubject(provider, tokens, deps)).resolves.toBe('erin@example.test');
  });

  it('saml2-bearer refuses something that is not SAML', async () => {
    await expect(
      requestToken(
        provider,
        { grant: 'saml2_bearer', samlResponse: 'x', assertionXml: '<html>no</html>' },
        confidential,
        deps,
      ),
    ).rejects.toBeInstanceOf(InvalidGrantError);
  });

  it('jwt-bearer accepts an assertion signed by a trusted key only', async () => {
    const trusted = await generateKeyPair('ES256');
    const untrusted = await generateKeyPair('ES256');
    server.trustAssertionKey(trusted.publicKey);
    const assertion = (key: CryptoKey) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(TEST_CLIENT.client_id)
        .setSubject('frank')
        .setAudience(server.tokenEndpoint)
        .setIssuedAt()
        .setExpirationTime('2m')
        .sign(key);
    const tokens = await requestToken(
      provider,
      { grant: 'jwt_bearer', assertion: await assertion(trusted.privateKey) },
      confidential,
      deps,
    );
    await expect(resolveSubject(provider, tokens, deps)).resolves.toBe('frank');
    await expect(
      requestToken(
        provider,
        { grant: 'jwt_bearer', assertion: await assertion(untrusted.privateKey) },
        confidential,
        deps,
      ),
    ).rejects.toBeInstanceOf(InvalidGrantError);
  });
});

describe('revocation', () => {
  it('revokes the refresh token at the server', async () => {
    const tokens = await connect(confidential);
    await expect(revokeTokens(provider, tokens, confidential, deps)).resolves.toBe(true);
    await expect(
      requestToken(
        provider,
        { grant: 'refresh_token', refreshToken: tokens.refreshToken! },
        confidential,
        deps,
      ),
    ).rejects.toBeInstanceOf(InvalidGrantError);
    // RFC 7009 §2.2: revoking an unknown token is still a success.
    await expect(revokeTokens(provider, tokens, confidential, deps)).resolves.toBe(true);
  });
});

describe('network failures', () => {
  let silent: Server;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections, reads the request, never answers.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.resume();
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  const at = (tokenUrl: string) => resolve(server.template({ endpoints: { token: tokenUrl } }));

  it('a timeout after sending is VendorUnavailableError with outcomeUnknown', async () => {
    const { port } = silent.address() as { port: number };
    const attempt = requestToken(
      at(`http://127.0.0.1:${port}/token`),
      { grant: 'client_credentials' },
      confidential,
      { ...deps, timeoutMs: 200 },
    );
    await expect(attempt).rejects.toBeInstanceOf(VendorUnavailableError);
    await expect(attempt).rejects.toMatchObject({ outcomeUnknown: true, status: 504 });
  });

  it('a refused connection is VendorUnavailableError with a known outcome', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((r) => closed.close(() => r()));
    const attempt = requestToken(
      at(`http://127.0.0.1:${port}/token`),
      { grant: 'client_credentials' },
      confidential,
      deps,
    );
    await expect(attempt).rejects.toBeInstanceOf(VendorUnavailableError);
    await expect(attempt).rejects.toMatchObject({ outcomeUnknown: false });
  });
});
