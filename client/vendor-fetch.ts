/**
 * Calling a vendor API with a vended token applied the way the API's `authorization` says (a header such as
 * `Authorization: Bearer ...`, `X-Api-Token: ...`, Basic credentials, or a query parameter), relative URLs
 * resolved against the vendor API's base URL, and one retry with a newly vended token after a vendor 401.
 * Shared by the service client and the browser helper; no dependencies.
 */
import type { TokenAuthorization, VendedToken } from './token.js';

export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface VendorFetchDeps {
  fetch: FetchFunction;
  /** The token to use: the cached one while fresh, else a newly vended one. */
  token(): Promise<VendedToken>;
  /** Forgets `rejected` (when it is still the cached token) and vends again. */
  renew(rejected: VendedToken): Promise<VendedToken>;
  /**
   * Follow redirects here rather than in `fetch` (Node): the token goes only to the origin it was meant for, a
   * redirect to another origin is followed without it (fetch itself would carry a custom header such as
   * `X-Api-Token` along). Browsers cannot read a redirect's Location, so the browser helper leaves it to fetch.
   */
  followRedirects?: boolean;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/** The vendor URL of a call: absolute as given, or relative to the token's API base URL. */
export function vendorUrl(input: string | URL, token: VendedToken): URL {
  const base = token.apiBaseUrl;
  let url: URL;
  if (input instanceof URL || /^[a-z][a-z0-9+.-]*:/i.test(input)) {
    url = new URL(input);
  } else if (base === undefined) {
    throw new TypeError(
      `vendorFetch(${token.integration}): "${input}" is relative, and no API base URL is known for ${token.integration}: pass an absolute URL, or set vendorApiBaseUrls.${token.integration}`,
    );
  } else {
    // `/v2/users` keeps the base's path: https://api.example.com/api + /v2/users -> .../api/v2/users.
    const root = base.endsWith('/') ? base : `${base}/`;
    url = new URL(input.replace(/^\/+/, ''), root);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    throw new TypeError(
      `vendorFetch(${token.integration}): tokens are sent over https only (got ${url.protocol}//${url.host})`,
    );
  }
  if (base !== undefined && new URL(base).origin !== url.origin) {
    throw new TypeError(
      `vendorFetch(${token.integration}): ${url.origin} is not the vendor API (${new URL(base).origin}); the token is not sent elsewhere`,
    );
  }
  return url;
}

/** `url` and `headers` with the token applied (the header or query parameter replaced if already there). */
export function applyAuthorization(
  authorization: TokenAuthorization,
  url: URL,
  headers: Headers,
): { url: URL; headers: Headers } {
  const nextUrl = new URL(url);
  const nextHeaders = new Headers(headers);
  if ('header' in authorization) nextHeaders.set(authorization.header, authorization.value);
  else nextUrl.searchParams.set(authorization.query, authorization.value);
  return { url: nextUrl, headers: nextHeaders };
}

type Body = RequestInit['body'];

/** Whether a body can be sent twice (a stream cannot). */
function replayable(body: Body): boolean {
  return !(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream);
}

/**
 * `fetch` at the vendor with the token applied. On a 401 the token is renewed once (the cached one dropped, the
 * API asked again) and, when that gives another token, the call is repeated once with it; otherwise the 401 is
 * returned as it came. Request objects are read once up front (their body buffered) so the retry can resend them.
 */
export async function vendorFetchWith(
  deps: VendorFetchDeps,
  input: string | URL | Request,
  init: RequestInit = {},
): Promise<Response> {
  let target: string | URL;
  let request: RequestInit;
  if (typeof Request !== 'undefined' && input instanceof Request) {
    target = input.url;
    const body = input.body === null ? undefined : await input.arrayBuffer();
    request = {
      method: input.method,
      headers: input.headers,
      body,
      signal: input.signal,
      redirect: input.redirect,
      ...init,
    };
  } else {
    target = input as string | URL;
    request = init;
  }
  const send = async (token: VendedToken): Promise<Response> => {
    let url = vendorUrl(target, token);
    const origin = url.origin;
    let current: RequestInit = request;
    const manual = deps.followRedirects === true && (request.redirect ?? 'follow') === 'follow';
    for (let hops = 0; ; hops++) {
      let headers = new Headers(current.headers);
      let sendTo = url;
      if (url.origin === origin)
        ({ url: sendTo, headers } = applyAuthorization(token.authorization, url, headers));
      const response = await deps.fetch(sendTo, {
        ...current,
        headers,
        ...(manual ? { redirect: 'manual' as const } : {}),
      });
      const location = response.headers.get('location');
      if (!manual || !REDIRECTS.has(response.status) || location === null || hops >= MAX_REDIRECTS) {
        return response;
      }
      await response.body?.cancel().catch(() => undefined);
      url = new URL(location, url);
      const method = (current.method ?? 'GET').toUpperCase();
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method === 'POST')
      ) {
        current = { ...current, method: method === 'HEAD' ? 'HEAD' : 'GET', body: undefined };
      }
    }
  };
  const first = await deps.token();
  const response = await send(first);
  if (response.status !== 401 || !replayable(request.body)) return response;
  const renewed = await deps.renew(first);
  if (renewed.accessToken === first.accessToken) return response;
  await response.body?.cancel().catch(() => undefined);
  return send(renewed);
}
