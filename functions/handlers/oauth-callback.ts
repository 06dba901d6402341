/** `GET /oauth/{integration}/callback`: the vendor's redirect back; finishes the flow and returns the user. */
import { TokenvendError } from '../core/errors.js';
import { finishConnect } from '../core/flows/callback.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { pathParam, queryParams, redirect, resultPage, withOutcome } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

export function createOAuthCallbackHandler(getApp: AppProvider) {
  return httpHandler(getApp, async (app, event) => {
    try {
      const result = await finishConnect(app.flows, {
        integration: pathParam(event, 'integration'),
        params: queryParams(event),
      });
      if (result.returnTo) {
        return redirect(
          withOutcome(result.returnTo, { tokenvend: 'connected', integration: result.integration }),
        );
      }
      return resultPage(
        200,
        'Connected',
        `Your ${result.integration} account is connected. You can close this window.`,
      );
    } catch (error) {
      // A person is looking at this answer: show a page, not JSON. Only exposable messages are shown.
      if (error instanceof TokenvendError && error.expose) {
        return resultPage(error.status, 'Connection failed', `${error.error}: ${error.message}`);
      }
      throw error;
    }
  });
}

export const handler = createOAuthCallbackHandler(awsApp);
