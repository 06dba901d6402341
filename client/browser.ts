/**
 * `tokenvend/browser`: the frontend helper, one ES module without dependencies (dist/client/browser.js).
 *
 * ```js
 * import { createTokenVendBrowser } from './tokenvend-browser.js';
 * const tokenvend = createTokenVendBrowser({ baseUrl: 'https://tokens.example.com', getToken: () => auth.jwt() });
 * const result = await tokenvend.vend('genesys-eu');
 * if (result.status === 'ok') call(result.token.authorization);
 * else await tokenvend.connect('genesys-eu', { returnTo: `${location.origin}/connected` }); // opens the vendor login
 * ```
 *
 * The return page (`returnTo`, same origin) calls `completeConnect()`. docs/client.md has the whole story.
 */
import { type ConnectHint, errorFromAnswer, TokenVendError, UnavailableError } from './errors.js';
import {
  type FreshnessPolicy,
  REJECTED_TOKEN_HEADER,
  readVendAnswer,
  rejectedTokenHash,
  TokenCache,
  type VendedToken,
} from './token.js';
import { type FetchFunction, vendorFetchWith } from './vendor-fetch.js';

export * from './errors.js';
export type { FreshnessPolicy, TokenAuthorization, VendedToken } from './token.js';

export interface TokenVendBrowserOptions extends FreshnessPolicy {
  /** The tokenvend API (`https://tokens.example.com`); the app's origin must be in the deployment's `corsOrigins`. */
  baseUrl: string;
  /** The signed-in user's JWT (from your identity provider's SDK); called for every request to tokenvend. */
  getToken: () => string | Promise<string>;
  /** Vendor API base URL per integration, for relative URLs in `vendorFetch`. */
  vendorApiBaseUrls?: Readonly<Record<string, string>> | undefined;
  fetch?: FetchFunction | undefined;
  /** Epoch milliseconds; for tests. */
  now?: (() => number) | undefined;
}

/** What `vend` answers: the token, or why there is none and how to connect. */
export type VendResult =
  | { status: 'ok'; integration: string; token: VendedToken }
  | { status: 'not_connected'; integration: string; message: string; connect: ConnectHint }
  | {
      status: 'needs_reauth';
      integration: string;
      message: string;
      /** `invalid_grant`, `expired` or `refresh_token_expired`. */
      reason: string | undefined;
      connect: ConnectHint;
    };

/** How `connect` ended. */
export type ConnectResult =
  | { status: 'connected'; integration: string }
  /** The user closed the login window, or did not finish before the flow expired (10 minutes). */
  | { status: 'cancelled'; integration: string }
  /** The claim was refused: `invalid_grant` (unknown, used or expired code), `access_denied` (another user started it). */
  | { status: 'failed'; integration: string; error: string; message: string };

/** What `completeConnect` did on the return page. */
export type CompleteResult =
  | ConnectResult
  /** In the login popup: the code went to the opening page (which claims it), and the popup closes. */
  | { status: 'handed_over'; integration: string };

export interface ConnectOptions {
  /** The app's return page: on the deployment's `returnUrls`, same origin as this page, calling `completeConnect()`. */
  returnTo: string;
  /** `popup` (default): a login window, the promise resolves when done; `redirect`: this page goes to the vendor. */
  mode?: 'popup' | 'redirect';
  /** `window.open` features of the popup. Default: a centred 520x680 window. */
  popupFeatures?: string;
}

export interface TokenVendBrowser {
  /** The user's fresh token for `integration` (cached until the refresh margin), or a typed result saying why not. */
  vend(integration: string): Promise<VendResult>;
  /**
   * Connects the user's vendor account: `POST /connect` with `returnTo`, the vendor login in a popup (or this
   * page), and the claim of the finished flow with the user's JWT. Call it from a click handler (popup blockers).
   */
  connect(integration: string, options: ConnectOptions): Promise<ConnectResult>;
  /**
   * On the return page: takes the claim code off the address bar and finishes the flow: in a popup it hands the
   * code to the opening page (same origin) and closes the window; after a redirect it claims here.
   * Answers undefined when the page was not opened by a connect flow.
   */
  completeConnect(): Promise<CompleteResult | undefined>;
  /** `fetch` at the vendor with the user's token applied; one renewal and retry after a vendor 401. */
  vendorFetch(integration: string, input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Forgets cached tokens (all, or one integration's). */
  invalidate(integration?: string): void;
}

/** The parts of `window` the helper uses (typed here so the module needs no DOM typings). */
interface MessageEventLike {
  origin: string;
  source: unknown;
  data: unknown;
}
interface WindowLike {
  location: {
    origin: string;
    href: string;
    search: string;
    pathname: string;
    hash: string;
    assign(url: string): void;
  };
  history: { replaceState(data: unknown, unused: string, url?: string): void };
  opener: WindowLike | null;
  closed: boolean;
  screenX: number;
  screenY: number;
  outerWidth: number;
  outerHeight: number;
  open(url: string, target: string, features?: string): WindowLike | null;
  close(): void;
  postMessage(message: unknown, targetOrigin: string): void;
  addEventListener(type: 'message', listener: (event: MessageEventLike) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEventLike) => void): void;
}

const win = () => globalThis as unknown as WindowLike;
const MESSAGE = 'tokenvend:claim';
const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;
const POLL_MS = 400;

function checkId(value: unknown): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new TypeError(
      `tokenvend: integration must be an id of lowercase letters, digits and dashes (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

function checkBase(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(
      `createTokenVendBrowser: baseUrl must be an absolute URL (got ${JSON.stringify(value)})`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    throw new TypeError('createTokenVendBrowser: baseUrl must be https:// (http:// only on loopback)');
  }
  return url;
}

function route(base: URL, ...segments: string[]): string {
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}/${segments.map(encodeURIComponent).join('/')}`;
}

export function createTokenVendBrowser(options: TokenVendBrowserOptions): TokenVendBrowser {
  const base = checkBase(options.baseUrl);
  const fetchFn: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const nowMs = options.now ?? Date.now;
  const cache = new TokenCache(nowMs);
  const vendorBases = options.vendorApiBaseUrls ?? {};

  /** A call to tokenvend with the user's JWT; non-2xx answers become the typed error. */
  async function call(
    method: 'GET' | 'POST',
    url: string,
    integration: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<unknown> {
    const jwt = await options.getToken();
    const headers: Record<string, string> = {
      ...extraHeaders,
      authorization: `Bearer ${jwt}`,
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetchFn(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new UnavailableError(`tokenvend could not be reached (${integration})`, {
        code: 'network_error',
        status: 0,
        integration,
        cause: error,
      });
    }
    let parsed: unknown;
    try {
      parsed = await response.json();
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      throw errorFromAnswer(
        { status: response.status, retryAfter: response.headers.get('retry-after'), body: parsed },
        { integration, nowMs: nowMs() },
      );
    }
    return parsed;
  }

  const load = (integration: string, rejected?: string) => async (): Promise<VendedToken> => {
    const extra: Record<string, string> = rejected === undefined ? {} : { [REJECTED_TOKEN_HEADER]: rejected };
    const body = await call('GET', route(base, 'vend', integration), integration, undefined, extra);
    return readVendAnswer(body, {
      integration,
      receivedAtMs: nowMs(),
      apiBaseUrl: Object.hasOwn(vendorBases, integration) ? vendorBases[integration] : undefined,
      refreshMarginSeconds: options.refreshMarginSeconds,
      noExpiryCacheSeconds: options.noExpiryCacheSeconds,
    });
  };
  const token = (integration: string) => cache.get(integration, load(integration));

  async function vend(integration: string): Promise<VendResult> {
    const id = checkId(integration);
    try {
      return { status: 'ok', integration: id, token: await token(id) };
    } catch (error) {
      if (error instanceof TokenVendError && error.code === 'not_connected') {
        const connect = (error as TokenVendError & { connect: ConnectHint }).connect;
        return { status: 'not_connected', integration: id, message: error.message, connect };
      }
      if (error instanceof TokenVendError && error.code === 'needs_reauth') {
        const e = error as TokenVendError & { connect: ConnectHint; reason: string | undefined };
        return {
          status: 'needs_reauth',
          integration: id,
          message: e.message,
          reason: e.reason,
          connect: e.connect,
        };
      }
      throw error;
    }
  }

  async function claim(integration: string, code: string): Promise<ConnectResult> {
    try {
      await call('POST', route(base, 'connect', integration, 'claim'), integration, { claim: code });
    } catch (error) {
      if (
        error instanceof TokenVendError &&
        (error.code === 'invalid_grant' || error.code === 'access_denied')
      ) {
        return { status: 'failed', integration, error: error.code, message: error.message };
      }
      throw error;
    }
    cache.drop(integration);
    return { status: 'connected', integration };
  }

  function popupFeatures(w: WindowLike): string {
    const width = 520;
    const height = 680;
    const left = Math.max(0, w.screenX + (w.outerWidth - width) / 2);
    const top = Math.max(0, w.screenY + (w.outerHeight - height) / 2);
    return `popup,width=${width},height=${height},left=${Math.round(left)},top=${Math.round(top)}`;
  }

  async function connect(integration: string, connectOptions: ConnectOptions): Promise<ConnectResult> {
    const id = checkId(integration);
    const w = win();
    const returnTo = new URL(connectOptions.returnTo, w.location.href);
    const popupMode = (connectOptions.mode ?? 'popup') === 'popup';
    if (popupMode && returnTo.origin !== w.location.origin) {
      throw new TypeError(
        "tokenvend.connect: a popup needs a returnTo on this page's origin (it hands the claim code back here)",
      );
    }
    // Opened before any await, so the click that called connect() still counts for the popup blocker.
    const popup = popupMode
      ? w.open('about:blank', `tokenvend-${id}`, connectOptions.popupFeatures ?? popupFeatures(w))
      : null;
    if (popupMode && !popup) {
      throw new TokenVendError(
        'the login window was blocked: call connect() from a click handler, or use mode: "redirect"',
        {
          code: 'popup_blocked',
          status: 0,
          integration: id,
        },
      );
    }
    let started: { authorize_url?: unknown; expires_at?: unknown };
    try {
      started = (await call('POST', route(base, 'connect', id), id, {
        return_to: returnTo.toString(),
      })) as typeof started;
      if (typeof started?.authorize_url !== 'string') {
        throw new TokenVendError(`tokenvend's connect answer for ${id} has no authorize_url`, {
          code: 'invalid_response',
          status: 200,
          integration: id,
        });
      }
    } catch (error) {
      popup?.close();
      throw error;
    }
    if (!popup) {
      w.location.assign(started.authorize_url);
      // The page is leaving for the vendor; completeConnect() on the return page finishes the flow.
      return new Promise<ConnectResult>(() => undefined);
    }
    popup.location.assign(started.authorize_url);
    const deadline =
      typeof started.expires_at === 'number' ? started.expires_at * 1000 : nowMs() + 10 * 60_000;
    const code = await new Promise<string | undefined>((resolve) => {
      const finish = (value: string | undefined) => {
        w.removeEventListener('message', onMessage);
        clearInterval(timer);
        resolve(value);
      };
      const onMessage = (event: MessageEventLike) => {
        const data = event.data as { type?: unknown; integration?: unknown; claim?: unknown } | null;
        if (event.origin !== w.location.origin || event.source !== popup) return;
        if (!data || data.type !== MESSAGE || data.integration !== id || typeof data.claim !== 'string')
          return;
        finish(data.claim);
      };
      const timer = setInterval(() => {
        if (popup.closed || nowMs() > deadline) finish(undefined);
      }, POLL_MS);
      w.addEventListener('message', onMessage);
    });
    if (!popup.closed) popup.close();
    if (code === undefined) return { status: 'cancelled', integration: id };
    return claim(id, code);
  }

  async function completeConnect(): Promise<CompleteResult | undefined> {
    const w = win();
    const params = new URLSearchParams(w.location.search);
    const code = params.get('claim');
    const integration = params.get('integration');
    if (code === null || integration === null || !ID.test(integration)) return undefined;
    // The code leaves the address bar (and the history) before anything else happens.
    params.delete('claim');
    params.delete('integration');
    const rest = params.toString();
    w.history.replaceState(null, '', `${w.location.pathname}${rest ? `?${rest}` : ''}${w.location.hash}`);
    const opener = w.opener;
    let sameOrigin = false;
    try {
      sameOrigin = opener !== null && !opener.closed && opener.location.origin === w.location.origin;
    } catch {
      sameOrigin = false; // another origin's window: not ours to talk to
    }
    if (opener && sameOrigin) {
      opener.postMessage({ type: MESSAGE, integration, claim: code }, w.location.origin);
      w.close();
      return { status: 'handed_over', integration };
    }
    return claim(integration, code);
  }

  return {
    vend,
    connect,
    completeConnect,
    async vendorFetch(integration, input, init) {
      const id = checkId(integration);
      return vendorFetchWith(
        {
          fetch: fetchFn,
          token: () => token(id),
          renew: async (rejected) => {
            cache.drop(id, rejected.accessToken);
            // Naming the refused token makes tokenvend refresh it rather than hand it back.
            return cache.get(id, load(id, await rejectedTokenHash(rejected.accessToken)));
          },
        },
        input,
        init,
      );
    },
    invalidate(integration) {
      if (integration === undefined) cache.clear();
      else cache.drop(integration);
    },
  };
}
