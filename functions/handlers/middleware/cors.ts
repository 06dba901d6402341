/**
 * CORS for configured origins only: the allowed origin is echoed back, anything else gets no CORS headers.
 * Preflight requests are answered here (API Gateway may answer them first in AWS; this keeps local mode equal).
 */
import { applyNoStore } from './no-store.js';
import { type HttpMiddleware, type HttpResult, header } from './types.js';

export interface CorsOptions {
  origins: readonly string[];
  methods?: readonly string[];
  /** Request headers a preflight allows besides `authorization, content-type, x-tokenvend-rejected`. */
  headers?: readonly string[];
}

export function cors(options: CorsOptions): HttpMiddleware {
  const allowed = new Set(options.origins.map((o) => new URL(o).origin));
  const methods = (options.methods ?? ['GET', 'POST', 'DELETE']).join(', ');
  const allowHeaders = [
    'authorization',
    'content-type',
    'x-tokenvend-rejected',
    ...(options.headers ?? []),
  ].join(', ');
  const headersFor = (origin: string | undefined): Record<string, string> =>
    origin && allowed.has(origin)
      ? { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-allow-credentials': 'false' }
      : { vary: 'Origin' };
  const apply = (response: HttpResult | null | undefined, origin: string | undefined) => {
    if (response) response.headers = { ...response.headers, ...headersFor(origin) };
  };
  return {
    name: 'cors',
    before: (request) => {
      if (request.event.requestContext.http.method !== 'OPTIONS') return;
      const origin = header(request.event, 'origin');
      const preflight: HttpResult = {
        statusCode: 204,
        headers:
          origin && allowed.has(origin)
            ? {
                ...headersFor(origin),
                'access-control-allow-methods': methods,
                'access-control-allow-headers': allowHeaders,
                'access-control-max-age': '600',
              }
            : headersFor(origin),
      };
      // An early answer skips every `after` hook, the noStore middleware's included.
      applyNoStore(preflight);
      return preflight;
    },
    after: (request) => apply(request.response, header(request.event, 'origin')),
    onError: (request) => apply(request.response, header(request.event, 'origin')),
  };
}
