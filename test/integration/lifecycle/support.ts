/**
 * Shared set-up of the lifecycle tests: a real OAuth server (oidc-provider, rotating refresh tokens), DynamoDB
 * Local with the real table, the real local cipher, and N "Lambdas" (each its own SDK client, store and
 * lifecycle) in one process. Time is real except for a shared offset the tests advance to expire tokens.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createLocalCipher } from '../../../functions/adapters/crypto/index.js';
import { DynamoConnectionStore } from '../../../functions/adapters/dynamodb/index.js';
import { type LifecycleOptions, TokenLifecycle } from '../../../functions/core/lifecycle/index.js';
import {
  buildAuthorizationUrl,
  createPkce,
  createState,
  validateAuthorizationResponse,
} from '../../../functions/core/oauth/authorize.js';
import type { ClientSecret } from '../../../functions/core/oauth/client-auth.js';
import { requestToken } from '../../../functions/core/oauth/engine.js';
import type { FetchLike } from '../../../functions/core/oauth/http.js';
import type { SecretSource } from '../../../functions/core/ports.js';
import { loadProviderTemplate } from '../../../functions/core/provider/load.js';
import { type ResolvedProvider, resolveProvider } from '../../../functions/core/provider/resolve.js';
import type { TokenSet } from '../../../functions/core/token-set.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../support/dynamodb-local.js';
import { type OidcServer, startOidcServer, TEST_CLIENT } from '../../support/oidc-server.js';

export const CLIENT: ClientSecret = {
  client_id: TEST_CLIENT.client_id,
  client_secret: TEST_CLIENT.client_secret,
};

/** A shared clock: real time plus an offset tests advance to make tokens due or expired. */
export class Clock {
  offsetMs = 0;
  readonly nowMs = () => Date.now() + this.offsetMs;
  advance(seconds: number) {
    this.offsetMs += seconds * 1000;
  }
}

/** Client secrets from a fixed list: `refresh: true` moves to the next (a rotated secret). */
export class RotatingSecrets implements SecretSource {
  reloads = 0;
  #index = 0;
  constructor(readonly secrets: ClientSecret[]) {}
  async getClientSecret(_integration: string, options: { refresh?: boolean } = {}): Promise<ClientSecret> {
    if (options.refresh) {
      this.reloads++;
      this.#index = Math.min(this.#index + 1, this.secrets.length - 1);
    }
    return this.secrets[this.#index] as ClientSecret;
  }
}

/** Every refresh token sent to the token endpoint, in order: proves an old one is never sent again. */
export function recordingFetch(sent: string[]): FetchLike {
  return async (input, init) => {
    const body = typeof init.body === 'string' ? new URLSearchParams(init.body) : undefined;
    if (body?.get('grant_type') === 'refresh_token') sent.push(body.get('refresh_token') ?? '');
    return fetch(input, init);
  };
}

export interface World {
  oidc: OidcServer;
  ddb: DynamoDbLocal;
  tableName: string;
  clock: Clock;
  cipher: ReturnType<typeof createLocalCipher>;
  close(): Promise<void>;
}

export async function startWorld(
  options: { rotate?: boolean; accessTokenTtl?: number } = {},
): Promise<World> {
  const [oidc, ddb] = await Promise.all([
    startOidcServer({
      accessTokenTtl: options.accessTokenTtl ?? 120,
      rotateRefreshTokens: options.rotate ?? true,
    }),
    startDynamoDbLocal(),
  ]);
  const tableName = await ddb.createTable();
  return {
    oidc,
    ddb,
    tableName,
    clock: new Clock(),
    cipher: createLocalCipher(randomBytes(32)),
    async close() {
      await Promise.all([oidc.close(), ddb.stop()]);
    },
  };
}

export function resolveTemplate(template: unknown): ResolvedProvider {
  return resolveProvider(loadProviderTemplate(template), {}, { allowInsecureLoopback: true });
}

/** One simulated Lambda container: its own SDK client, store and lifecycle. */
export interface Lambda {
  client: DynamoDBClient;
  store: DynamoConnectionStore;
  lifecycle: TokenLifecycle;
}

export function lambdas(
  world: World,
  count: number,
  deps: {
    provider: ResolvedProvider;
    secrets?: SecretSource;
    fetch?: FetchLike;
    options?: Partial<LifecycleOptions>;
    client?: () => DynamoDBClient;
  },
): Lambda[] {
  return Array.from({ length: count }, () => {
    const client = deps.client?.() ?? world.ddb.client();
    const store = new DynamoConnectionStore({
      tableName: world.tableName,
      cipher: world.cipher,
      client,
      nowMs: world.clock.nowMs,
    });
    const lifecycle = new TokenLifecycle(
      {
        store,
        secrets: deps.secrets ?? new RotatingSecrets([CLIENT]),
        fetch: deps.fetch ?? ((input, init) => fetch(input, init)),
        nowMs: world.clock.nowMs,
      },
      // 5 s: a loaded 2-core CI machine must not turn a slow in-process vendor into an unknown outcome.
      { vendorTimeoutMs: 5_000, writeRetryBudgetMs: 2_000, maxWaitMs: 15_000, ...deps.options },
    );
    return { client, store, lifecycle };
  });
}

/** Runs the real auth-code + PKCE flow for `account` and returns the vendor's token set. */
export async function consent(world: World, provider: ResolvedProvider, account: string): Promise<TokenSet> {
  const state = createState();
  const pkce = await createPkce();
  const url = buildAuthorizationUrl(provider, {
    client: CLIENT,
    redirectUri: TEST_CLIENT.redirect_uri,
    state,
    pkce,
  });
  const callback = await world.oidc.authorize(url, account);
  const { code } = validateAuthorizationResponse(provider, callback.searchParams, state);
  return requestToken(
    provider,
    { grant: 'authorization_code', code, redirectUri: TEST_CLIENT.redirect_uri, codeVerifier: pkce.verifier },
    CLIENT,
    { fetch: (input, init) => fetch(input, init), now: () => Math.floor(world.clock.nowMs() / 1000) },
  );
}

/** Whether the vendor accepts `accessToken` (its userinfo endpoint answers 200). */
export async function vendorAccepts(world: World, accessToken: string): Promise<boolean> {
  const response = await fetch(world.oidc.userinfoEndpoint, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  await response.arrayBuffer();
  return response.status === 200;
}

/**
 * A loopback proxy in front of the token endpoint that can swallow the next request (the vendor never sees
 * it) or forward it and swallow the answer (the vendor acted, we never learn how): both look like a timeout.
 */
export interface TokenProxy {
  tokenEndpoint: string;
  holdNextRequest(): void;
  holdNextResponse(): void;
  close(): Promise<void>;
}

export async function startTokenProxy(target: string): Promise<TokenProxy> {
  const upstream = new URL(target);
  let mode: 'pass' | 'hold-request' | 'hold-response' = 'pass';
  const held: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    const current = mode;
    mode = 'pass';
    if (current === 'hold-request') {
      held.push(req);
      return; // never forwarded, never answered
    }
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: upstream.pathname,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        if (current === 'hold-response') {
          answer.resume(); // the vendor answered; the caller never hears it
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    tokenEndpoint: `http://127.0.0.1:${port}/token`,
    holdNextRequest: () => {
      mode = 'hold-request';
    },
    holdNextResponse: () => {
      mode = 'hold-response';
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
