/** Ties the container's log lines to the Lambda invocation (Powertools `addContext`: request id, function). */
import type { AppLogger } from '../runtime/app.js';
import type { HttpMiddleware } from './types.js';

export function requestContext(logger: AppLogger): HttpMiddleware {
  return {
    name: 'requestContext',
    before: (request) => {
      logger.addContext?.(request.context);
    },
  };
}
