/**
 * What a person's browser sees on the browser routes (the OAuth callback and the SAML ACS): small HTML pages with
 * the answer's status, never JSON. An error page names our error code and says what happened in our own fixed
 * words; nothing from the request or the vendor reaches it except the vendor's error code when it is a short
 * token (security checklist 53): a vendor's `error_description`, a parameter name or any other free text could
 * be an attacker's message shown on our domain, or an echo of our secrets.
 */
import type { Context } from 'aws-lambda';
import { AuthorizationResponseError, ConfigError, TokenvendError, VendorError } from '../core/errors.js';
import type { BrowserFlowDeps } from '../core/flows/claim.js';
import { IdTokenRefusedError } from '../core/oauth/engine.js';
import { SamlTooLargeError, SamlValidationError } from '../core/saml/errors.js';
import type { HttpEvent, HttpResult } from './middleware/types.js';
import type { App } from './runtime/app.js';
import { resultPage } from './runtime/http.js';

export type BrowserFlow = 'connect' | 'saml';

const AGAIN = 'Go back to the app and try again.';
const LATER = 'The sign-in could not be completed; please try again later.';

/** Our words per error code; anything not listed gets the generic {@link LATER}. */
const WORDS: Record<BrowserFlow, Record<string, string>> = {
  connect: {
    invalid_request: `The sign-in could not be completed: the link is unknown, expired or already used, or the answer was not valid. ${AGAIN}`,
    access_denied: `The sign-in was declined or cancelled. ${AGAIN}`,
    invalid_grant: `The vendor did not accept the sign-in. ${AGAIN}`,
    unknown_integration: 'This sign-in link does not belong to this service.',
    not_found: 'This sign-in link does not belong to this service.',
    temporarily_unavailable: 'The vendor could not be reached; please try again later.',
  },
  saml: {
    invalid_request: `The single sign-on response was not accepted. ${AGAIN}`,
    invalid_grant: `The vendor did not accept the single sign-on. ${AGAIN}`,
    unknown_integration: 'This address does not accept single sign-on.',
    not_found: 'This address does not accept single sign-on.',
    temporarily_unavailable: 'The vendor could not be reached; please try again later.',
  },
};

/** A vendor's error code as a page may show it: a short token, else nothing. */
const SHOWN_VENDOR_CODE = /^[A-Za-z0-9_.-]{1,40}$/;

function vendorCodeOf(error: TokenvendError): string | undefined {
  const code =
    error instanceof AuthorizationResponseError || error instanceof VendorError
      ? error.vendorError
      : undefined;
  return code !== undefined && SHOWN_VENDOR_CODE.test(code) ? code : undefined;
}

/** The error page for `code` (our own code) with `status`; `detail` replaces the generic words when given. */
export function errorPage(status: number, code: string, flow: BrowserFlow, detail?: string): HttpResult {
  const safeCode = /^[a-z_]{1,40}$/.test(code) ? code : 'server_error';
  const words = detail ?? WORDS[flow][safeCode] ?? LATER;
  return resultPage(
    status,
    flow === 'saml' ? 'Sign-in failed' : 'Connection failed',
    `${safeCode}: ${words}`,
  );
}

/**
 * A thrown error as a page. SAML and ID token check failures name the check (fixed words per check, never a
 * value from the document or the token); a vendor's short error code is added; everything else is our words
 * per code.
 * Untyped errors are rethrown for the JSON error middleware (then {@link browserRoute} turns it into a page).
 */
export function flowErrorPage(app: App, error: unknown, flow: BrowserFlow): HttpResult {
  if (!(error instanceof TokenvendError)) throw error;
  app.audit?.note({ outcome: error.error });
  if (!error.expose) app.logger.error('request failed', { errorType: error.name, error: error.error });
  const saml = error instanceof SamlValidationError || error instanceof SamlTooLargeError;
  const vendor = vendorCodeOf(error);
  const words = saml
    ? `${error.message}. ${AGAIN}`
    : error instanceof IdTokenRefusedError
      ? `The vendor's sign-in answer was refused (ID token check: ${error.check}). ${AGAIN}`
      : vendor
        ? `${WORDS[flow][error.error] ?? LATER} (Vendor error code: ${vendor}.)`
        : undefined;
  const page = errorPage(error.status, error.error, flow, words);
  const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
  if (retryAfter !== undefined) page.headers = { ...page.headers, 'retry-after': String(retryAfter) };
  return page;
}

type Lambda = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/**
 * Wraps a browser route's handler so that the JSON errors the shared middleware answers (body limit, unexpected
 * failures, a failed cold start) become pages too, with the same status and headers; only the `error` code of
 * the JSON survives.
 */
export function browserRoute(flow: BrowserFlow, lambda: Lambda): Lambda {
  return async (event, context) => {
    const result = await lambda(event, context);
    const status = result.statusCode ?? 200;
    const type = String(result.headers?.['content-type'] ?? '');
    if (status < 400 || !type.startsWith('application/json')) return result;
    let code = 'server_error';
    try {
      const body = JSON.parse(result.body ?? '') as { error?: unknown };
      if (typeof body.error === 'string') code = body.error;
    } catch {
      // not JSON after all: the generic page
    }
    const page = errorPage(status, code, flow);
    return { ...result, headers: { ...result.headers, ...page.headers }, body: page.body };
  };
}

/** The flows' dependencies plus the parked-connection store the connect callback and the claim need. */
export function browserFlowDeps(app: App): BrowserFlowDeps {
  if (!app.parked) throw new ConfigError('this app has no parked-connection store');
  return { ...app.flows, parked: app.parked };
}
