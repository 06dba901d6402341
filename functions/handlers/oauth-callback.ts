/**
 * `GET /oauth/{integration}/callback`: the vendor's redirect back. Finishes the flow, parks the tokens and sends
 * the browser to the app's return URL with a one-time claim code (`?claim=...&integration=...`); the app claims
 * with its user JWT (`POST /connect/{integration}/claim`). Every error is an HTML page (a person is looking).
 */
import { finishConnect } from '../core/flows/callback.js';
import { browserFlowDeps, browserRoute, flowErrorPage } from './browser-page.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { pathParam, queryParams, redirect, withOutcome } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

export function createOAuthCallbackHandler(getApp: AppProvider) {
  return browserRoute(
    'connect',
    httpHandler(getApp, async (app, event) => {
      try {
        const result = await finishConnect(browserFlowDeps(app), {
          integration: pathParam(event, 'integration'),
          params: queryParams(event),
        });
        app.audit?.note({ subject: result.subject });
        return redirect(
          withOutcome(result.returnTo, { claim: result.claim, integration: result.integration }),
        );
      } catch (error) {
        return flowErrorPage(app, error, 'connect');
      }
    }),
  );
}

export const handler = createOAuthCallbackHandler(awsApp);
