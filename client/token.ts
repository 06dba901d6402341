/**
 * What a vend answer holds, how long a client may reuse it, and a cache with one request in flight per key.
 * Shared by the service client and the browser helper; no dependencies.
 */
import { ServerError } from './errors.js';

/** How a vendor API call carries the token: a header (`Authorization`, `X-Api-Token`, ...) or a query parameter. */
export type TokenAuthorization = { header: string; value: string } | { query: string; value: string };

/** A vended token, as the API answered it (`GET /vend`, `GET /service/vend`). */
export interface VendedToken {
  readonly integration: string;
  readonly accessToken: string;
  readonly tokenType: string;
  /** Epoch seconds (the API's clock); undefined when the vendor states no expiry. */
  readonly expiresAt: number | undefined;
  /** Seconds left when the API answered. */
  readonly expiresIn: number | undefined;
  readonly scope: string | undefined;
  /** Apply this to every vendor call: it names the header or query parameter and its complete value. */
  readonly authorization: TokenAuthorization;
  /** The vendor API's base URL, when the API or the client's options name one. */
  readonly apiBaseUrl: string | undefined;
  /** Epoch milliseconds (this process's clock) until which the client hands the token out from its cache. */
  readonly freshUntil: number;
}

export interface FreshnessPolicy {
  /**
   * Seconds before the token's expiry at which a cached token is no longer handed out (and the API is asked
   * again, which refreshes it when the provider's margin is reached). At most half the token's lifetime is taken.
   * Default 60 (the providers' default refresh margin).
   */
  refreshMarginSeconds?: number | undefined;
  /** How long a token without any expiry (static credentials) is reused. Default 300. */
  noExpiryCacheSeconds?: number | undefined;
}

const DEFAULT_MARGIN_SECONDS = 60;
const DEFAULT_NO_EXPIRY_SECONDS = 300;
/** A token already inside the margin when it arrives is still reused this long, so callers do not loop on the API. */
const MIN_REUSE_MS = 1_000;

function isAuthorization(value: unknown): value is TokenAuthorization {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (typeof v.value !== 'string') return false;
  return (typeof v.header === 'string' && v.header !== '') || (typeof v.query === 'string' && v.query !== '');
}

const optionalNumber = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

/**
 * Reads a 200 vend answer. `receivedAtMs` is this process's clock when the answer arrived: the token's
 * lifetime is taken from `expires_in` (the API's view, free of clock skew between the two machines).
 */
export function readVendAnswer(
  body: unknown,
  context: { integration: string; receivedAtMs: number; apiBaseUrl?: string | undefined } & FreshnessPolicy,
): VendedToken {
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
  if (!b || typeof b.access_token !== 'string' || !isAuthorization(b.authorization)) {
    throw new ServerError(`tokenvend's vend answer for ${context.integration} is not a token`, {
      code: 'invalid_response',
      status: 200,
      integration: context.integration,
    });
  }
  const expiresAt = optionalNumber(b.expires_at);
  const expiresIn = optionalNumber(b.expires_in);
  const apiBase =
    typeof b.api_base_url === 'string' && b.api_base_url !== '' ? b.api_base_url : context.apiBaseUrl;
  return {
    integration: context.integration,
    accessToken: b.access_token,
    tokenType: typeof b.token_type === 'string' ? b.token_type : 'Bearer',
    expiresAt,
    expiresIn,
    scope: typeof b.scope === 'string' ? b.scope : undefined,
    authorization: b.authorization,
    apiBaseUrl: apiBase,
    freshUntil: freshUntil(expiresIn, context.receivedAtMs, context),
  };
}

/** Until when (epoch ms) a token answered at `receivedAtMs` with `expiresIn` seconds left is handed out. */
export function freshUntil(
  expiresIn: number | undefined,
  receivedAtMs: number,
  policy: FreshnessPolicy = {},
): number {
  if (expiresIn === undefined) {
    return receivedAtMs + (policy.noExpiryCacheSeconds ?? DEFAULT_NO_EXPIRY_SECONDS) * 1000;
  }
  const lifetimeMs = Math.max(0, expiresIn * 1000);
  const marginMs = Math.min((policy.refreshMarginSeconds ?? DEFAULT_MARGIN_SECONDS) * 1000, lifetimeMs / 2);
  const until = receivedAtMs + lifetimeMs - marginMs;
  return Math.max(until, receivedAtMs + Math.min(MIN_REUSE_MS, lifetimeMs / 2));
}

/**
 * Tokens by key, each reused until its `freshUntil`, with at most one request in flight per key: concurrent
 * callers of a missing or stale key share one answer. Failures are not cached.
 */
export class TokenCache {
  readonly #entries = new Map<string, VendedToken>();
  readonly #inFlight = new Map<string, Promise<VendedToken>>();
  readonly #nowMs: () => number;

  constructor(nowMs: () => number) {
    this.#nowMs = nowMs;
  }

  /** The cached token while fresh, else the one request in flight, else a new one from `load`. */
  get(key: string, load: () => Promise<VendedToken>): Promise<VendedToken> {
    const cached = this.#entries.get(key);
    if (cached && cached.freshUntil > this.#nowMs()) return Promise.resolve(cached);
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const request = (async () => {
      try {
        const token = await load();
        this.#entries.set(key, token);
        return token;
      } catch (error) {
        this.#entries.delete(key);
        throw error;
      } finally {
        this.#inFlight.delete(key);
      }
    })();
    this.#inFlight.set(key, request);
    return request;
  }

  /**
   * Forgets the cached token of `key`; with `accessToken`, only when that is still the cached one (a vendor
   * rejected it), so a newer token another caller already fetched stays.
   */
  drop(key: string, accessToken?: string): void {
    const cached = this.#entries.get(key);
    if (cached && (accessToken === undefined || cached.accessToken === accessToken))
      this.#entries.delete(key);
  }

  /** Forgets every cached token whose key passes `test`. */
  dropWhere(test: (key: string) => boolean): void {
    for (const key of [...this.#entries.keys()]) if (test(key)) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** The header that names an access token the vendor refused, so tokenvend refreshes it. */
export const REJECTED_TOKEN_HEADER = 'x-tokenvend-rejected';

/** The base64url SHA-256 of an access token: how a vend names the token the vendor refused (WebCrypto). */
export async function rejectedTokenHash(accessToken: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken)));
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
