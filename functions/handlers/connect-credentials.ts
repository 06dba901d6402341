/**
 * `POST /connect/{integration}/credentials`: the user's app posts the user's own vendor username and password
 * (JSON body, never a URL) with the user's JWT. tokenvend checks them once at the vendor and stores them as the
 * caller's connection (core/flows/credentials.ts). The password is never logged or repeated.
 */
import { connectWithCredentials } from '../core/flows/credentials.js';
import { header, json } from './middleware/types.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { jsonBody, pathParam } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

export function createConnectCredentialsHandler(getApp: AppProvider) {
  return httpHandler(getApp, async (app, event) => {
    // The caller first: an unauthenticated request never gets its credentials sent anywhere.
    const caller = await app.callers.verify(header(event, 'authorization'));
    const body = jsonBody(event);
    const result = await connectWithCredentials(app.flows, {
      integration: pathParam(event, 'integration'),
      subject: caller.subject,
      body,
    });
    return json(200, { integration: result.integration, status: 'connected' });
  });
}

export const handler = createConnectCredentialsHandler(awsApp);
