/** `GET /vend/{integration}`: the calling user's fresh vendor token. */
import { vendToken } from '../core/flows/vend.js';
import { NeedsReauthError } from '../core/lifecycle/errors.js';
import { header, json } from './middleware/types.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { pathParam } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

export function createVendHandler(getApp: AppProvider) {
  return httpHandler(getApp, async (app, event) => {
    const caller = await app.callers.verify(header(event, 'authorization'));
    const integration = pathParam(event, 'integration');
    try {
      return json(200, await vendToken(app.flows, { integration, subject: caller.subject }));
    } catch (error) {
      if (error instanceof NeedsReauthError) {
        return json(409, {
          error: error.error,
          error_description: error.message,
          reason: error.reason,
          connect: { method: 'POST', path: `/connect/${encodeURIComponent(integration)}` },
        });
      }
      throw error;
    }
  });
}

export const handler = createVendHandler(awsApp);
