/**
 * `POST /connect/{integration}/claim`: the app claims a finished connect flow with its own user JWT and the
 * one-time claim code the callback put into its return URL. Only the subject that started the flow gets the
 * connection; anyone else makes tokenvend discard the parked tokens and revoke them at the vendor (403).
 */
import { InvalidRequestError } from '../core/errors.js';
import { ClaimRefusedError, claimConnection } from '../core/flows/claim.js';
import { browserFlowDeps } from './browser-page.js';
import { header, json } from './middleware/types.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { jsonBody, pathParam } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

export function createConnectClaimHandler(getApp: AppProvider) {
  return httpHandler(getApp, async (app, event) => {
    const caller = await app.callers.verify(header(event, 'authorization'));
    const body = jsonBody(event);
    const unknown = Object.keys(body).filter((k) => k !== 'claim');
    if (unknown.length) throw new InvalidRequestError(`unknown field ${unknown.join(', ')}`);
    const integration = pathParam(event, 'integration');
    try {
      const result = await claimConnection(browserFlowDeps(app), {
        integration,
        subject: caller.subject,
        claim: body.claim,
      });
      return json(200, { integration: result.integration, status: 'connected' });
    } catch (error) {
      if (error instanceof ClaimRefusedError) {
        app.logger.info('claim refused: another subject started the flow', {
          integration,
          revoked: error.revoked,
        });
        if (!error.revoked) {
          app.logger.error('refused claim: the vendor did not confirm revocation', { integration });
        }
      }
      throw error;
    }
  });
}

export const handler = createConnectClaimHandler(awsApp);
