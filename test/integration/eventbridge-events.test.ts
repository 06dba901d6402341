/**
 * EventBridgeEventSink against a real moto_server with the real SDK v3 clients: a bus with a rule whose SQS
 * target receives what the sink publishes (moto routes PutEvents to SQS targets), so each event is read back
 * as a platform team's consumer would see it. Failures (no such bus, nothing listening) reach `onError` as a
 * code only.
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
import {
  DEFAULT_EVENT_SOURCE,
  EventBridgeEventSink,
  type EventPublishProblem,
} from '../../functions/adapters/eventbridge/index.js';
import type { ConnectionEvent, ConnectionEventType } from '../../functions/core/ports.js';
import { canary } from '../support/leaks.js';
import { type Moto, startMoto } from '../support/moto.js';

let moto: Moto;
let events: EventBridgeClient;
let sqs: SQSClient;
let seq = 0;

/** A bus whose every event with `source` lands on a fresh SQS queue; returns the bus name and queue URL. */
async function busWithQueue(source: string): Promise<{ busName: string; queueUrl: string }> {
  const busName = `tokenvend-test-${++seq}`;
  await events.send(new CreateEventBusCommand({ Name: busName }));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `events-${seq}` }));
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl!, AttributeNames: ['QueueArn'] }),
  );
  await events.send(
    new PutRuleCommand({
      Name: `all-connection-events-${seq}`,
      EventBusName: busName,
      EventPattern: JSON.stringify({ source: [source] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: `all-connection-events-${seq}`,
      EventBusName: busName,
      Targets: [{ Id: 'queue', Arn: attributes.Attributes!.QueueArn! }],
    }),
  );
  return { busName, queueUrl: queue.QueueUrl! };
}

async function receiveAll(queueUrl: string, count: number): Promise<Message[]> {
  const received: Message[] = [];
  for (let empty = 0; received.length < count && empty < 3; ) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!out.Messages?.length) empty++;
    received.push(...(out.Messages ?? []));
  }
  return received;
}

const TYPES: [ConnectionEventType, string][] = [
  ['connection.connected', 'authorization_code'],
  ['connection.refresh_failed', 'unavailable'],
  ['connection.needs_reauth', 'invalid_grant'],
  ['connection.disconnected', 'user'],
];

beforeAll(async () => {
  moto = await startMoto();
  events = moto.client(EventBridgeClient);
  sqs = moto.client(SQSClient);
});

afterAll(async () => {
  events?.destroy();
  sqs?.destroy();
  await moto?.close();
});

describe('EventBridgeEventSink (moto)', () => {
  it('publishes each event type with its detail-type, source and exactly the detail fields', async () => {
    const { busName, queueUrl } = await busWithQueue(DEFAULT_EVENT_SOURCE);
    const problems: EventPublishProblem[] = [];
    const sink = new EventBridgeEventSink({ client: events, busName, onError: (p) => problems.push(p) });
    const time = 1_800_000_123;
    const published: ConnectionEvent[] = TYPES.map(([type, reason], i) => ({
      type,
      integration: 'genesys-eu',
      subject: `https://idp.example.com|agent-${i}`,
      reason,
      time: time + i,
    }));
    for (const event of published) await expect(sink.publish(event)).resolves.toBeUndefined();
    expect(problems).toEqual([]);

    const received = (await receiveAll(queueUrl, 4)).map((message) => JSON.parse(message.Body!));
    expect(received).toHaveLength(4);
    received.sort((a, b) => a.detail.subject.localeCompare(b.detail.subject));
    received.forEach((envelope, i) => {
      const event = published[i]!;
      expect(envelope['detail-type']).toBe(event.type);
      expect(envelope.source).toBe('tokenvend');
      // The envelope's time is the event's time, not the moment of publishing.
      expect(envelope.time).toBe(new Date(event.time * 1000).toISOString().replace('.000Z', 'Z'));
      expect(envelope.detail).toStrictEqual({
        integration: event.integration,
        subject: event.subject,
        reason: event.reason,
        time: new Date(event.time * 1000).toISOString(),
        version: 1,
      });
    });
  });

  it('uses a configured source, and never puts fields other than the five into detail', async () => {
    const { busName, queueUrl } = await busWithQueue('acme.tokenvend');
    const sink = new EventBridgeEventSink({ client: events, busName, source: 'acme.tokenvend' });
    const token = canary('token');
    const event = {
      type: 'connection.connected',
      integration: 'ringcentral',
      subject: 'bob',
      reason: 'saml2_bearer',
      time: 1_800_000_000,
      // An event built carelessly upstream: the sink must drop it.
      accessToken: token,
    } as ConnectionEvent;
    await sink.publish(event);
    const [message] = await receiveAll(queueUrl, 1);
    expect(message!.Body).not.toContain(token);
    const envelope = JSON.parse(message!.Body!);
    expect(envelope.source).toBe('acme.tokenvend');
    expect(Object.keys(envelope.detail).sort()).toEqual([
      'integration',
      'reason',
      'subject',
      'time',
      'version',
    ]);
  });

  it('reports a bus that does not exist to onError with a code only, and resolves', async () => {
    const problems: EventPublishProblem[] = [];
    const sink = new EventBridgeEventSink({
      client: events,
      busName: `no-such-bus-${Date.now()}`,
      onError: (p) => problems.push(p),
    });
    const subject = canary('subject');
    await expect(
      sink.publish({
        type: 'connection.needs_reauth',
        integration: 'sipgate',
        subject,
        reason: 'invalid_grant',
        time: 1,
      }),
    ).resolves.toBeUndefined();
    expect(problems).toEqual([{ code: 'ResourceNotFoundException' }]);
    expect(JSON.stringify(problems)).not.toContain(subject);
  });

  it('reports an unreachable endpoint to onError, and resolves', async () => {
    const unreachable = new EventBridgeClient({ ...moto.clientConfig, endpoint: 'http://127.0.0.1:9' });
    const problems: EventPublishProblem[] = [];
    const sink = new EventBridgeEventSink({
      client: unreachable,
      busName: 'default',
      onError: (p) => problems.push(p),
    });
    try {
      await expect(
        sink.publish({
          type: 'connection.disconnected',
          integration: 'zoom',
          subject: 's',
          reason: 'user',
          time: 1,
        }),
      ).resolves.toBeUndefined();
    } finally {
      unreachable.destroy();
    }
    // A network failure is a plain Error whose Node code (ECONNREFUSED) is reported. Under jest's VM realm the
    // SDK wraps errors from Node core ("AWS SDK error wrapper", not `instanceof` the realm's Error) and the
    // code is lost, leaving the name.
    expect(problems).toHaveLength(1);
    expect(['ECONNREFUSED', 'Error']).toContain(problems[0]!.code);
    expect(Object.keys(problems[0]!)).toEqual(['code']);
  });

  it('reports an entry EventBridge rejects (FailedEntryCount > 0) with its ErrorCode', async () => {
    const { busName } = await busWithQueue(DEFAULT_EVENT_SOURCE);
    const problems: EventPublishProblem[] = [];
    // An empty source is accepted by the SDK and rejected per entry by the service.
    const sink = new EventBridgeEventSink({
      client: events,
      busName,
      source: '',
      onError: (p) => problems.push(p),
    });
    await expect(
      sink.publish({
        type: 'connection.connected',
        integration: 'dialpad',
        subject: 's',
        reason: 'static',
        time: 1,
      }),
    ).resolves.toBeUndefined();
    expect(problems).toEqual([{ code: 'InvalidArgument' }]);
  });

  it('resolves without onError, and when onError itself throws', async () => {
    const sink = new EventBridgeEventSink({
      client: events,
      busName: `no-such-bus-${Date.now()}`,
      onError: () => {
        throw new Error('logger broke');
      },
    });
    const event: ConnectionEvent = {
      type: 'connection.refresh_failed',
      integration: 'webex',
      subject: 's',
      reason: 'rate_limited',
      time: 1,
    };
    await expect(sink.publish(event)).resolves.toBeUndefined();
    const silent = new EventBridgeEventSink({ client: events, busName: `no-such-bus-${Date.now()}` });
    await expect(silent.publish(event)).resolves.toBeUndefined();
  });
});
