/** Calls to tokenvend's IAM routes shared by the service client's methods (not exported by the package). */
import { errorFromAnswer, UnavailableError } from './errors.js';
import type { Signer } from './sigv4.js';
import { type FreshnessPolicy, REJECTED_TOKEN_HEADER, readVendAnswer, type VendedToken } from './token.js';
import type { FetchFunction } from './vendor-fetch.js';

/** Integration and connection ids as the API accepts them (lowercase letters, digits and dashes). */
const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;
export const DEFAULT_TIMEOUT_MS = 10_000;

export function checkId(kind: string, value: unknown): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new TypeError(
      `tokenvend: ${kind} must be an id of lowercase letters, digits and dashes (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

export function checkBaseUrl(value: unknown): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(
      `createTokenVendClient: baseUrl must be an absolute URL (got ${JSON.stringify(value)})`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    throw new TypeError(
      'createTokenVendClient: baseUrl must be https:// (http:// only on loopback, for tests)',
    );
  }
  if (url.search || url.hash)
    throw new TypeError('createTokenVendClient: baseUrl takes no query or fragment');
  return url;
}

/** `{base}/{...segments}` with each segment percent-encoded, keeping a path prefix of the base (a stage). */
export function routeUrl(base: URL, ...segments: string[]): URL {
  const prefix = base.pathname.replace(/\/+$/, '');
  return new URL(`${prefix}/${segments.map(encodeURIComponent).join('/')}`, base);
}

/** Sends a signed GET and reads tokenvend's answer: the token, or the typed error. */
export async function signedVend(
  context: {
    url: URL;
    integration: string;
    /** A JSON body makes it a POST (the on-behalf route); none, a GET. */
    body?: Record<string, unknown> | undefined;
    signer: Signer;
    fetch: FetchFunction;
    timeoutMs: number;
    nowMs: () => number;
    apiBaseUrl?: string | undefined;
    /** The hash of a token the vendor refused ({@link rejectedTokenHash}): tokenvend refreshes it. */
    rejected?: string | undefined;
  } & FreshnessPolicy,
): Promise<VendedToken> {
  const { url, integration } = context;
  const method = context.body === undefined ? 'GET' : 'POST';
  const payload = context.body === undefined ? undefined : JSON.stringify(context.body);
  const headers = await context.signer.sign(
    method,
    url,
    {
      accept: 'application/json',
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...(context.rejected === undefined ? {} : { [REJECTED_TOKEN_HEADER]: context.rejected }),
    },
    payload,
  );
  let response: Response;
  try {
    response = await context.fetch(url, {
      method,
      headers,
      body: payload,
      signal: AbortSignal.timeout(context.timeoutMs),
    });
  } catch (error) {
    throw new UnavailableError(`tokenvend could not be reached (${integration}): ${(error as Error).name}`, {
      code: 'network_error',
      status: 0,
      integration,
      cause: error,
    });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const receivedAtMs = context.nowMs();
  if (response.status !== 200) {
    throw errorFromAnswer(
      { status: response.status, retryAfter: response.headers.get('retry-after'), body },
      { integration, nowMs: receivedAtMs },
    );
  }
  return readVendAnswer(body, {
    integration,
    receivedAtMs,
    apiBaseUrl: context.apiBaseUrl,
    refreshMarginSeconds: context.refreshMarginSeconds,
    noExpiryCacheSeconds: context.noExpiryCacheSeconds,
  });
}
