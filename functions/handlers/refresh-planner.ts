/**
 * The refresh planner (DESIGN flow 4), on an EventBridge schedule: reads the due connections from the
 * refresh-due index (every shard, paginated) and sends them to the refresh queues in batches of 10.
 */
import type { Context } from 'aws-lambda';
import { ConfigError } from '../core/errors.js';
import { type PlanResult, planRefreshes } from '../core/flows/scheduled-refresh.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';

export function createPlannerHandler(getApp: AppProvider) {
  return async (_event: unknown, context?: Context): Promise<PlanResult> => {
    const app = await getApp();
    if (context) app.logger.addContext?.(context);
    if (!app.refreshQueue) throw new ConfigError('the refresh planner has no refresh queue configured');
    const result = await planRefreshes(
      { store: app.flows.store, queue: app.refreshQueue, telemetry: app.telemetry },
      {
        now: app.flows.now(),
        lookbackSeconds: app.flows.deployment.config.refresh.lookbackSeconds,
        leadSeconds: app.flows.lifecycle.options.scheduleLeadSeconds,
      },
    );
    // The PlannerBatchSize metric is the heartbeat; a log line only when there was something to plan.
    if (result.due > 0) app.logger.info('refresh planned', { ...result, requestId: context?.awsRequestId });
    return result;
  };
}

export const handler = createPlannerHandler(awsApp);
