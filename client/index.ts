/**
 * `tokenvend/client`: the typed client for services (other Lambdas, containers, jobs) that need vendor tokens.
 *
 * ```ts
 * import { createTokenVendClient } from 'tokenvend/client';
 * const tokenvend = createTokenVendClient({ baseUrl: process.env.TOKENVEND_URL! });
 * const res = await tokenvend.vendorFetch('genesys-eu', '/api/v2/users/me', { connection: 'reporting' });
 * ```
 *
 * Calls the IAM-authorised routes signed with SigV4 (the AWS SDK's signer and default credential chain), caches
 * each token in memory until shortly before it expires (one request in flight per key), and throws typed errors
 * for the API's error codes. docs/client.md has the whole story.
 */
import { checkBaseUrl, checkId, DEFAULT_TIMEOUT_MS, routeUrl, signedVend } from './api.js';
import { type AwsCredentials, createSigner, regionFor } from './sigv4.js';
import { type FreshnessPolicy, rejectedTokenHash, TokenCache, type VendedToken } from './token.js';
import { type FetchFunction, vendorFetchWith } from './vendor-fetch.js';

export * from './errors.js';
export type { FreshnessPolicy, TokenAuthorization, VendedToken } from './token.js';
export { applyAuthorization, type FetchFunction, vendorUrl } from './vendor-fetch.js';
export type { AwsCredentials };

export interface TokenVendClientOptions extends FreshnessPolicy {
  /**
   * The API's URL: the stack's `ApiUrl` output (`https://<id>.execute-api.<region>.amazonaws.com`) or its domain.
   * Default: the `TOKENVEND_URL` environment variable (what the stack sets on a function it grants access to).
   */
  baseUrl?: string | undefined;
  /** The signing region; default: from an `execute-api` host, else `AWS_REGION`. */
  region?: string | undefined;
  /** AWS credentials or a provider of them; default: the AWS SDK's default credential chain. */
  credentials?: AwsCredentials | undefined;
  /** The service connection used when a call names none. */
  connection?: string | undefined;
  /** Vendor API base URL per integration, for relative URLs in {@link TokenVendClient.vendorFetch}. */
  vendorApiBaseUrls?: Readonly<Record<string, string>> | undefined;
  /** Milliseconds per call to tokenvend. Default 10 000. */
  timeoutMs?: number | undefined;
  /** Used for tokenvend and vendor calls. Default: the global fetch. */
  fetch?: FetchFunction | undefined;
  /** Epoch milliseconds; for tests. */
  now?: (() => number) | undefined;
}

/** `fetch` options plus whose token to apply: a service connection's, or (with `user`) a user's. */
export interface VendorFetchInit extends RequestInit {
  /** The service connection (default: the client's `connection`). */
  connection?: string | undefined;
  /** Act for this user (their subject claim) through `POST /service/users/{integration}/vend`. */
  user?: string | undefined;
  /** The user's callers namespace, when the deployment's callers have several. */
  namespace?: string | undefined;
}

/** Names the user a service acts for: the subject claim and, with callers of several namespaces, the namespace. */
export interface UserRef {
  namespace?: string | undefined;
}

export interface TokenVendClient {
  /**
   * A fresh token of the named service connection (`GET /service/vend/{integration}/{connection}`): from the
   * cache while it is fresh, else from tokenvend (which refreshes it when due).
   */
  getServiceToken(integration: string, connection?: string): Promise<VendedToken>;
  /**
   * A user's fresh token, for a service acting for a user it already authenticated
   * (`POST /service/users/{integration}/vend`): the principal must be on the integration's
   * `onBehalfOf.allowedPrincipals`. `user` is the user's subject claim as your app's JWTs carry it.
   */
  getUserToken(integration: string, user: string, options?: UserRef): Promise<VendedToken>;
  /**
   * `fetch` at the vendor with the service connection's token applied as the API says; relative URLs go to the
   * vendor API's base URL. After a vendor 401 the token is vended once more and the call repeated once.
   */
  vendorFetch(integration: string, input: string | URL | Request, init?: VendorFetchInit): Promise<Response>;
  /** Forgets cached tokens: all, an integration's (service and user tokens), or one service connection's. */
  invalidate(integration?: string, connection?: string): void;
}

/** The environment variable that names the API when `baseUrl` is not given. */
export const TOKENVEND_URL_ENV = 'TOKENVEND_URL';

export function createTokenVendClient(options: TokenVendClientOptions = {}): TokenVendClient {
  const baseUrl = options.baseUrl ?? process.env[TOKENVEND_URL_ENV];
  if (baseUrl === undefined || baseUrl === '') {
    throw new TypeError(
      `createTokenVendClient: pass { baseUrl }, or set ${TOKENVEND_URL_ENV} (the API's URL)`,
    );
  }
  const base = checkBaseUrl(baseUrl);
  const signer = createSigner({ region: regionFor(base, options.region), credentials: options.credentials });
  const fetchFn: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const nowMs = options.now ?? Date.now;
  const cache = new TokenCache(nowMs);
  const defaultConnection =
    options.connection === undefined ? undefined : checkId('connection', options.connection);
  const vendorBases = options.vendorApiBaseUrls ?? {};

  const connectionOf = (connection: string | undefined): string => {
    const name = connection ?? defaultConnection;
    if (name === undefined) {
      throw new TypeError(
        'tokenvend: name the service connection (or create the client with { connection })',
      );
    }
    return checkId('connection', name);
  };
  type Target =
    | { kind: 'service'; connection: string }
    | { kind: 'user'; user: string; namespace?: string | undefined };
  const keyOf = (integration: string, target: Target) =>
    target.kind === 'service'
      ? `service\n${integration}\n${target.connection}`
      : `user\n${integration}\n${target.namespace ?? ''}\n${target.user}`;
  const load = (integration: string, target: Target, rejected?: string) => () =>
    signedVend({
      rejected,
      url:
        target.kind === 'service'
          ? routeUrl(base, 'service', 'vend', integration, target.connection)
          : routeUrl(base, 'service', 'users', integration, 'vend'),
      integration,
      body:
        target.kind === 'user'
          ? { user: target.user, ...(target.namespace === undefined ? {} : { namespace: target.namespace }) }
          : undefined,
      signer,
      fetch: fetchFn,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      nowMs,
      apiBaseUrl: Object.hasOwn(vendorBases, integration) ? vendorBases[integration] : undefined,
      refreshMarginSeconds: options.refreshMarginSeconds,
      noExpiryCacheSeconds: options.noExpiryCacheSeconds,
    });
  const userTarget = (user: unknown, namespace: unknown): Target => {
    if (typeof user !== 'string' || user === '' || user.length > 256) {
      throw new TypeError(
        'tokenvend: user must be the subject claim of the user to act for (1 to 256 characters)',
      );
    }
    if (namespace !== undefined && (typeof namespace !== 'string' || namespace === '')) {
      throw new TypeError('tokenvend: namespace must be a non-empty string');
    }
    return { kind: 'user', user, namespace: namespace as string | undefined };
  };
  const vend = (integration: string, target: Target) =>
    cache.get(keyOf(integration, target), load(integration, target));

  return {
    async getServiceToken(integration, connection) {
      const id = checkId('integration', integration);
      return vend(id, { kind: 'service', connection: connectionOf(connection) });
    },
    async getUserToken(integration, user, ref = {}) {
      const id = checkId('integration', integration);
      return vend(id, userTarget(user, ref.namespace));
    },
    async vendorFetch(integration, input, init = {}) {
      const { connection, user, namespace, ...request } = init;
      const id = checkId('integration', integration);
      const target: Target =
        user === undefined
          ? { kind: 'service', connection: connectionOf(connection) }
          : userTarget(user, namespace);
      const key = keyOf(id, target);
      return vendorFetchWith(
        {
          fetch: fetchFn,
          token: () => cache.get(key, load(id, target)),
          renew: async (rejected) => {
            cache.drop(key, rejected.accessToken);
            // Naming the refused token makes tokenvend refresh it rather than hand it back.
            return cache.get(key, load(id, target, await rejectedTokenHash(rejected.accessToken)));
          },
          followRedirects: true,
        },
        input,
        request,
      );
    },
    invalidate(integration, connection) {
      if (integration === undefined) {
        cache.clear();
        return;
      }
      if (connection !== undefined) {
        cache.drop(keyOf(integration, { kind: 'service', connection }));
        return;
      }
      cache.dropWhere(
        (key) => key.startsWith(`service\n${integration}\n`) || key.startsWith(`user\n${integration}\n`),
      );
    },
  };
}
