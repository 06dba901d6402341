/** `GET /oauth/{integration}/callback`: the vendor's redirect back; finishes the flow and returns the user. */
import { finishConnect } from '../core/flows/callback.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import {
  browserErrorPage,
  pathParam,
  queryParams,
  redirect,
  resultPage,
  withOutcome,
} from './runtime/http.js';
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
      return browserErrorPage(app, error);
    }
  });
}

export const handler = createOAuthCallbackHandler(awsApp);
