/**
 * The scheduled refresh with its real parts: the planner handler queries AWS's DynamoDB Local and sends to an
 * SQS queue on moto_server; the worker handler gets the records SQS really delivers; connection events go to
 * an EventBridge bus on moto (routed by a rule to a queue the test reads); the vendor is oidc-provider with
 * rotating refresh tokens. DynamoDB throttling is injected at the adapter boundary (a client middleware), the
 * one failure no local server produces on demand.
 */
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { EventBridgeEventSink } from '../../functions/adapters/eventbridge/index.js';
import { LocalSecretSource } from '../../functions/adapters/secrets/index.js';
import { SqsRefreshQueue } from '../../functions/adapters/sqs/index.js';
import { MemoryTelemetry } from '../../functions/adapters/telemetry/index.js';
import { type Integration, loadDeployment } from '../../functions/core/config/deployment.js';
import { createPlannerHandler } from '../../functions/handlers/refresh-planner.js';
import { createWorkerHandler } from '../../functions/handlers/refresh-worker.js';
import { type App, memoize } from '../../functions/handlers/runtime/app.js';
import { buildApp } from '../../functions/handlers/runtime/build-app.js';
import { type Moto, startMoto } from '../support/moto.js';
import { CLIENT, consent, recordingFetch, startWorld, type World } from './lifecycle/support.js';

const INTEGRATION = 'harness';
const SUBJECTS = Array.from({ length: 10 }, (_, i) => `agent-${i}`);
const THROTTLED = new Set(['agent-2', 'agent-5', 'agent-7']);

let world: World;
let moto: Moto;
let app: App;
let integration: Integration;
let queueUrl: string;
let eventsUrl: string;
let sqs: SQSClient;
const sent: string[] = [];
const telemetry = new MemoryTelemetry();
let throttle = false;

async function receiveAll(url: string, count: number): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < 20 && out.length < count; i++) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    out.push(...(Messages ?? []));
  }
  return out;
}

function sqsEvent(messages: Message[]): SQSEvent {
  return {
    Records: messages.map(
      (m) => ({ messageId: m.MessageId, receiptHandle: m.ReceiptHandle, body: m.Body }) as SQSRecord,
    ),
  };
}

beforeAll(async () => {
  [world, moto] = await Promise.all([startWorld({ rotate: true, accessTokenTtl: 120 }), startMoto()]);
  sqs = moto.client(SQSClient);
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'refresh-harness' }))).QueueUrl as string;
  eventsUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'events' }))).QueueUrl as string;
  const eventsArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: eventsUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  const bridge = moto.client(EventBridgeClient);
  await bridge.send(new CreateEventBusCommand({ Name: 'tokenvend-test' }));
  await bridge.send(
    new PutRuleCommand({
      Name: 'all',
      EventBusName: 'tokenvend-test',
      EventPattern: JSON.stringify({ source: ['tokenvend'] }),
    }),
  );
  await bridge.send(
    new PutTargetsCommand({
      Rule: 'all',
      EventBusName: 'tokenvend-test',
      Targets: [{ Id: 'q', Arn: eventsArn }],
    }),
  );

  const deployment = loadDeployment(
    { integrations: { [INTEGRATION]: { provider: world.oidc.template(), secret: { ...CLIENT } } } },
    { builtins: new Map(), local: true },
  );
  integration = deployment.integrations.get(INTEGRATION) as Integration;
  const client = world.ddb.client();
  // DynamoDB throttling for three subjects' reads, at the SDK client boundary (no server throttles on demand).
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: { pk?: string | { S?: string } } };
      const pk = typeof input.Key?.pk === 'string' ? input.Key.pk : input.Key?.pk?.S;
      const subject = pk ? decodeURIComponent(pk.replace(/^sub#/, '')) : undefined;
      if (throttle && context.commandName === 'GetItemCommand' && subject && THROTTLED.has(subject)) {
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
          name: 'ProvisionedThroughputExceededException',
          $fault: 'client',
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectThrottling' },
  );
  app = buildApp({
    deployment,
    dynamo: { client, tableName: world.tableName },
    cipher: world.cipher,
    secrets: new LocalSecretSource({ [INTEGRATION]: { ...CLIENT } }),
    callers: { verify: async () => Promise.reject(new Error('no callers')), hydrate: async () => undefined },
    logger: { error: () => undefined, info: () => undefined },
    events: new EventBridgeEventSink({ client: bridge, busName: 'tokenvend-test' }),
    telemetry,
    refreshQueue: new SqsRefreshQueue({
      client: sqs,
      queueUrlFor: (id) => (id === INTEGRATION ? queueUrl : undefined),
    }),
    fetch: recordingFetch(sent),
    local: true,
    // Plan everything that falls due within the access token's lifetime.
    scheduleLeadSeconds: 120,
  });
  for (const subject of SUBJECTS) {
    const tokens = await consent(world, integration.provider, subject);
    await app.flows.lifecycle.storeNewConnection(integration, {
      subject,
      grant: 'authorization_code',
      tokens,
    });
  }
}, 90_000);

afterAll(async () => {
  await Promise.all([world?.close(), moto?.close()]);
});

describe('planner -> SQS -> worker', () => {
  let delivered: Message[] = [];

  it('plans every due connection into the queue, read from the refresh-due index', async () => {
    const planner = createPlannerHandler(memoize(async () => app));
    const result = await planner({});
    expect(result).toEqual({ due: SUBJECTS.length, unsent: 0 });
    delivered = await receiveAll(queueUrl, SUBJECTS.length);
    expect(delivered).toHaveLength(SUBJECTS.length);
    const bodies = delivered.map((m) => JSON.parse(m.Body ?? '{}') as { subject: string; version: number });
    expect(bodies.map((b) => b.subject).sort()).toEqual([...SUBJECTS].sort());
    expect(bodies.every((b) => b.version === 1)).toBe(true);
    expect(JSON.stringify(bodies)).not.toMatch(/token/i);
    expect(telemetry.values('PlannerBatchSize')).toEqual([SUBJECTS.length]);
  });

  it('checklist 42, 43: reports exactly the three records whose reads were throttled, and refreshes the other seven', async () => {
    const worker = createWorkerHandler(memoize(async () => app));
    throttle = true;
    let response: Awaited<ReturnType<typeof worker>>;
    try {
      response = await worker(sqsEvent(delivered));
    } finally {
      throttle = false;
    }
    const failedIds = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    const expected = delivered
      .filter((m) => THROTTLED.has((JSON.parse(m.Body ?? '{}') as { subject: string }).subject))
      .map((m) => m.MessageId);
    expect([...failedIds].sort()).toEqual([...expected].sort());
    expect(sent).toHaveLength(7);
    for (const subject of SUBJECTS) {
      const stored = await app.flows.store.get({ integration: INTEGRATION, subject });
      expect(stored?.version).toBe(THROTTLED.has(subject) ? 1 : 2);
      expect(stored?.status).toBe('connected');
    }
    expect(telemetry.values('RefreshSucceeded')).toHaveLength(7);
  });

  it('checklist 42: treats a duplicate delivery as a no-op and retries the failed three once SQS delivers them again', async () => {
    const worker = createWorkerHandler(memoize(async () => app));
    const again = await worker(sqsEvent(delivered));
    expect(again.batchItemFailures).toEqual([]);
    // The seven refreshed ones are superseded (version moved); only the three retried ones reach the vendor.
    expect(sent).toHaveLength(10);
    expect(new Set(sent).size).toBe(10);
    const duplicate = await worker(sqsEvent(delivered));
    expect(duplicate.batchItemFailures).toEqual([]);
    expect(sent).toHaveLength(10);
  });

  it('checklist 42: sends a message it cannot read back to SQS (and so, after the receive limit, to the dead-letter queue)', async () => {
    const worker = createWorkerHandler(memoize(async () => app));
    const poison = { messageId: 'poison', body: '{"integration":"harness","subject":"x"}' } as SQSRecord;
    const unknown = {
      messageId: 'gone-integration',
      body: JSON.stringify({ integration: 'removed', subject: 'x', version: 1, refreshDueAt: 1 }),
    } as SQSRecord;
    const response = await worker({ Records: [poison, unknown] });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'poison' }]);
  });

  it('publishes connection.connected for every new connection on the EventBridge bus, without tokens', async () => {
    const events = await receiveAll(eventsUrl, SUBJECTS.length);
    const details = events.map(
      (m) => JSON.parse(m.Body ?? '{}') as { 'detail-type': string; source: string; detail: object },
    );
    expect(details.filter((d) => d['detail-type'] === 'connection.connected')).toHaveLength(SUBJECTS.length);
    for (const d of details) {
      expect(d.source).toBe('tokenvend');
      expect(Object.keys(d.detail).sort()).toEqual(['integration', 'reason', 'subject', 'time', 'version']);
    }
    expect(JSON.stringify(details)).not.toContain(CLIENT.client_secret);
  });
});
