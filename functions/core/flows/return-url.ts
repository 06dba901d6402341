/**
 * The return-URL allow-list (RFC 9700 §4.11: no open redirectors). An entry is either an exact origin
 * (`https://app.example.com`, any path on it) or a URL prefix ending in `/` (`https://crm.example.com/agent/`).
 */
import { InvalidRequestError } from '../errors.js';

/** Longest return URL (or SAML RelayState) accepted: it is stored with the flow and echoed in a redirect. */
export const MAX_RETURN_URL_LENGTH = 2048;

export function isAllowedReturnUrl(candidate: string, allowList: readonly string[]): boolean {
  if (candidate.length > MAX_RETURN_URL_LENGTH) return false;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  return allowList.some((entry) => {
    const allowed = new URL(entry);
    if (allowed.origin !== url.origin) return false;
    if (allowed.pathname === '/' && !entry.endsWith('/') && allowed.search === '') return true;
    return entry.endsWith('/') ? url.pathname.startsWith(allowed.pathname) : url.href === allowed.href;
  });
}

/** Returns `candidate` when allowed; throws a 400 naming the problem (never redirects elsewhere). */
export function checkReturnUrl(
  candidate: string | undefined,
  allowList: readonly string[],
): string | undefined {
  if (candidate === undefined || candidate === '') return undefined;
  if (candidate.length > MAX_RETURN_URL_LENGTH) {
    throw new InvalidRequestError(`return_to is longer than ${MAX_RETURN_URL_LENGTH} characters`);
  }
  if (!isAllowedReturnUrl(candidate, allowList)) {
    throw new InvalidRequestError('return_to is not on the allow-list of return URLs');
  }
  return candidate;
}
