/** `GET /health`: liveness only; it touches nothing, so a vendor or table outage never fails it. */

import { json } from './middleware/types.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { httpHandler } from './runtime/http-handler.js';

export function createHealthHandler(getApp: AppProvider) {
  return httpHandler(getApp, async () => json(200, { status: 'ok' }));
}

export const handler = createHealthHandler(awsApp);
