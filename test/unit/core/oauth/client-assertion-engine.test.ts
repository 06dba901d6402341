/**
 * private_key_jwt and the JWT-bearer assertion sources through the grant engine, end to end: a real HTTP server
 * on 127.0.0.1 plays the vendor's token and revocation endpoints and, like an authorization server, checks every
 * JWT it receives with jose against the registered public key (RFC 7523 §3: signature, iss, sub, aud, exp, and
 * a jti it has not seen before) before it answers.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportPKCS8, generateKeyPair, type JWTPayload, jwtVerify } from 'jose';
import { InvalidClientError } from '../../../../functions/core/errors.js';
import type { ClientSecret } from '../../../../functions/core/oauth/client-auth.js';
import { requestToken, revokeTokens } from '../../../../functions/core/oauth/engine.js';
import type { FetchLike } from '../../../../functions/core/oauth/http.js';
import { tok } from '../../providers/support.js';
import { baseTemplate, provider } from '../fixtures.js';

const NOW = 1_900_000_000;
const TOKEN_URL = 'https://login.eu.acme.com/token';
const REVOKE_URL = 'https://login.eu.acme.com/revoke';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  params: Record<string, string>;
  /** The verified claims of the client assertion and of the grant assertion, when the request had them. */
  clientClaims?: JWTPayload;
  grantClaims?: JWTPayload;
}

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
let registered: KeyPair;
let registeredPem: string;
let stranger: KeyPair;
let server: Server;
let port: number;
const seen: Seen[] = [];
const usedJtis = new Set<string>();
/** What the vendor expects of the JWT-bearer grant's assertion: a literal, or a verified JWT for this audience. */
let grantAssertion: { literal: string } | { audience: string } | undefined;

/** RFC 7523 §3 checks with the registered public key; the audience is the URL the vendor calls itself by. */
async function checkJwt(jwt: string, audience: string, clientId?: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(jwt, registered.publicKey, {
    audience,
    ...(clientId ? { issuer: clientId, subject: clientId } : {}),
    algorithms: ['RS256'],
    requiredClaims: ['exp', 'jti'],
    currentDate: new Date(NOW * 1000),
  });
  if (usedJtis.has(payload.jti as string)) throw new Error('replayed jti');
  usedJtis.add(payload.jti as string);
  return payload;
}

async function answer(request: Seen): Promise<{ status: number; body: unknown }> {
  const { params } = request;
  const vendorUrl = `https://${request.url.slice(1)}`;
  if (params.client_assertion !== undefined || params.client_assertion_type !== undefined) {
    if (params.client_assertion_type !== ASSERTION_TYPE)
      return { status: 400, body: { error: 'invalid_request' } };
    try {
      // Revocation accepts the token endpoint as audience too, as RFC 7523 §3 allows.
      request.clientClaims = await checkJwt(params.client_assertion as string, TOKEN_URL, params.client_id);
    } catch {
      return { status: 401, body: { error: 'invalid_client' } };
    }
  }
  if (vendorUrl === REVOKE_URL) return { status: 200, body: {} };
  if (params.grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    if (!grantAssertion) return { status: 400, body: { error: 'unsupported_grant_type' } };
    if ('literal' in grantAssertion) {
      if (params.assertion !== grantAssertion.literal)
        return { status: 400, body: { error: 'invalid_grant' } };
    } else {
      try {
        request.grantClaims = await checkJwt(params.assertion as string, grantAssertion.audience);
      } catch {
        return { status: 400, body: { error: 'invalid_grant' } };
      }
    }
  }
  return {
    status: 200,
    body: { access_token: tok('at'), refresh_token: tok('rt'), token_type: 'Bearer', expires_in: 3600 },
  };
}

beforeAll(async () => {
  registered = await generateKeyPair('RS256', { extractable: true });
  registeredPem = await exportPKCS8(registered.privateKey);
  stranger = await generateKeyPair('RS256', { extractable: true });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        params: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
      };
      seen.push(request);
      void answer(request).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

beforeEach(() => {
  seen.length = 0;
  grantAssertion = undefined;
});

/** The engine's fetch seam: the vendor's host moves into the path of the loopback URL. */
const loopbackFetch: FetchLike = (input, init) => {
  const url = new URL(input);
  return fetch(`http://127.0.0.1:${port}/${url.host}${url.pathname}${url.search}`, init);
};
const deps = { fetch: loopbackFetch, now: () => NOW };

const keyClient = (extra: Record<string, string> = {}): ClientSecret => ({
  client_id: tok('cid'),
  private_key: registeredPem,
  key_id: 'k-2026',
  ...extra,
});

const keyJwt = () =>
  provider({
    endpoints: {
      ...baseTemplate.endpoints,
      revoke: { url: 'https://login.${region}/revoke', clientAuth: 'private_key_jwt' },
    },
    grants: {
      authorization_code: { clientAuth: 'private_key_jwt', pkce: { when: 'always' } },
      refresh_token: { clientAuth: 'private_key_jwt' },
    },
  });

describe('private_key_jwt through the engine', () => {
  it('redeems a code and refreshes with fresh client assertions the vendor accepts', async () => {
    const p = keyJwt();
    const client = keyClient();
    const code = tok('code');
    const tokens = await requestToken(
      p,
      {
        grant: 'authorization_code',
        code,
        redirectUri: 'https://tv.example/cb',
        codeVerifier: 'v'.repeat(43),
      },
      client,
      deps,
    );
    expect(tokens).toMatchObject({ accessToken: expect.stringMatching(/^at-/), expiresAt: NOW + 3600 });
    const refreshed = await requestToken(
      p,
      { grant: 'refresh_token', refreshToken: tokens.refreshToken as string },
      client,
      deps,
    );
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);

    expect(seen).toHaveLength(2);
    const [redeem, refresh] = seen as [Seen, Seen];
    expect(redeem.url).toBe('/login.eu.acme.com/token');
    expect(redeem.headers.authorization).toBeUndefined();
    expect(redeem.params).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'https://tv.example/cb',
      code_verifier: 'v'.repeat(43),
      client_id: client.client_id,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: expect.any(String),
    });
    expect(refresh.params).toMatchObject({
      grant_type: 'refresh_token',
      refresh_token: tokens.refreshToken,
      client_id: client.client_id,
      client_assertion_type: ASSERTION_TYPE,
    });
    for (const request of [redeem, refresh]) {
      expect(request.clientClaims).toMatchObject({
        iss: client.client_id,
        sub: client.client_id,
        aud: TOKEN_URL,
      });
      expect(request.clientClaims?.iat).toBe(NOW);
      expect(request.clientClaims?.exp).toBe(NOW + 300);
    }
    expect(redeem.clientClaims?.jti).not.toBe(refresh.clientClaims?.jti);
  });

  it("a key the vendor does not know is the vendor's invalid_client", async () => {
    const wrong = keyClient({ private_key: await exportPKCS8(stranger.privateKey) });
    await expect(
      requestToken(keyJwt(), { grant: 'refresh_token', refreshToken: tok('rt') }, wrong, deps),
    ).rejects.toBeInstanceOf(InvalidClientError);
    expect(seen).toHaveLength(1);
  });

  it('revokes with a client assertion', async () => {
    const client = keyClient();
    const tokens = { accessToken: tok('at'), refreshToken: tok('rt'), tokenType: 'Bearer', issuedAt: NOW };
    await expect(revokeTokens(keyJwt(), tokens, client, deps)).resolves.toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url).toBe('/login.eu.acme.com/revoke');
    expect(seen[0]?.params).toMatchObject({ token: tokens.refreshToken, client_id: client.client_id });
    expect(seen[0]?.clientClaims?.iss).toBe(client.client_id);
  });
});

describe('jwt_bearer assertion sources through the engine', () => {
  it('secret: sends the console-issued JWT credential from the secret, with Basic client auth', async () => {
    const p = provider({ grants: { jwt_bearer: { assertion: { source: 'secret', field: 'jwt' } } } });
    const client = { client_id: tok('cid'), client_secret: tok('sec'), jwt: tok('console-jwt') };
    grantAssertion = { literal: client.jwt };
    const tokens = await requestToken(p, { grant: 'jwt_bearer' }, client, deps);
    expect(tokens.accessToken).toMatch(/^at-/);
    expect(seen[0]?.headers.authorization).toMatch(/^Basic /);
    expect(seen[0]?.params).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: client.jwt,
    });
  });

  it('signed: a fresh assertion per request, verified by the vendor, with private_key_jwt client auth', async () => {
    const p = provider({
      grants: {
        jwt_bearer: {
          clientAuth: 'private_key_jwt',
          assertion: {
            source: 'signed',
            claims: { iss: '${client_id}', sub: '${secret.user_id}', aud: 'https://login.${region}/' },
            lifetimeSeconds: 120,
          },
        },
      },
    });
    const client = keyClient({ user_id: tok('user') });
    grantAssertion = { audience: 'https://login.eu.acme.com/' };
    await requestToken(p, { grant: 'jwt_bearer', scopes: ['calls'] }, client, deps);
    await requestToken(p, { grant: 'jwt_bearer' }, client, deps);
    expect(seen).toHaveLength(2);
    const [first, second] = seen as [Seen, Seen];
    expect(first.params.scope).toBe('calls');
    expect(first.grantClaims).toEqual({
      iss: client.client_id,
      sub: client.user_id,
      aud: 'https://login.eu.acme.com/',
      iat: NOW,
      exp: NOW + 120,
      jti: expect.any(String),
    });
    expect(first.clientClaims?.aud).toBe(TOKEN_URL);
    expect(second.grantClaims?.jti).not.toBe(first.grantClaims?.jti);
  });

  it('signed with a key the vendor does not trust is refused as invalid_grant', async () => {
    const p = provider({
      grants: {
        jwt_bearer: {
          clientAuth: 'none',
          assertion: { source: 'signed', claims: { sub: 'svc', aud: TOKEN_URL } },
        },
      },
    });
    grantAssertion = { audience: TOKEN_URL };
    const wrong = keyClient({ private_key: await exportPKCS8(stranger.privateKey) });
    await expect(requestToken(p, { grant: 'jwt_bearer' }, wrong, deps)).rejects.toMatchObject({
      vendorError: 'invalid_grant',
    });
  });
});
