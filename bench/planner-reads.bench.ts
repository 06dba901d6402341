/**
 * What the refresh planner reads: DynamoDB items read per due connection when 1% of 100,000 connections are
 * due, on DynamoDB Local with the real table (refresh-due GSI). Items are seeded directly with BatchWriteItem
 * in the connection item layout:
 *
 * - 1% due: `refreshDueAt` in the planner's window (from an hour ago, the default look-back, to the lead);
 * - 50% hot but not due: `refreshDueAt` after the window, a third of them in the very time buckets the
 *   planner queries (the sort-key condition must leave them unread), the rest up to a day ahead;
 * - 49% idle: no `refreshDueAt` / `dueBucket`, so not in the sparse index at all.
 *
 * One planRefreshes run then queries every (bucket, shard) partition of the window; a middleware on the
 * DynamoDB client sums ScannedCount and Count of the QueryCommand outputs (an observation, not a mock).
 * The baseline is the due count itself: target planner.items_read_per_due about 1.
 */
import { randomBytes } from 'node:crypto';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createLocalCipher } from '../functions/adapters/crypto/index.js';
import { DynamoConnectionStore, documentClient } from '../functions/adapters/dynamodb/index.js';
import {
  CONNECTION_ATTRIBUTES as A,
  bucketStart,
  connectionKey,
  dueBucketOf,
  ITEM_KINDS,
  REFRESH_DUE_INDEX,
} from '../functions/adapters/dynamodb/schema.js';
import { planRefreshes } from '../functions/core/flows/scheduled-refresh.js';
import { defaultLifecycleOptions } from '../functions/core/lifecycle/lifecycle.js';
import type { RefreshMessage } from '../functions/core/ports.js';
import { startDynamoDbLocal } from '../test/support/dynamodb-local.js';
import type { Figure } from './lib.js';

const CONNECTIONS = 100_000;
/** One connection in DUE_EVERY is due. */
const DUE_EVERY = 100;
const BATCH = 25;
const WRITES_IN_FLIGHT = 8;
const INTEGRATION = 'bench';
/** The deployment default (`refresh.lookbackSeconds`) and the lifecycle default (`scheduleLeadSeconds`). */
const LOOKBACK_SECONDS = 3_600;
const LEAD_SECONDS = defaultLifecycleOptions().scheduleLeadSeconds;

/** Sums what the QueryCommands sent through `client` read (observation only). */
function observeQueries(client: DynamoDBClient) {
  const seen = { queries: 0, scanned: 0, count: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'QueryCommand') {
        const output = result.output as { ScannedCount?: number; Count?: number };
        seen.queries++;
        seen.scanned += output.ScannedCount ?? 0;
        seen.count += output.Count ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'benchQueryObserver' },
  );
  return seen;
}

/** A connection item as DynamoConnectionStore writes it (token columns hold opaque ciphertext-sized text). */
function connectionItem(i: number, now: number): Record<string, unknown> {
  const subject = `agent-${i}`;
  const sealed = () => randomBytes(96).toString('base64url');
  let refreshDueAt: number | undefined;
  if (i % DUE_EVERY === 0) {
    refreshDueAt = now - LOOKBACK_SECONDS + 1 + ((i / DUE_EVERY) % (LOOKBACK_SECONDS + LEAD_SECONDS - 1));
  } else if (i % 2 === 1) {
    const windowEnd = now + LEAD_SECONDS;
    // A third just after the window, in the buckets the planner queries; the rest up to a day ahead.
    const nextBucket = bucketStart(windowEnd) + REFRESH_DUE_INDEX.bucketSeconds;
    refreshDueAt =
      i % 3 === 0
        ? windowEnd + 1 + (i % Math.max(1, nextBucket - windowEnd - 1))
        : windowEnd + 1 + (i % 86_400);
  }
  return {
    ...connectionKey(INTEGRATION, subject),
    [A.kind]: ITEM_KINDS.connection,
    [A.integration]: INTEGRATION,
    [A.subject]: subject,
    [A.status]: 'connected',
    [A.grant]: 'authorization_code',
    [A.accessToken]: sealed(),
    [A.refreshToken]: sealed(),
    [A.tokenType]: 'Bearer',
    [A.accessExpiresAt]: now + 3_600,
    [A.issuedAt]: now,
    [A.version]: 1,
    [A.createdAt]: now,
    [A.updatedAt]: now,
    [A.failureCount]: 0,
    [A.lastVendedAt]: refreshDueAt === undefined ? now - 30 * 86_400 : now,
    ...(refreshDueAt === undefined
      ? {}
      : {
          [A.refreshDueAt]: refreshDueAt,
          [A.dueBucket]: dueBucketOf(INTEGRATION, subject, refreshDueAt),
        }),
    [A.ttl]: now + 30 * 86_400,
  };
}

type PutRequest = { PutRequest: { Item: Record<string, unknown> } };

/** BatchWriteItem of `requests` (at most 25), resending unprocessed items until all are written. */
async function batchWrite(doc: DynamoDBDocumentClient, table: string, requests: PutRequest[]): Promise<void> {
  let pending = requests;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 20 * 2 ** attempt)));
    const { UnprocessedItems } = await doc.send(
      new BatchWriteCommand({ RequestItems: { [table]: pending } }),
    );
    pending = (UnprocessedItems?.[table] ?? []) as PutRequest[];
  }
}

export default async function plannerReads(): Promise<Figure[]> {
  const ddb = await startDynamoDbLocal();
  const writer = ddb.client();
  const doc = documentClient(writer);
  const reader = ddb.client();
  try {
    const table = await ddb.createTable('bench-planner');
    const now = Math.floor(Date.now() / 1000);
    const seedStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: WRITES_IN_FLIGHT }, async () => {
        while (next < CONNECTIONS) {
          const from = next;
          next = Math.min(CONNECTIONS, next + BATCH);
          const requests = Array.from({ length: next - from }, (_, k) => ({
            PutRequest: { Item: connectionItem(from + k, now) },
          }));
          await batchWrite(doc, table, requests);
        }
      }),
    );
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    // What the table and the refresh-due index hold (DynamoDB Local counts at once; AWS every ~6 h).
    const { Table } = await writer.send(new DescribeTableCommand({ TableName: table }));
    const tableItems = Table?.ItemCount ?? 0;
    const indexItems =
      Table?.GlobalSecondaryIndexes?.find((g) => g.IndexName === REFRESH_DUE_INDEX.name)?.ItemCount ?? 0;

    const seen = observeQueries(reader);
    const store = new DynamoConnectionStore({
      tableName: table,
      cipher: createLocalCipher(randomBytes(32)),
      client: reader,
      nowMs: () => now * 1000,
    });
    const queued: RefreshMessage[] = [];
    const started = performance.now();
    const plan = await planRefreshes(
      {
        store,
        queue: {
          send: async (messages) => {
            queued.push(...messages);
            return [];
          },
        },
      },
      { now, lookbackSeconds: LOOKBACK_SECONDS, leadSeconds: LEAD_SECONDS },
    );
    const planMs = performance.now() - started;
    const expectedDue = Math.ceil(CONNECTIONS / DUE_EVERY);
    if (tableItems !== CONNECTIONS || indexItems !== expectedDue + CONNECTIONS / 2) {
      throw new Error(`seeded ${CONNECTIONS}; the table holds ${tableItems}, the index ${indexItems}`);
    }
    if (plan.due !== expectedDue || queued.length !== expectedDue) {
      throw new Error(`planner found ${plan.due} due (${queued.length} queued), seeded ${expectedDue}`);
    }
    return [
      { name: 'planner.connections', value: tableItems, unit: 'items' },
      { name: 'planner.index_items', value: indexItems, unit: 'items' },
      { name: 'planner.due', value: plan.due, unit: 'connections' },
      { name: 'planner.items_read', value: seen.scanned, unit: 'items' },
      { name: 'planner.items_read_per_due', value: seen.scanned / plan.due, unit: 'items' },
      { name: 'planner.items_returned_per_due', value: seen.count / plan.due, unit: 'items' },
      { name: 'planner.queries', value: seen.queries, unit: 'calls' },
      { name: 'planner.run_ms', value: planMs, unit: 'ms' },
      { name: 'planner.seed_s', value: seedSeconds, unit: 's' },
    ];
  } finally {
    writer.destroy();
    reader.destroy();
    await ddb.stop();
  }
}
