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
import { type FreshnessPolicy, TokenCache, type VendedToken } from './token.js';
import { type FetchFunction, vendorFetchWith } from './vendor-fetch.js';

export * from './errors.js';
export type { FreshnessPolicy, TokenAuthorization, VendedToken } from './token.js';
export { applyAuthorization, type FetchFunction, vendorUrl } from './vendor-fetch.js';
export type { AwsCredentials };

export interface TokenVendClientOptions extends FreshnessPolicy {
  /** The API's URL: the stack's `ApiUrl` output (`https://<id>.execute-api.<region>.amazonaws.com`) or its domain. */
  baseUrl: string;
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

/** `fetch` options plus which connection's token to apply. */
export interface VendorFetchInit extends RequestInit {
  /** The service connection (default: the client's `connection`). */
  connection?: string | undefined;
}

export interface TokenVendClient {
  /**
   * A fresh token of the named service connection (`GET /service/vend/{integration}/{connection}`): from the
   * cache while it is fresh, else from tokenvend (which refreshes it when due).
   */
  getServiceToken(integration: string, connection?: string): Promise<VendedToken>;
  /**
   * `fetch` at the vendor with the service connection's token applied as the API says; relative URLs go to the
   * vendor API's base URL. After a vendor 401 the token is vended once more and the call repeated once.
   */
  vendorFetch(integration: string, input: string | URL | Request, init?: VendorFetchInit): Promise<Response>;
  /** Forgets cached tokens: all, an integration's, or one connection's. */
  invalidate(integration?: string, connection?: string): void;
}

export function createTokenVendClient(options: TokenVendClientOptions): TokenVendClient {
  const base = checkBaseUrl(options.baseUrl);
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
  const keyOf = (integration: string, connection: string) => `service\n${integration}\n${connection}`;
  const load = (integration: string, connection: string) => () =>
    signedVend({
      url: routeUrl(base, 'service', 'vend', integration, connection),
      integration,
      signer,
      fetch: fetchFn,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      nowMs,
      apiBaseUrl: Object.hasOwn(vendorBases, integration) ? vendorBases[integration] : undefined,
      refreshMarginSeconds: options.refreshMarginSeconds,
      noExpiryCacheSeconds: options.noExpiryCacheSeconds,
    });

  const getServiceToken = async (integration: string, connection?: string): Promise<VendedToken> => {
    const id = checkId('integration', integration);
    const name = connectionOf(connection);
    return cache.get(keyOf(id, name), load(id, name));
  };

  return {
    getServiceToken,
    async vendorFetch(integration, input, init = {}) {
      const { connection, ...request } = init;
      const id = checkId('integration', integration);
      const name = connectionOf(connection);
      const key = keyOf(id, name);
      return vendorFetchWith(
        {
          fetch: fetchFn,
          token: () => cache.get(key, load(id, name)),
          renew: (rejected) => {
            cache.drop(key, rejected.accessToken);
            return cache.get(key, load(id, name));
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
        cache.drop(keyOf(integration, connection));
        return;
      }
      cache.dropWhere((key) => key.startsWith(`service\n${integration}\n`));
    },
  };
}
