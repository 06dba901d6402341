/** Refuses request bodies over a size before anything parses them (413). */
import { InvalidRequestError } from '../../core/errors.js';
import type { HttpMiddleware } from './types.js';

export function bodyLimit(maxBytes: number): HttpMiddleware {
  return {
    name: 'bodyLimit',
    before: (request) => {
      const body = request.event.body;
      if (body === undefined) return;
      const bytes = request.event.isBase64Encoded
        ? Math.floor((body.length * 3) / 4)
        : Buffer.byteLength(body);
      if (bytes > maxBytes) {
        throw new InvalidRequestError(`request body is larger than ${maxBytes} bytes`, { status: 413 });
      }
    },
  };
}
