/**
 * Answers every error as OAuth-style JSON `{error, error_description}` with the error's status.
 * Typed errors below 500 are shown as they are (`expose`); anything else becomes a bland 500, and only its
 * class name is logged: messages of foreign errors are not trusted to be free of secrets.
 */
import { TokenvendError } from '../../core/errors.js';
import { type HttpMiddleware, json } from './types.js';

export interface ErrorLogger {
  error(message: string, details: Record<string, unknown>): void;
}

export function oauthErrors(options: { logger?: ErrorLogger } = {}): HttpMiddleware {
  return {
    name: 'oauthErrors',
    onError: (request) => {
      const error = request.error;
      if (!error) return;
      if (error instanceof TokenvendError) {
        const headers: Record<string, string> = {};
        if (error.status === 401) {
          const challenge = (error as { wwwAuthenticate?: string }).wwwAuthenticate;
          headers['www-authenticate'] = challenge ?? `Bearer realm="tokenvend", error="${error.error}"`;
        }
        const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
        if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
        if (!error.expose)
          options.logger?.error('request failed', { errorType: error.name, error: error.error });
        request.response = json(
          error.status,
          {
            error: error.error,
            error_description: error.expose ? error.message : 'the server could not complete the request',
          },
          headers,
        );
        return;
      }
      options.logger?.error('unexpected error', { errorType: error.name });
      request.response = json(500, {
        error: 'server_error',
        error_description: 'the server could not complete the request',
      });
    },
  };
}
