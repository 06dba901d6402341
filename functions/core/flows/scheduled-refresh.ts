/**
 * The scheduled refresh (DESIGN flow 4): a planner on a schedule reads only the due connections from the
 * sharded refresh-due index and queues them; a worker refreshes each through the same single-flight lease as
 * `/vend`. Due means hot (vended recently: refreshed ahead of access-token expiry, so a vend never waits on
 * the vendor) or idle with a refresh token about to lapse (the keepalive). docs/scheduled-refresh.md.
 */
import type { ScheduledRefreshOutcome } from '../lifecycle/lifecycle.js';
import type { RefreshMessage, RefreshQueue, Telemetry } from '../ports.js';
import type { FlowDeps } from './deps.js';

export interface PlanOptions {
  /** Epoch seconds. */
  now: number;
  /** How far back to look for due connections nobody has refreshed yet (a lost message, a dead worker). */
  lookbackSeconds: number;
  /** The planner's interval: what falls due before its next run is planned now. */
  leadSeconds: number;
}

export interface PlanResult {
  /** Due connections found (and index items read). */
  due: number;
  /** Of those, messages the queue did not take; they are found again by the next run. */
  unsent: number;
}

/** One planner run: due connections from the index, to the queue (batched by the queue adapter). */
export async function planRefreshes(
  deps: Pick<FlowDeps, 'store'> & { queue: RefreshQueue; telemetry?: Telemetry | undefined },
  options: PlanOptions,
): Promise<PlanResult> {
  const due = await deps.store.queryDue({
    from: options.now - options.lookbackSeconds,
    to: options.now + options.leadSeconds,
    now: options.now,
  });
  const messages: RefreshMessage[] = due.map((d) => ({
    integration: d.integration,
    subject: d.subject,
    version: d.version,
    refreshDueAt: d.refreshDueAt,
  }));
  const unsent = messages.length === 0 ? [] : await deps.queue.send(messages);
  deps.telemetry?.metric('PlannerBatchSize', messages.length);
  if (unsent.length > 0) deps.telemetry?.metric('PlannerSendFailed', unsent.length);
  return { due: messages.length, unsent: unsent.length };
}

/** What the worker did with one message; `unknown_integration` is a message for an integration since removed. */
export type WorkerOutcome = ScheduledRefreshOutcome | { outcome: 'unknown_integration' };

/**
 * The worker's part for one queued connection. Throws only when the store fails, which the queue retries (and
 * parks in the dead-letter queue after its receive limit); every other failure is recorded on the connection
 * (not-before time, event, metric) and the planner finds it again when its backoff ends.
 */
export async function refreshPlanned(deps: FlowDeps, message: RefreshMessage): Promise<WorkerOutcome> {
  const integration = deps.deployment.integrations.get(message.integration);
  if (!integration) return { outcome: 'unknown_integration' };
  const provider = await deps.providers.provider(integration);
  return deps.lifecycle.refreshScheduled(
    { id: integration.id, provider },
    { subject: message.subject, version: message.version },
  );
}
