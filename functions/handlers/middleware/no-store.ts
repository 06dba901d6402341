/** Every answer may carry a token or a decision about one: never cache it (RFC 6749 §5.1). */
import type { HttpMiddleware, HttpResult } from './types.js';

/** Also used by answers given early from a `before` hook (CORS preflights), which skip every `after`. */
export function applyNoStore(response: HttpResult | null | undefined): void {
  if (!response) return;
  response.headers = {
    ...response.headers,
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

export function noStore(): HttpMiddleware {
  return {
    name: 'noStore',
    after: (request) => applyNoStore(request.response),
    onError: (request) => applyNoStore(request.response),
  };
}
