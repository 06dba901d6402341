/**
 * `POST /oauth2/token`: OAuth 2.0 Token Exchange (RFC 8693). A caller sends its own user JWT as `subject_token`
 * and gets its vendor access token for the integration named by `audience` or `resource`, through the same
 * lifecycle as `GET /vend/{integration}` (core/flows/token-exchange.ts). No client authentication: the subject
 * token is the caller's credential, verified by the user routes' caller verifier (`app.callers`).
 */
import { exchangeToken, parseTokenExchangeRequest } from '../core/flows/token-exchange.js';
import { header, json } from './middleware/types.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { bodyText } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

export function createTokenExchangeHandler(getApp: AppProvider) {
  return httpHandler(getApp, async (app, event) => {
    const request = parseTokenExchangeRequest(
      header(event, 'content-type'),
      bodyText(event),
      header(event, 'authorization'),
    );
    // The audit record names the integration (there is no path parameter), only one that exists.
    if (app.flows.deployment.integrations.has(request.integration)) {
      app.audit?.note({ integration: request.integration });
    }
    // Exactly the verifier of `Authorization: Bearer <JWT>` on the user routes: same issuers, same subjects.
    const verify = (token: string) => app.callers.verify(`Bearer ${token}`);
    // RFC 6749 §5.1: Cache-Control: no-store (and Pragma: no-cache) come from the chain's no-store middleware.
    return json(200, await exchangeToken(app.flows, request, verify));
  });
}

export const handler = createTokenExchangeHandler(awsApp);
