/** `POST /connect/{integration}`: starts the authorization code flow for the calling user. */
import { InvalidRequestError } from '../core/errors.js';
import { startConnect } from '../core/flows/connect.js';
import { header, json } from './middleware/types.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { baseUrl, jsonBody, pathParam } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

export function createConnectHandler(getApp: AppProvider) {
  return httpHandler(getApp, async (app, event) => {
    const caller = await app.callers.verify(header(event, 'authorization'));
    const body = jsonBody(event);
    const unknown = Object.keys(body).filter((k) => k !== 'return_to');
    if (unknown.length) throw new InvalidRequestError(`unknown field ${unknown.join(', ')}`);
    if (body.return_to !== undefined && typeof body.return_to !== 'string') {
      throw new InvalidRequestError('return_to must be a string');
    }
    const result = await startConnect(app.flows, {
      integration: pathParam(event, 'integration'),
      subject: caller.subject,
      returnTo: body.return_to,
      baseUrl: baseUrl(app, event),
    });
    return json(200, { authorize_url: result.authorizeUrl, expires_at: result.expiresAt });
  });
}

export const handler = createConnectHandler(awsApp);
