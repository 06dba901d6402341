/**
 * The refresh worker (DESIGN flow 4): consumes a refresh queue with partial batch responses. A message whose
 * connection is already fresh, refreshed or replaced since it was planned is a no-op; vendor failures are
 * recorded on the connection and are not retried here (the planner finds the connection again after its
 * backoff). Only an unreadable message or a failure of our own store is reported back to SQS, which retries it
 * and parks it in the dead-letter queue after the receive limit.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { parseRefreshMessage } from '../adapters/sqs/refresh-message.js';
import { refreshPlanned } from '../core/flows/scheduled-refresh.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';

export function createWorkerHandler(getApp: AppProvider) {
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const app = await getApp();
    if (context) app.logger.addContext?.(context);
    const requestId = context?.awsRequestId;
    const failed = await Promise.all(
      event.Records.map(async (record) => {
        const message = parseRefreshMessage(record.body);
        if (!message) {
          app.logger.error('unreadable refresh message', { messageId: record.messageId, requestId });
          return record.messageId;
        }
        try {
          const { outcome } = await refreshPlanned(app.flows, message);
          app.logger.info('scheduled refresh', {
            integration: message.integration,
            outcome,
            messageId: record.messageId,
            requestId,
          });
          return undefined;
        } catch (error) {
          app.logger.error('scheduled refresh failed', {
            integration: message.integration,
            error: error instanceof Error ? error.name : 'unknown',
            messageId: record.messageId,
            requestId,
          });
          return record.messageId;
        }
      }),
    );
    // The batch's refresh records (docs/audit.md) are written before the batch is acknowledged.
    await app.audit?.flush();
    return {
      batchItemFailures: failed
        .filter((id): id is string => id !== undefined)
        .map((itemIdentifier) => ({ itemIdentifier })),
    };
  };
}

export const handler = createWorkerHandler(awsApp);
