/**
 * Scheduled refresh throughput: refreshes per second through the planner and the worker (planRefreshes into
 * an in-memory queue, then TokenLifecycle.refreshScheduled for each message, C in flight) against raw
 * refresh_token POSTs to the same oidc-provider at the same concurrency, on a separate set of consents.
 * Both sides run on loopback in one process (DynamoDB Local for the pipeline's store), rounds alternating
 * ABBA. Target: refresh.ratio >= 0.8.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { planRefreshes } from '../functions/core/flows/scheduled-refresh.js';
import type { FetchLike } from '../functions/core/oauth/http.js';
import type { RefreshMessage } from '../functions/core/ports.js';
import {
  CLIENT,
  consent,
  type Lambda,
  lambdas,
  resolveTemplate,
  startWorld,
} from '../test/integration/lifecycle/support.js';
import type { Figure } from './lib.js';

/** Connections per side. */
const CONNECTIONS = 200;
/** Refreshes in flight, both sides. */
const CONCURRENCY = 8;
/** Measured rounds (each refreshes every connection of a side once), after one warm-up round per side. */
const ROUNDS = 4;
/** Access-token lifetime; the shared clock moves on by this much before each pipeline round. */
const TTL = 60;
const INTEGRATION = 'bench';

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU milliseconds used so far by this process's child processes (DynamoDB Local's JVM), from Linux /proc;
 * undefined elsewhere. A diagnostic only.
 */
function childCpuMs(): number | undefined {
  try {
    let ticks = 0;
    for (const task of readdirSync(`/proc/${process.pid}/task`)) {
      const children = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim();
      for (const child of children ? children.split(/\s+/) : []) {
        const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
      }
    }
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU milliseconds this process has used so far. */
function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function bounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

interface Observed {
  calls: number;
  ms: number;
}

/** Counts and times the DynamoDB calls sent through `client` (observation only). */
function observeCalls(client: DynamoDBClient, observed: Observed): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        observed.calls++;
        observed.ms += performance.now() - started;
      }
    },
    { step: 'initialize', name: 'benchCallObserver' },
  );
}

export default async function refresh(): Promise<Figure[]> {
  const world = await startWorld({ rotate: true, accessTokenTtl: TTL });
  const fleet: Lambda[] = [];
  try {
    const provider = resolveTemplate(world.oidc.template({ refresh: { rotates: true } }));
    const ref = { id: INTEGRATION, provider };
    const vendor: Observed = { calls: 0, ms: 0 };
    const timedFetch: FetchLike = async (input, init) => {
      const started = performance.now();
      try {
        return await fetch(input, init);
      } finally {
        vendor.calls++;
        vendor.ms += performance.now() - started;
      }
    };
    const [planner, worker] = lambdas(world, 2, { provider, fetch: timedFetch }) as [Lambda, Lambda];
    fleet.push(planner, worker);
    const ddb: Observed = { calls: 0, ms: 0 };
    observeCalls(planner.client, ddb);
    observeCalls(worker.client, ddb);

    // The pipeline's connections, stored; the raw side's refresh tokens, kept here.
    const subjects = Array.from({ length: CONNECTIONS }, (_, i) => `pipeline-${i}`);
    await bounded(subjects, 16, async (subject) => {
      const tokens = await consent(world, provider, subject);
      await worker.lifecycle.storeNewConnection(ref, { subject, grant: 'authorization_code', tokens });
    });
    const rawTokens: string[] = [];
    await bounded(
      Array.from({ length: CONNECTIONS }, (_, i) => i),
      16,
      async (i) => {
        rawTokens[i] = (await consent(world, provider, `raw-${i}`)).refreshToken as string;
      },
    );

    /** One pipeline round: a planner run, then every queued message through the worker. */
    const pipelineRound = async (): Promise<number> => {
      world.clock.advance(TTL); // every connection is due again
      const queue: RefreshMessage[] = [];
      const started = performance.now();
      const plan = await planRefreshes(
        {
          store: planner.store,
          queue: {
            send: async (messages) => {
              queue.push(...messages);
              return [];
            },
          },
        },
        {
          now: Math.floor(world.clock.nowMs() / 1000),
          lookbackSeconds: 3_600,
          leadSeconds: worker.lifecycle.options.scheduleLeadSeconds,
        },
      );
      let refreshed = 0;
      await bounded(queue, CONCURRENCY, async (message) => {
        const result = await worker.lifecycle.refreshScheduled(ref, message);
        if (result.outcome !== 'refreshed') throw new Error(`scheduled refresh: ${JSON.stringify(result)}`);
        refreshed++;
      });
      const ms = performance.now() - started;
      if (plan.due !== CONNECTIONS || refreshed !== CONNECTIONS) {
        throw new Error(`planned ${plan.due} and refreshed ${refreshed} of ${CONNECTIONS}`);
      }
      return ms;
    };

    const basic = `Basic ${Buffer.from(`${CLIENT.client_id}:${CLIENT.client_secret}`).toString('base64')}`;
    /** One raw round: every raw refresh token POSTed to the token endpoint, rotated in place. */
    const rawRound = async (): Promise<number> => {
      const started = performance.now();
      await bounded(
        rawTokens.map((_, i) => i),
        CONCURRENCY,
        async (i) => {
          const response = await fetch(world.oidc.tokenEndpoint, {
            method: 'POST',
            headers: {
              authorization: basic,
              'content-type': 'application/x-www-form-urlencoded',
              accept: 'application/json',
            },
            body: new URLSearchParams({
              grant_type: 'refresh_token',
              refresh_token: rawTokens[i] as string,
            }).toString(),
          });
          const body = (await response.json()) as { refresh_token?: string; error?: string };
          if (response.status !== 200 || !body.refresh_token) {
            throw new Error(`raw refresh: HTTP ${response.status} ${body.error}`);
          }
          rawTokens[i] = body.refresh_token;
        },
      );
      return performance.now() - started;
    };

    await pipelineRound(); // warm-up
    await rawRound();
    let pipelineMs = 0;
    let rawMs = 0;
    const cpu = { pipelineNode: 0, pipelineJvm: 0, rawNode: 0 };
    const timed = async (round: () => Promise<number>, side: 'pipeline' | 'raw') => {
      const node = ownCpuMs();
      const jvm = childCpuMs();
      const ms = await round();
      if (side === 'raw') cpu.rawNode += ownCpuMs() - node;
      else {
        cpu.pipelineNode += ownCpuMs() - node;
        const after = childCpuMs();
        cpu.pipelineJvm += jvm === undefined || after === undefined ? Number.NaN : after - jvm;
      }
      return ms;
    };
    const ddbBefore = { ...ddb };
    const vendorBefore = { ...vendor };
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        pipelineMs += await timed(pipelineRound, 'pipeline');
        rawMs += await timed(rawRound, 'raw');
      } else {
        rawMs += await timed(rawRound, 'raw');
        pipelineMs += await timed(pipelineRound, 'pipeline');
      }
    }
    const refreshes = ROUNDS * CONNECTIONS;
    const pipeline = refreshes / (pipelineMs / 1000);
    const raw = refreshes / (rawMs / 1000);
    return [
      { name: 'refresh.pipeline', value: pipeline, unit: 'refreshes/s' },
      { name: 'refresh.raw', value: raw, unit: 'refreshes/s' },
      { name: 'refresh.ratio', value: pipeline / raw, unit: 'x' },
      // Where a pipeline refresh spends its time: DynamoDB calls (planner queries included) vs the vendor.
      {
        name: 'refresh.ddb_calls_per_refresh',
        value: (ddb.calls - ddbBefore.calls) / refreshes,
        unit: 'calls',
      },
      { name: 'refresh.ddb_ms_per_refresh', value: (ddb.ms - ddbBefore.ms) / refreshes, unit: 'ms' },
      {
        name: 'refresh.vendor_ms_per_refresh',
        value: (vendor.ms - vendorBefore.ms) / (vendor.calls - vendorBefore.calls),
        unit: 'ms',
      },
      // CPU per refresh: this process (lifecycle, SDK, cipher and the in-process vendor) and DynamoDB Local.
      { name: 'refresh.node_cpu_ms_per_refresh', value: cpu.pipelineNode / refreshes, unit: 'ms' },
      { name: 'refresh.ddb_local_cpu_ms_per_refresh', value: cpu.pipelineJvm / refreshes, unit: 'ms' },
      { name: 'refresh.raw_node_cpu_ms_per_refresh', value: cpu.rawNode / refreshes, unit: 'ms' },
    ];
  } finally {
    for (const l of fleet) l.client.destroy();
    await world.close();
  }
}
