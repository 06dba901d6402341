/**
 * The vendor API proxy (issue 14): `/proxy/{integration}/{path+}` sends the caller's request to the
 * integration's API base URL (the template's `api.baseUrl`) with the caller's own vendor token applied the way
 * the template's `usage` says, so a frontend never holds a vendor token.
 *
 * What makes it safe to expose:
 * - The host is the template's, never the request's: the path is checked segment by segment
 *   ({@link checkProxyPath}), re-encoded, appended to the base path, and the joined URL must still be under the
 *   base (same origin, same path prefix) when `new URL` parses it.
 * - Only what the integration's `proxy.allow` lists (method + path prefix) is sent; anything else is a 403.
 * - Request headers are allow-listed ({@link FORWARDED_HEADERS} plus `proxy.forwardHeaders`); the caller's
 *   `Authorization`, cookies, `Host`, hop-by-hop fields (RFC 9110 §7.6.1) and fields named in `Connection` never
 *   reach the vendor. Response headers lose `Set-Cookie`, hop-by-hop and framing fields.
 * - Redirects are never followed (a vendor's 3xx is answered as it is).
 * - A vendor 401 on an idempotent method (RFC 9110 §9.2.2) names the refused token to the lifecycle
 *   (`getFreshToken(..., {rejected})`, the same single-flight refresh as `X-Tokenvend-Rejected` on a vend) and the
 *   request is retried once, only when that produced another token.
 * - Bodies are bounded: the request by `proxy.maxRequestBytes`, the answer by {@link MAX_PROXY_RESPONSE_BYTES},
 *   both within API Gateway's 10 MB payload and Lambda's 6 MB synchronous response once base64-encoded.
 */
import type { Integration } from '../config/deployment.js';
import { InvalidRequestError, TokenvendError, VendorUnavailableError } from '../errors.js';
import { accessTokenHash } from '../lifecycle/lifecycle.js';
import type { Authorization } from '../oauth/engine.js';
import type { FetchLike } from '../oauth/http.js';
import { type FlowDeps, integrationOf } from './deps.js';
import { type VendResult, vendFor } from './vend.js';

/** The methods the proxy routes (HEAD, OPTIONS and TRACE are not proxied; OPTIONS is the CORS preflight). */
export const PROXY_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type ProxyMethod = (typeof PROXY_METHODS)[number];

/** Idempotent methods (RFC 9110 §9.2.2) among {@link PROXY_METHODS}: only these are retried after a 401. */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'PUT', 'DELETE']);

/** Default request body cap. */
const DEFAULT_PROXY_REQUEST_BYTES = 1024 * 1024;
/**
 * Largest configurable request body: 4 MiB is 5.6 MB base64-encoded in the Lambda event, under Lambda's 6 MB
 * synchronous payload and API Gateway's 10 MB.
 */
export const MAX_PROXY_REQUEST_BYTES = 4 * 1024 * 1024;
/** The vendor's answer is passed on up to 4 MiB: base64 in the Lambda result stays under Lambda's 6 MB. */
const MAX_PROXY_RESPONSE_BYTES = 4 * 1024 * 1024;
const DEFAULT_PROXY_TIMEOUT_MS = 10_000;
/**
 * Longest configurable vendor timeout: two attempts and one refresh stay inside the proxy Lambda's 29 s and API
 * Gateway's 30 s integration timeout.
 */
export const MAX_PROXY_TIMEOUT_MS = 12_000;

/**
 * Request headers sent on to the vendor; everything else the caller sends is dropped. Content negotiation,
 * conditional requests (RFC 9110 §13), `Prefer` (RFC 7240) and idempotency keys: what an API client needs.
 */
const FORWARDED_HEADERS: readonly string[] = [
  'accept',
  'accept-language',
  'content-type',
  'content-language',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'prefer',
  'idempotency-key',
];

/**
 * The built-in forwarded headers a browser must name in a CORS preflight (the others are CORS-safelisted), so
 * the preflight answers (API Gateway's and the local runtime's) allow them.
 */
export const PROXY_CORS_HEADERS: readonly string[] = FORWARDED_HEADERS.filter(
  (name) => !['accept', 'accept-language', 'content-language', 'content-type'].includes(name),
);

/**
 * Header names `proxy.forwardHeaders` may never list: credentials and cookies, the target and framing, hop-by-hop
 * fields (RFC 9110 §7.6.1), proxy and forwarding fields, AWS's own and ours.
 */
const NEVER_FORWARDED: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'forwarded',
  'via',
  'accept-encoding',
];
/** Prefixes no forwarded header may have. */
const NEVER_FORWARDED_PREFIXES: readonly string[] = [
  'x-forwarded-',
  'x-amz-',
  'x-amzn-',
  'x-tokenvend-',
  'proxy-',
];

/** An RFC 9110 §5.1 field name. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

/** Whether a header name may be configured in `proxy.forwardHeaders`. */
export function isForwardableHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    HEADER_NAME.test(name) &&
    !NEVER_FORWARDED.includes(lower) &&
    !NEVER_FORWARDED_PREFIXES.some((prefix) => lower.startsWith(prefix))
  );
}

/**
 * Response headers never passed back: cookies (the vendor's session is not the caller's), hop-by-hop fields
 * (RFC 9110 §7.6.1), framing (the body is re-framed, and decoded when the vendor compressed it), CORS (ours
 * decides) and HSTS / Alt-Svc, which describe the vendor's host, not ours.
 */
const DROPPED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'set-cookie',
  'set-cookie2',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'content-encoding',
  'strict-transport-security',
  'alt-svc',
]);

/** The integration's `proxy` section, as validated at synth. */
export interface ProxyConfig {
  allow: ReadonlyArray<{ methods: readonly string[]; pathPrefix: string }>;
  forwardHeaders?: readonly string[] | undefined;
  maxRequestBytes?: number | undefined;
  timeoutMs?: number | undefined;
}

export interface ProxyRequest {
  integration: string;
  subject: string;
  method: string;
  /** The path below the base URL, as the router gives it: the greedy path parameter, percent-decoded once. */
  path: string;
  /** The query string as sent, without `?`. */
  rawQuery: string;
  /** The caller's request headers (any case). */
  headers: Readonly<Record<string, string | undefined>>;
  body?: Uint8Array | undefined;
}

export interface ProxyResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  /** Sent a second time, with a refreshed token, after a 401. */
  retried?: boolean;
}

/** A problem between us and the vendor, in our own words: shown to the caller whatever its status. */
export class ProxyUpstreamError extends TokenvendError {
  override get expose(): boolean {
    return true;
  }
}

const badPath = (why: string) => new InvalidRequestError(`the proxied path ${why}`);

/** Characters no path may hold once decoded: controls, DEL, backslash, and `%` (what is left of a double encoding). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const FORBIDDEN_IN_PATH = /[\u0000-\u001f\u007f\\%]/;

/**
 * Checks the path below the base URL (the greedy path parameter, which API Gateway and the local runtime hand over
 * percent-decoded once) and returns its segments. Refused with 400: empty paths, control characters, backslashes,
 * any `%` left after the decoding (a double-encoded `%2e`, `%2f` or `%5c`), `.` and `..` segments and empty
 * segments (a leading `/` or `//`, which also catches `//host` and `scheme://host` forms); one trailing `/` is
 * kept. A path the router hands over still encoded would have each `%XX` refused: safe either way.
 */
export function checkProxyPath(path: string): string[] {
  if (path === '') throw badPath('is empty');
  if (FORBIDDEN_IN_PATH.test(path)) {
    throw badPath('holds a control character, a backslash or an encoded character');
  }
  const segments = path.split('/');
  for (const [i, segment] of segments.entries()) {
    if (segment === '.' || segment === '..') throw badPath('holds a . or .. segment');
    if (segment === '' && i !== segments.length - 1) throw badPath('holds an empty segment (//)');
  }
  return segments;
}

/** Whether an allow-list prefix is a path the proxy could be asked for (`/` or a {@link checkProxyPath} path). */
export function isProxyPathPrefix(prefix: string): boolean {
  if (prefix === '/') return true;
  if (!prefix.startsWith('/')) return false;
  try {
    checkProxyPath(prefix.slice(1));
    return true;
  } catch {
    return false;
  }
}

/** RFC 3986 §3.3 `pchar`: what a path segment may hold unencoded. */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%(24|26|2B|2C|3B|3D|3A|40)/g, (m) => decodeURIComponent(m));
}

/** `/a/b` (segments joined, the decoded form the allow-list's prefixes are written in). */
export function displayPath(segments: readonly string[]): string {
  return `/${segments.join('/')}`;
}

/** Whether `path` is `prefix` or below it, segment-wise (`/users` covers `/users/7`, not `/users-admin`). */
export function underPrefix(path: string, prefix: string): boolean {
  if (prefix.endsWith('/')) return path.startsWith(prefix);
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** Whether the allow-list lets `method` at `path` through. */
export function allowedBy(config: ProxyConfig, method: string, path: string): boolean {
  return config.allow.some((rule) => rule.methods.includes(method) && underPrefix(path, rule.pathPrefix));
}

/** Query characters outside RFC 3986 §3.4 (and a `%` that starts no escape) are percent-encoded. */
function encodeQueryChars(text: string): string {
  return text.replace(/%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]/gu, (c) =>
    encodeURIComponent(c.isWellFormed() ? c : '\ufffd'),
  );
}

function queryName(pair: string): string {
  const name = pair.split('=', 1)[0] as string;
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    throw new InvalidRequestError('the query string is not valid percent-encoding');
  }
}

/**
 * The query string sent on: the caller's pairs as sent (characters outside RFC 3986's query set encoded), minus
 * any pair named like the template's token parameter, plus that parameter when the token goes in the query.
 */
export function forwardQuery(rawQuery: string, authorization: Authorization): string {
  const tokenParam = 'query' in authorization ? authorization.query : undefined;
  const pairs = rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .filter((pair) => tokenParam === undefined || queryName(pair) !== tokenParam)
    .map(encodeQueryChars);
  if (tokenParam !== undefined) {
    pairs.push(`${encodeURIComponent(tokenParam)}=${encodeURIComponent(authorization.value)}`);
  }
  return pairs.join('&');
}

/**
 * The vendor URL: the base URL's path, then the checked segments re-encoded, then the query. Parsed again with
 * `new URL`, it must keep the base's origin and stay under its path, without credentials or fragment.
 */
export function targetUrl(baseUrl: string, segments: readonly string[], query: string): URL {
  const base = new URL(baseUrl);
  const basePath = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  const url = new URL(
    `${base.origin}${basePath}${segments.map(encodeSegment).join('/')}${query ? `?${query}` : ''}`,
  );
  if (
    url.origin !== base.origin ||
    !url.pathname.startsWith(basePath) ||
    url.username !== '' ||
    url.password !== '' ||
    url.hash !== ''
  ) {
    throw badPath('does not stay under the API base URL');
  }
  return url;
}

function lowerCased(headers: Readonly<Record<string, string | undefined>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out.set(name.toLowerCase(), value);
  }
  return out;
}

/** Field names listed in `Connection` (RFC 9110 §7.6.1): hop-by-hop for this message, never forwarded. */
function connectionNamed(connection: string | undefined | null): Set<string> {
  return new Set(
    (connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== ''),
  );
}

/** The request headers sent on: the allow-list and `extra`, minus any field named in `Connection`. */
export function forwardedRequestHeaders(
  headers: Readonly<Record<string, string | undefined>>,
  extra: readonly string[] = [],
): Record<string, string> {
  const given = lowerCased(headers);
  const hopByHop = connectionNamed(given.get('connection'));
  const out: Record<string, string> = {};
  for (const name of [...FORWARDED_HEADERS, ...extra.map((n) => n.toLowerCase())]) {
    const value = given.get(name);
    if (value !== undefined && !hopByHop.has(name) && isForwardableHeader(name)) out[name] = value;
  }
  return out;
}

/** The vendor's response headers passed back (see {@link DROPPED_RESPONSE_HEADERS}). */
export function returnedResponseHeaders(headers: Headers): Record<string, string> {
  const hopByHop = connectionNamed(headers.get('connection'));
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (DROPPED_RESPONSE_HEADERS.has(lower) || hopByHop.has(lower) || lower.startsWith('access-control-')) {
      return;
    }
    out[lower] = value;
  });
  return out;
}

function tooLarge(): ProxyUpstreamError {
  return new ProxyUpstreamError(
    `the vendor's answer is larger than the proxy passes on (${MAX_PROXY_RESPONSE_BYTES} bytes)`,
    { error: 'response_too_large', status: 502 },
  );
}

/** The whole body, refused as soon as it passes the cap (a chunked body is measured while it is read). */
async function readBounded(response: Response): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_PROXY_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_PROXY_RESPONSE_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

interface Outgoing {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: Uint8Array | undefined;
}

async function sendOnce(
  request: Outgoing,
  options: { fetch: FetchLike; timeoutMs: number },
): Promise<ProxyResponse> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let response: Response;
  try {
    response = await options.fetch(request.url.toString(), {
      method: request.method,
      headers: request.headers,
      body: request.body?.byteLength ? (request.body as Uint8Array<ArrayBuffer>) : undefined,
      redirect: 'manual',
      signal,
    });
  } catch (e) {
    const timedOut = e instanceof DOMException && (e.name === 'TimeoutError' || e.name === 'AbortError');
    throw new VendorUnavailableError(
      timedOut
        ? `${request.url.host} did not answer within ${options.timeoutMs} ms`
        : `could not reach ${request.url.host}`,
      { error: 'temporarily_unavailable', status: 504, outcomeUnknown: true },
    );
  }
  let body: Uint8Array;
  try {
    body = await readBounded(response);
  } catch (e) {
    if (e instanceof ProxyUpstreamError) throw e;
    throw new VendorUnavailableError(`${request.url.host} did not finish its answer in time`, {
      error: 'temporarily_unavailable',
      status: 504,
      outcomeUnknown: true,
    });
  }
  return { status: response.status, headers: returnedResponseHeaders(response.headers), body };
}

function outgoing(
  request: ProxyRequest,
  token: VendResult,
  segments: readonly string[],
  headers: Record<string, string>,
): Outgoing {
  if (token.api_base_url === undefined) {
    throw new ProxyUpstreamError("this connection's API base URL is not known", {
      error: 'server_error',
      status: 502,
    });
  }
  const url = targetUrl(token.api_base_url, segments, forwardQuery(request.rawQuery, token.authorization));
  const withToken = { ...headers };
  if ('header' in token.authorization)
    withToken[token.authorization.header.toLowerCase()] = token.authorization.value;
  return { method: request.method, url, headers: withToken, body: request.body };
}

/** The checks that need no token: proxy configured, method and path allowed, body acceptable. */
function checkProxyRequest(
  integration: Integration,
  request: Pick<ProxyRequest, 'method' | 'path' | 'headers' | 'body'>,
): { config: ProxyConfig; segments: string[] } {
  const config = integration.config.proxy as ProxyConfig | undefined;
  if (!config) {
    throw new InvalidRequestError('this integration has no API proxy', { status: 404, error: 'not_found' });
  }
  if (!(PROXY_METHODS as readonly string[]).includes(request.method)) {
    throw new InvalidRequestError('the proxy does not forward this method', {
      status: 405,
      error: 'method_not_allowed',
    });
  }
  const segments = checkProxyPath(request.path);
  if (!allowedBy(config, request.method, displayPath(segments))) {
    throw new InvalidRequestError("this request is not on the integration's proxy allow-list", {
      status: 403,
      error: 'access_denied',
    });
  }
  const size = request.body?.byteLength ?? 0;
  const limit = config.maxRequestBytes ?? DEFAULT_PROXY_REQUEST_BYTES;
  if (size > limit) {
    throw new InvalidRequestError(`request body is larger than ${limit} bytes`, { status: 413 });
  }
  if (size > 0) {
    if (request.method === 'GET') throw new InvalidRequestError('a GET request has no body');
    if (lowerCased(request.headers).get('content-type') === undefined) {
      throw new InvalidRequestError('a request body needs a Content-Type', { status: 415 });
    }
  }
  return { config, segments };
}

/**
 * Sends the caller's request to the vendor with the caller's token and answers with the vendor's status, headers
 * (filtered) and body. On a 401 to an idempotent method the refused token is named to the lifecycle and, when that
 * yields another token, the request is sent once more; a 401 to POST or PATCH is passed on (the vendor may have
 * acted on it), as are 429 and `Retry-After`.
 */
export async function proxyRequest(deps: FlowDeps, request: ProxyRequest): Promise<ProxyResponse> {
  const integration = await integrationOf(deps, request.integration);
  const { config, segments } = checkProxyRequest(integration, request);
  const headers = forwardedRequestHeaders(request.headers, config.forwardHeaders);
  const send = { fetch: deps.fetch, timeoutMs: config.timeoutMs ?? DEFAULT_PROXY_TIMEOUT_MS };
  const token = await vendFor(deps, integration, request.subject);
  const first = await sendOnce(outgoing(request, token, segments, headers), send);
  if (first.status !== 401 || !IDEMPOTENT.has(request.method)) return first;
  const rejected = await accessTokenHash(token.access_token);
  const fresh = await vendFor(deps, integration, request.subject, { rejected });
  // The same token back: too young to count as refused (the lifecycle's minimum age), so no second try.
  if (fresh.access_token === token.access_token) return first;
  return { ...(await sendOnce(outgoing(request, fresh, segments, headers), send)), retried: true };
}
