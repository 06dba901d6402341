/**
 * The sandbox vendor of local mode: a real OAuth 2.0 server (oidc-provider) on loopback, so that `npm start`
 * on a fresh clone can run the whole connect -> callback -> vend -> refresh cycle without any vendor account.
 * It signs in everyone as the same sandbox user without asking, issues 5-minute access tokens and rotating
 * refresh tokens. Its grants live in memory: after a restart, sandbox connections need a new connect.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

export interface SandboxVendor {
  readonly port: number;
  readonly issuer: string;
  readonly client: { client_id: string; client_secret: string };
  close(): Promise<void>;
}

export interface SandboxVendorOptions {
  /** The tokenvend callback URL the sandbox client may redirect to. */
  redirectUri: string;
  accessTokenTtl?: number;
  /** The vendor-side user every sign-in becomes. */
  accountId?: string;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startSandboxVendor(options: SandboxVendorOptions): Promise<SandboxVendor> {
  const server = createServer();
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const client = { client_id: 'tokenvend-sandbox', client_secret: randomBytes(24).toString('base64url') };
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const accountId = options.accountId ?? 'sandbox-user';
  const provider = new Provider(issuer, {
    // In memory on purpose (documented); naming the adapter also keeps oidc-provider's start-up warning away.
    adapter: (model: string) => new MemoryAdapter(model),
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'sandbox', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    clients: [
      {
        ...client,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile api',
      },
    ],
    scopes: ['openid', 'profile', 'api'],
    findAccount: (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: () => ({ sub, name: 'Sandbox User' }),
    }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    issueRefreshToken: () => true,
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: options.accessTokenTtl ?? 300,
      ClientCredentials: options.accessTokenTtl ?? 300,
      RefreshToken: 30 * 86_400,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 30 * 86_400,
    },
  });
  provider.silent = true;

  serveAutoApproving(server, provider, () => accountId);
  return {
    port,
    issuer,
    client,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Serves `provider` on `server`, finishing every sign-in interaction (`/interaction/<uid>`) at once: the
 * account `accountFor` names is logged in and granted every requested scope, with no login form or consent.
 */
export function serveAutoApproving(
  server: Server,
  provider: Provider,
  accountFor: (req: IncomingMessage) => string,
  claims: readonly string[] = [],
): void {
  async function approve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const accountId = accountFor(req);
    const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    if (claims.length) grant.addOIDCClaims([...claims]);
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      approve(req, res).catch(() => {
        res.statusCode = 500;
        res.end('sign-in failed');
      });
      return;
    }
    callback(req, res);
  });
}

/** The sandbox provider template: the generic OAuth shape, on loopback http (local mode only). */
export function sandboxTemplate(): Record<string, unknown> {
  return {
    id: 'sandbox',
    name: 'tokenvend sandbox vendor (local mode)',
    variables: {
      port: {
        description: 'Port of the sandbox vendor on 127.0.0.1',
        type: 'number',
        pattern: '\\d{1,5}',
        required: true,
      },
    },
    endpoints: {
      authorize: 'http://127.0.0.1:${port}/auth',
      token: 'http://127.0.0.1:${port}/token',
      revoke: { url: 'http://127.0.0.1:${port}/token/revocation', clientAuth: 'basic' },
      userinfo: { url: 'http://127.0.0.1:${port}/me', subject: 'sub' },
    },
    authorize: {
      defaultScopes: ['openid', 'api'],
      issuer: 'http://127.0.0.1:${port}',
      issParameterSupported: true,
    },
    grants: {
      authorization_code: { clientAuth: 'basic', pkce: { when: 'always' } },
      refresh_token: { clientAuth: 'basic' },
      client_credentials: { clientAuth: 'basic', refreshable: false },
    },
    response: { expiryFromJwt: false },
    refresh: { rotates: true, refreshAt: { kind: 'before-expiry', seconds: 60 } },
    // Its API is the OIDC userinfo endpoint (`GET /me`): what `api_base_url` of a vend points at.
    api: { baseUrl: 'http://127.0.0.1:${port}' },
  };
}
