/**
 * `GET|POST|PUT|PATCH|DELETE /proxy/{integration}/{path+}`: the caller's request, sent to the integration's vendor
 * API with the caller's own vendor token (core/flows/proxy.ts; docs/proxy.md). The caller authenticates with its
 * JWT as on `GET /vend/{integration}`; the vendor token never reaches it.
 */
import {
  MAX_PROXY_REQUEST_BYTES,
  PROXY_CORS_HEADERS,
  PROXY_METHODS,
  type ProxyResponse,
  proxyRequest,
} from '../core/flows/proxy.js';
import { type HttpEvent, header } from './middleware/types.js';
import { needsReauthAnswer } from './needs-reauth.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { pathParam } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

/** The greedy path parameter's name (`{path+}` in routes.ts; API Gateway names it without the `+`). */
const PROXY_PATH_PARAM = 'path';

function requestBody(event: HttpEvent): Buffer | undefined {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

const TEXTUAL =
  /^\s*(text\/[^;]+|application\/(?:[\w.+-]+\+)?(?:json|xml)|application\/(?:x-www-form-urlencoded|javascript))\s*(;|$)/i;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The vendor's body for the Lambda result: as text when it is textual UTF-8, else base64 (API Gateway decodes it). */
function resultBody(answer: ProxyResponse): { body: string; isBase64Encoded: boolean } {
  if (answer.body.byteLength === 0) return { body: '', isBase64Encoded: false };
  if (TEXTUAL.test(answer.headers['content-type'] ?? '')) {
    try {
      return { body: utf8.decode(answer.body), isBase64Encoded: false };
    } catch {
      // Not UTF-8 after all: base64 below keeps every byte.
    }
  }
  return { body: Buffer.from(answer.body).toString('base64'), isBase64Encoded: true };
}

export function createProxyHandler(getApp: AppProvider) {
  return httpHandler(
    getApp,
    async (app, event) => {
      const caller = await app.callers.verify(header(event, 'authorization'));
      const integration = pathParam(event, 'integration');
      const method = event.requestContext.http.method.toUpperCase();
      let status: number | undefined;
      let retried = false;
      try {
        const answer = await proxyRequest(app.flows, {
          integration,
          subject: caller.subject,
          method,
          path: pathParam(event, PROXY_PATH_PARAM),
          rawQuery: event.rawQueryString ?? '',
          headers: event.headers ?? {},
          body: requestBody(event),
        });
        status = answer.status;
        retried = answer.retried === true;
        return { statusCode: answer.status, headers: answer.headers, ...resultBody(answer) };
      } catch (error) {
        return needsReauthAnswer(error, integration);
      } finally {
        // No path, query or header: they may name the vendor's records; the method and status are enough to count.
        app.logger.info('proxied a vendor API request', {
          integration,
          method,
          vendorStatus: status,
          retried,
        });
      }
    },
    {
      maxBodyBytes: MAX_PROXY_REQUEST_BYTES,
      cors: { methods: PROXY_METHODS, headers: PROXY_CORS_HEADERS },
    },
  );
}

export const handler = createProxyHandler(awsApp);
