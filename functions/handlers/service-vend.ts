/**
 * `GET /service/vend/{integration}/{connection}`: tokens of named service connections for other services.
 * API Gateway's IAM authorizer admits the caller; the principal is checked against the connection's allow-list.
 */
import { serviceSubject, vendServiceToken } from '../core/flows/service-vend.js';
import { json } from './middleware/types.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { pathParam, rejectedToken } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

interface IamAuthorizer {
  iam?: { userArn?: string };
}

export function createServiceVendHandler(getApp: AppProvider) {
  return httpHandler(getApp, async (app, event) => {
    const authorizer = (event.requestContext as { authorizer?: IamAuthorizer }).authorizer;
    app.audit?.note({ subject: serviceSubject(pathParam(event, 'connection')) });
    const result = await vendServiceToken(app.flows, {
      integration: pathParam(event, 'integration'),
      connection: pathParam(event, 'connection'),
      principal: authorizer?.iam?.userArn,
      rejected: rejectedToken(event),
    });
    return json(200, result);
  });
}

export const handler = createServiceVendHandler(awsApp);
