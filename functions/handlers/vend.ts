/**
 * `GET /vend/{integration}`: the calling user's fresh vendor token.
 * `POST /service/users/{integration}/vend` (IAM): a named user's token for a service on the integration's
 * `onBehalfOf` allow-list; every call is logged with the principal and the subject.
 */
import { TokenvendError } from '../core/errors.js';
import { vendOnBehalf } from '../core/flows/on-behalf-vend.js';
import { vendToken } from '../core/flows/vend.js';
import { header, json } from './middleware/types.js';
import { needsReauthAnswer } from './needs-reauth.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { jsonBody, pathParam, rejectedToken } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

export const ON_BEHALF_ROUTE = 'POST /service/users/{integration}/vend';

interface IamAuthorizer {
  iam?: { userArn?: string };
}

export function createVendHandler(getApp: AppProvider) {
  return httpHandler(getApp, async (app, event) => {
    const integration = pathParam(event, 'integration');
    if (event.routeKey === ON_BEHALF_ROUTE) {
      const principal = (event.requestContext as { authorizer?: IamAuthorizer }).authorizer?.iam?.userArn;
      let subject: string | undefined;
      let outcome = 'server_error';
      try {
        const result = await vendOnBehalf(
          app.flows,
          { integration, principal, readBody: () => jsonBody(event), rejected: rejectedToken(event) },
          (s) => {
            subject = s;
            app.audit?.note({ subject: s });
          },
        );
        outcome = 'ok';
        return json(200, result);
      } catch (error) {
        if (error instanceof TokenvendError) outcome = error.error;
        return needsReauthAnswer(error, integration);
      } finally {
        // The audit line: who acted for whom (the subject once the request named a usable one), and the outcome.
        app.logger.info('vend on behalf of a user', { integration, principal, subject, outcome });
      }
    }
    const caller = await app.callers.verify(header(event, 'authorization'));
    try {
      const rejected = rejectedToken(event);
      return json(200, await vendToken(app.flows, { integration, subject: caller.subject, rejected }));
    } catch (error) {
      return needsReauthAnswer(error, integration);
    }
  });
}

export const handler = createVendHandler(awsApp);
