/** Every answer may carry a token or a decision about one: never cache it (RFC 6749 §5.1). */
import type { HttpMiddleware, HttpResult } from './types.js';

function apply(response: HttpResult | null | undefined): void {
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
    after: (request) => apply(request.response),
    onError: (request) => apply(request.response),
  };
}
