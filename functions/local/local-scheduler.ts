/**
 * The scheduled refresh in the local runtime: the very planner and worker handlers that run in AWS, driven by
 * a timer instead of EventBridge, with an in-memory queue instead of SQS. A message the worker reports as
 * failed is delivered again on the next tick, and dropped (logged, as a dead letter) after the receive limit.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { formatRefreshMessage } from '../adapters/sqs/refresh-message.js';
import type { ConnectionEvent, ConnectionEventSink, RefreshMessage, RefreshQueue } from '../core/ports.js';
import { createPlannerHandler } from '../handlers/refresh-planner.js';
import { createWorkerHandler } from '../handlers/refresh-worker.js';
import type { AppProvider } from '../handlers/runtime/app.js';

const BATCH = 10;

/** SQS in memory: what the planner sends waits here until the next drain. */
export class MemoryRefreshQueue implements RefreshQueue {
  #pending: RefreshMessage[] = [];

  async send(messages: readonly RefreshMessage[]): Promise<RefreshMessage[]> {
    this.#pending.push(...messages);
    return [];
  }

  drain(): RefreshMessage[] {
    const drained = this.#pending;
    this.#pending = [];
    return drained;
  }
}

/** Connection events of the local runtime: one console line each, and the latest kept for inspection. */
export class LocalEventSink implements ConnectionEventSink {
  readonly recent: ConnectionEvent[] = [];

  constructor(readonly options: { quiet?: boolean } = {}) {}

  async publish(event: ConnectionEvent): Promise<void> {
    this.recent.push(event);
    if (this.recent.length > 100) this.recent.shift();
    if (!this.options.quiet) {
      console.log(`tokenvend: ${event.type} ${event.integration} (${event.reason})`);
    }
  }
}

export interface LocalScheduler {
  /** One planner run and the worker runs for what it found (what the timer does every interval). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

function sqsEvent(records: Array<{ id: string; message: RefreshMessage; receives: number }>): SQSEvent {
  return {
    Records: records.map(
      ({ id, message, receives }) =>
        ({
          messageId: id,
          body: formatRefreshMessage(message),
          attributes: { ApproximateReceiveCount: String(receives) },
        }) as unknown as SQSRecord,
    ),
  };
}

export function startLocalScheduler(options: {
  getApp: AppProvider;
  queue: MemoryRefreshQueue;
  intervalMs: number;
  maxReceiveCount: number;
  onError: (message: string) => void;
}): LocalScheduler {
  const planner = createPlannerHandler(options.getApp);
  const worker = createWorkerHandler(options.getApp);
  const retries: Array<{ id: string; message: RefreshMessage; receives: number }> = [];
  let running: Promise<void> | undefined;
  let stopped = false;

  const run = async () => {
    await planner({});
    const batch = [
      ...retries.splice(0),
      ...options.queue.drain().map((message) => ({ id: crypto.randomUUID(), message, receives: 0 })),
    ];
    for (let i = 0; i < batch.length; i += BATCH) {
      const records = batch.slice(i, i + BATCH).map((r) => ({ ...r, receives: r.receives + 1 }));
      const { batchItemFailures } = await worker(sqsEvent(records));
      for (const failure of batchItemFailures) {
        const record = records.find((r) => r.id === failure.itemIdentifier);
        if (!record) continue;
        if (record.receives >= options.maxReceiveCount) {
          options.onError(
            `refresh message for ${record.message.integration} dropped after ${record.receives} receives`,
          );
        } else {
          retries.push(record);
        }
      }
    }
  };

  const tick = () => {
    running ??= run()
      .catch((error: unknown) => options.onError(error instanceof Error ? error.message : 'planner failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const timer = options.intervalMs > 0 ? setInterval(() => void tick(), options.intervalMs) : undefined;
  timer?.unref();
  return {
    tick: async () => {
      if (!stopped) await tick();
    },
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
