/** `GET /connections` and `DELETE /connections/{integration}`: the calling user's own connections. */
import { disconnect, listConnections } from '../core/flows/connections.js';
import { header, json } from './middleware/types.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { pathParam } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

export function createConnectionsHandler(getApp: AppProvider) {
  return httpHandler(getApp, async (app, event) => {
    const caller = await app.callers.verify(header(event, 'authorization'));
    if (event.requestContext.http.method === 'DELETE') {
      await disconnect(app.flows, { integration: pathParam(event, 'integration'), subject: caller.subject });
      return { statusCode: 204, headers: {}, body: '' };
    }
    return json(200, { connections: await listConnections(app.flows, caller.subject) });
  });
}

export const handler = createConnectionsHandler(awsApp);
