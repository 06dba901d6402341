/**
 * The return-URL allow-list (RFC 9700 §4.11: no open redirectors). An entry is either an exact origin
 * (`https://app.example.com`, any path on it) or a URL prefix ending in `/` (`https://crm.example.com/agent/`).
 */
import { InvalidRequestError } from '../errors.js';

export function isAllowedReturnUrl(candidate: string, allowList: readonly string[]): boolean {
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
  if (!isAllowedReturnUrl(candidate, allowList)) {
    throw new InvalidRequestError('return_to is not on the allow-list of return URLs');
  }
  return candidate;
}
