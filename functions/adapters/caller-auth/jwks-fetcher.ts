/**
 * The JWKS fetcher handed to aws-jwt-verify's SimpleJwksCache. It adds three things the library leaves open:
 * - `http://` only for loopback hosts and only when local mode asks for it (the library's own fetcher
 *   speaks https only, which is what production keeps);
 * - a failed fetch (endpoint down, non-200, not a JWKS) also enters the library's penalty box, so an issuer
 *   whose JWKS is down is asked at most once per wait period instead of once per request;
 * - it remembers whether the last fetch of each URI failed, so the verifier can tell "JWKS unavailable"
 *   (503) from "unknown kid" (401) when the penalty box refuses to fetch.
 */
import { FetchError, JwksValidationError, NonRetryableFetchError } from 'aws-jwt-verify/error';
import { type Fetcher, SimpleFetcher } from 'aws-jwt-verify/https';
import { assertIsJwks, type PenaltyBox } from 'aws-jwt-verify/jwk';
import { safeJsonParse } from 'aws-jwt-verify/safe-json-parse';
import { loopbackHosts } from './trusted-callers.js';

/** Per-request limit for loopback JWKS fetches, matching the library's https response timeout. */
const loopbackTimeoutMs = 3000;

export interface GuardedJwksFetcherOptions {
  penaltyBox: PenaltyBox;
  allowInsecureLoopback: boolean;
  /** Replaces the transport (both https and allowed loopback http). */
  inner?: Fetcher | undefined;
}

export class GuardedJwksFetcher implements Fetcher {
  readonly #penaltyBox: PenaltyBox;
  readonly #allowInsecureLoopback: boolean;
  readonly #inner: Fetcher | undefined;
  readonly #https = new SimpleFetcher();
  readonly #failing = new Set<string>();

  constructor(options: GuardedJwksFetcherOptions) {
    this.#penaltyBox = options.penaltyBox;
    this.#allowInsecureLoopback = options.allowInsecureLoopback;
    this.#inner = options.inner;
  }

  /** True when the most recent fetch of `uri` failed (and no later one succeeded). */
  lastFetchFailed(uri: string): boolean {
    return this.#failing.has(uri);
  }

  fetch = async (uri: string): Promise<ArrayBuffer> => {
    let body: ArrayBuffer;
    try {
      body = await this.#transport(uri);
      parseJwksBody(body);
    } catch (e) {
      this.#failing.add(uri);
      // The simple penalty box is keyed by URI alone: the kid argument is irrelevant here.
      this.#penaltyBox.registerFailedAttempt(uri, '');
      throw e instanceof FetchError || e instanceof JwksValidationError
        ? e
        : new FetchError(uri, (e as Error).message);
    }
    this.#failing.delete(uri);
    return body;
  };

  #transport(uri: string): Promise<ArrayBuffer> {
    const url = new URL(uri);
    if (url.protocol === 'https:') return (this.#inner ?? this.#https).fetch(uri);
    if (url.protocol === 'http:' && this.#allowInsecureLoopback && loopbackHosts.has(url.hostname)) {
      return this.#inner ? this.#inner.fetch(uri) : fetchLoopback(uri);
    }
    return Promise.reject(new NonRetryableFetchError(uri, 'JWKS URI must use https'));
  }
}

async function fetchLoopback(uri: string): Promise<ArrayBuffer> {
  const response = await fetch(uri, { redirect: 'error', signal: AbortSignal.timeout(loopbackTimeoutMs) });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
  }
  return response.arrayBuffer();
}

/** Same checks as the library's parser, run here so a garbage JWKS counts as a failed fetch. */
function parseJwksBody(body: ArrayBuffer): void {
  let json: ReturnType<typeof safeJsonParse>;
  try {
    json = safeJsonParse(new TextDecoder('utf8', { fatal: true, ignoreBOM: true }).decode(body));
  } catch {
    throw new JwksValidationError('JWKS could not be parsed as JSON');
  }
  assertIsJwks(json);
}
