/**
 * A real OAuth 2.0 / OIDC authorization server for tests and benchmarks: oidc-provider 9 in-process on
 * 127.0.0.1 with a random free port.
 *
 * - Authorization code + PKCE S256 (required for every client) with an auto-login interaction: no login
 *   form, no consent screen; the grant gets every requested scope. {@link OidcServer.authorize} drives it
 *   without a browser.
 * - Refresh tokens are issued without `offline_access` and rotate on every use (configurable); reusing a
 *   rotated one makes oidc-provider revoke the whole grant (its reuse detection).
 * - client_credentials, RFC 7522 saml2-bearer and RFC 7523 jwt-bearer (registered with `registerGrantType`).
 * - RFC 9207 `iss` in every authorization response; revocation (RFC 7009); userinfo; discovery.
 * - Access tokens are opaque (oidc-provider's default format), so their expiry is only in `expires_in`.
 * - Silent: no oidc-provider notices, no Koa error logging.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, jwtVerify, type KeyObject } from 'jose';
import Provider, { type ClientMetadata, errors, type KoaContextWithOIDC } from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import { serveAutoApproving } from '../../functions/local/sandbox-vendor.js';

export type { ClientMetadata };

export const SAML2_BEARER = 'urn:ietf:params:oauth:grant-type:saml2-bearer';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The confidential test client (Basic auth). Its secret is random per process. */
export const TEST_CLIENT = {
  client_id: 'tokenvend-test',
  client_secret: randomBytes(24).toString('base64url'),
  redirect_uri: 'http://127.0.0.1/callback',
} as const;

/** The public test client (no secret; PKCE only). */
export const PUBLIC_CLIENT = {
  client_id: 'tokenvend-public',
  redirect_uri: 'http://127.0.0.1/callback',
} as const;

export interface OidcServerOptions {
  /** Access token (and client credentials token) lifetime in seconds; default 300. */
  accessTokenTtl?: number;
  /** Refresh token lifetime in seconds; default 86400. */
  refreshTokenTtl?: number;
  /** Issue a new refresh token on every refresh and consume the old one; default true. */
  rotateRefreshTokens?: boolean;
  /** Extra clients besides {@link TEST_CLIENT} and {@link PUBLIC_CLIENT}. */
  clients?: ClientMetadata[];
  /** Keys whose signatures the jwt-bearer grant accepts (see also {@link OidcServer.trustAssertionKey}). */
  assertionKeys?: AssertionKey[];
}

export type AssertionKey = CryptoKey | KeyObject | Uint8Array;

export interface OidcServer {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint: string;
  userinfoEndpoint: string;
  /** `${issuer}/.well-known/openid-configuration`. */
  discoveryEndpoint: string;
  /**
   * Drives the auth-code flow without a browser: GETs the authorize URL, auto-logs-in `accountId`, follows the
   * interaction redirects and returns the final redirect URL (the client's callback with code/state/iss).
   */
  authorize(authorizeUrl: string | URL, accountId?: string): Promise<URL>;
  /** Count of token endpoint requests by grant_type since start (or since resetCounts()); all when omitted. */
  tokenRequests(grantType?: string): number;
  resetCounts(): void;
  /** Adds a key whose signatures the jwt-bearer grant accepts. */
  trustAssertionKey(key: AssertionKey): void;
  /** A tokenvend provider template (plain object, valid for loadProviderTemplate) pointing at this server. */
  template(overrides?: object): unknown;
  close(): Promise<void>;
}

const ACCOUNT_HEADER = 'x-harness-account';

/** A Map with per-entry expiry: the store oidc-provider's MemoryAdapter keeps its models in (no LRU eviction). */
class ExpiringStore {
  readonly #entries = new Map<string, { value: unknown; expiresAt: number }>();

  get(key: string): unknown {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: unknown, options?: { maxAge?: number }): void {
    this.#entries.set(key, { value, expiresAt: options?.maxAge ? Date.now() + options.maxAge : Infinity });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}

/** One signing key per process: RSA generation is the slowest part of a start. */
let signingJwk: Promise<JWK> | undefined;
function signingKey(): Promise<JWK> {
  signingJwk ??= generateKeyPair('RS256', { extractable: true }).then(async ({ privateKey }) => ({
    ...(await exportJWK(privateKey)),
    kid: 'harness',
    alg: 'RS256',
    use: 'sig',
  }));
  return signingJwk;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** Plain-object deep merge: objects merge, everything else (arrays included) replaces. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const isObj = (x: unknown): x is Record<string, unknown> =>
      typeof x === 'object' && x !== null && !Array.isArray(x);
    out[k] = isObj(b) && isObj(v) ? merge(b, v) : v;
  }
  return out;
}

/** The NameID text of a base64 (or base64url) encoded SAML document, or undefined when it is none. */
function nameIdOf(assertion: string): string | undefined {
  const xml = Buffer.from(assertion, 'base64').toString('utf8');
  if (!/<(?:[\w-]+:)?(?:Assertion|Response)\b/.test(xml) || !/<saml/i.test(xml)) return undefined;
  const match = /<(?:[\w-]+:)?NameID\b[^>]*>([^<]+)<\/(?:[\w-]+:)?NameID>/.exec(xml);
  return match?.[1]?.trim() || undefined;
}

/** Starts the server; close it in afterAll. */
export async function startOidcServer(options: OidcServerOptions = {}): Promise<OidcServer> {
  const accessTokenTtl = options.accessTokenTtl ?? 300;
  const refreshTokenTtl = options.refreshTokenTtl ?? 86_400;
  const rotate = options.rotateRefreshTokens ?? true;
  const assertionKeys: AssertionKey[] = [...(options.assertionKeys ?? [])];
  const counts = new Map<string, number>();

  const server = createServer();
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const store = new ExpiringStore();

  const provider = new Provider(issuer, {
    adapter: (model: string) => new MemoryAdapter(model, store),
    jwks: { keys: [await signingKey()] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    clients: [
      {
        client_id: TEST_CLIENT.client_id,
        client_secret: TEST_CLIENT.client_secret,
        redirect_uris: [TEST_CLIENT.redirect_uri],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials', SAML2_BEARER, JWT_BEARER],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile email api',
      },
      {
        client_id: PUBLIC_CLIENT.client_id,
        redirect_uris: [PUBLIC_CLIENT.redirect_uri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      ...(options.clients ?? []),
    ],
    scopes: ['openid', 'offline_access', 'profile', 'email', 'api'],
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    findAccount: (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: () => ({ sub, name: `Test ${sub}`, email: `${sub}@example.test` }),
    }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: {
        enabled: true,
        // Only the client a token was issued to may revoke it (unknown owners look like success).
        allowedPolicy: (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) =>
          token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    // Vendors hand out refresh tokens without offline_access or a consent screen.
    issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => rotate,
    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      RefreshToken: refreshTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: refreshTokenTtl,
    },
    renderError: (ctx: KoaContextWithOIDC, out: Record<string, unknown>) => {
      ctx.body = out;
    },
  });
  // The provider is the Koa app: `silent` stops Koa's default error logging.
  provider.silent = true;

  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'token') {
      const grantType = String(ctx.oidc.params?.grant_type ?? '');
      counts.set(grantType, (counts.get(grantType) ?? 0) + 1);
    }
  });

  /** An access token for `accountId` under a fresh grant, so userinfo accepts it. */
  async function issueAccessToken(ctx: KoaContextWithOIDC, accountId: string, gty: string): Promise<void> {
    const requested = String(ctx.oidc.params?.scope ?? 'openid');
    const scope = requested.split(' ').includes('openid') ? requested : `openid ${requested}`;
    const grant = new provider.Grant({ accountId, clientId: ctx.oidc.client.clientId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    const token = new provider.AccessToken({ accountId, client: ctx.oidc.client, grantId, gty, scope });
    ctx.body = {
      access_token: await token.save(),
      token_type: 'Bearer',
      expires_in: token.expiration,
      scope,
    };
  }

  provider.registerGrantType(
    SAML2_BEARER,
    async (ctx) => {
      const assertion = ctx.oidc.params?.assertion;
      const nameId = typeof assertion === 'string' && assertion ? nameIdOf(assertion) : undefined;
      if (!nameId) throw new errors.InvalidGrant('assertion is not a SAML document with a NameID');
      await issueAccessToken(ctx, nameId, 'saml2_bearer');
    },
    ['assertion', 'scope'],
  );

  provider.registerGrantType(
    JWT_BEARER,
    async (ctx) => {
      const assertion = ctx.oidc.params?.assertion;
      if (typeof assertion !== 'string' || !assertion) throw new errors.InvalidGrant('assertion missing');
      let subject: string | undefined;
      for (const key of assertionKeys) {
        try {
          // RFC 7523 §3: aud is the token endpoint or the issuer; exp is required.
          const { payload } = await jwtVerify(assertion, key, {
            audience: [issuer, `${issuer}/token`],
            requiredClaims: ['exp', 'sub', 'iss'],
          });
          subject = payload.sub;
          break;
        } catch {
          // try the next key
        }
      }
      if (!subject) throw new errors.InvalidGrant('assertion signature or claims invalid');
      await issueAccessToken(ctx, subject, 'jwt_bearer');
    },
    ['assertion', 'scope'],
  );

  serveAutoApproving(server, provider, (req) => String(req.headers[ACCOUNT_HEADER] ?? 'alice'), [
    'sub',
    'name',
    'email',
  ]);

  async function authorize(authorizeUrl: string | URL, accountId = 'alice'): Promise<URL> {
    const jar = new Map<string, string>();
    let url = new URL(authorizeUrl);
    for (let hop = 0; hop < 10; hop++) {
      if (url.origin !== issuer) return url;
      const response = await fetch(url, {
        redirect: 'manual',
        headers: {
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
          [ACCOUNT_HEADER]: accountId,
        },
      });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair = ''] = cookie.split(';');
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        if (/expires=Thu, 01 Jan 1970/i.test(cookie) || value === '') jar.delete(name);
        else jar.set(name, value);
      }
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) {
        const body = await response.text();
        throw new Error(
          `authorize stopped at ${url.pathname} with HTTP ${response.status}: ${body.slice(0, 300)}`,
        );
      }
      await response.body?.cancel();
      url = new URL(location, url);
    }
    throw new Error('authorize: too many redirects');
  }

  const endpoints = {
    issuer,
    authorizationEndpoint: `${issuer}/auth`,
    tokenEndpoint: `${issuer}/token`,
    revocationEndpoint: `${issuer}/token/revocation`,
    userinfoEndpoint: `${issuer}/me`,
    discoveryEndpoint: `${issuer}/.well-known/openid-configuration`,
  };

  return {
    ...endpoints,
    authorize,
    tokenRequests: (grantType) =>
      grantType === undefined
        ? [...counts.values()].reduce((a, b) => a + b, 0)
        : (counts.get(grantType) ?? 0),
    resetCounts: () => counts.clear(),
    trustAssertionKey: (key) => {
      assertionKeys.push(key);
    },
    template: (overrides = {}) =>
      merge(
        {
          id: 'oidc-harness',
          name: 'oidc-provider test server',
          endpoints: {
            authorize: endpoints.authorizationEndpoint,
            token: endpoints.tokenEndpoint,
            revoke: { url: endpoints.revocationEndpoint, clientAuth: 'basic' },
            userinfo: { url: endpoints.userinfoEndpoint, subject: 'sub' },
          },
          authorize: { defaultScopes: ['openid'], issuer, issParameterSupported: true },
          grants: {
            authorization_code: { clientAuth: 'basic', pkce: { method: 'S256', when: 'always' } },
            refresh_token: { clientAuth: 'basic' },
            client_credentials: { clientAuth: 'basic' },
            saml2_bearer: { clientAuth: 'basic', assertionFormat: 'base64url' },
            jwt_bearer: { clientAuth: 'basic' },
          },
          refresh: { rotates: rotate },
          response: { expiryFromJwt: false },
        },
        overrides as Record<string, unknown>,
      ),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
