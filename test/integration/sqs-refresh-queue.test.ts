/**
 * SqsRefreshQueue against a real moto_server with the real SDK v3 SQS client. SendMessageBatch calls are
 * observed (entries per call, calls in flight) with an SDK middleware; nothing is mocked. Per-entry failures
 * (which moto never reports for our messages) come from a tiny SQS JSON-protocol server on loopback that the
 * same real client talks to. parseRefreshMessage is checked against valid and invalid bodies.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateQueueCommand,
  type Message,
  ReceiveMessageCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  formatRefreshMessage,
  MAX_BATCH_ENTRIES,
  parseRefreshMessage,
  SqsRefreshQueue,
} from '../../functions/adapters/sqs/index.js';
import type { RefreshMessage } from '../../functions/core/ports.js';
import { type Moto, startMoto } from '../support/moto.js';

let moto: Moto;
let admin: SQSClient;
const clients: SQSClient[] = [];
let seq = 0;

async function createQueue(): Promise<string> {
  const out = await admin.send(new CreateQueueCommand({ QueueName: `refresh-${++seq}-${Date.now()}` }));
  return out.QueueUrl!;
}

/** Every message on `queueUrl` (expects exactly `count`; stops early after a few empty receives). */
async function drain(queueUrl: string, count: number): Promise<Message[]> {
  const received: Message[] = [];
  for (let empty = 0; received.length < count && empty < 3; ) {
    const out = await admin.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const batch = out.Messages ?? [];
    if (batch.length === 0) empty++;
    received.push(...batch);
  }
  return received;
}

/** What a client sent: one row per SendMessageBatch call, and the most calls in flight at once. */
interface BatchLog {
  calls: { queueUrl: string; ids: string[] }[];
  maxInFlight: number;
}

/** A client whose SendMessageBatch calls are recorded by a real SDK middleware (observation only). */
function observedClient(config: Moto['clientConfig']): { client: SQSClient; log: BatchLog } {
  const client = new SQSClient(config);
  clients.push(client);
  const log: BatchLog = { calls: [], maxInFlight: 0 };
  let inFlight = 0;
  client.middlewareStack.add(
    ((next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { input: SendMessageBatchCommandInput }) => {
        if (context.commandName !== 'SendMessageBatchCommand') return next(args);
        log.calls.push({
          queueUrl: args.input.QueueUrl!,
          ids: (args.input.Entries ?? []).map((entry) => entry.Id!),
        });
        log.maxInFlight = Math.max(log.maxInFlight, ++inFlight);
        try {
          return await next(args);
        } finally {
          inFlight--;
        }
      }) as never,
    { step: 'initialize', name: 'observeSendMessageBatch' },
  );
  return { client, log };
}

function messages(integration: string, count: number): RefreshMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    integration,
    subject: `user-${i}@example.com`,
    version: i + 1,
    refreshDueAt: 1_800_000_000 + i,
  }));
}

beforeAll(async () => {
  moto = await startMoto();
  admin = moto.client(SQSClient);
});

afterAll(async () => {
  for (const client of [admin, ...clients]) client?.destroy();
  await moto?.close();
});

describe('SqsRefreshQueue (moto)', () => {
  it('routes 23 messages to their integrations’ queues in batches of at most 10, all delivered', async () => {
    const genesysQueue = await createQueue();
    const ringcentralQueue = await createQueue();
    const urls: Record<string, string> = { 'genesys-eu': genesysQueue, ringcentral: ringcentralQueue };
    const { client, log } = observedClient(moto.clientConfig);
    const queue = new SqsRefreshQueue({ client, queueUrlFor: (integration) => urls[integration] });
    const genesys = messages('genesys-eu', 15);
    const ringcentral = messages('ringcentral', 8);
    // Interleaved, as a planner querying several shards would produce them.
    const all = [...genesys.slice(0, 7), ...ringcentral, ...genesys.slice(7)];
    expect(all).toHaveLength(23);

    await expect(queue.send(all)).resolves.toEqual([]);

    expect(log.calls.map((call) => call.ids.length).sort((a, b) => a - b)).toEqual([5, 8, 10]);
    for (const call of log.calls) {
      expect(call.ids.length).toBeLessThanOrEqual(MAX_BATCH_ENTRIES);
      expect(call.ids).toEqual(call.ids.map((_, i) => String(i)));
    }
    expect(log.calls.filter((call) => call.queueUrl === genesysQueue)).toHaveLength(2);
    expect(log.calls.filter((call) => call.queueUrl === ringcentralQueue)).toHaveLength(1);

    const bodies = async (url: string, count: number) =>
      (await drain(url, count))
        .map((message) => JSON.parse(message.Body!))
        .sort((a, b) => a.version - b.version);
    await expect(bodies(genesysQueue, 15)).resolves.toEqual(genesys);
    await expect(bodies(ringcentralQueue, 8)).resolves.toEqual(ringcentral);
  });

  it('sends only the four fields of a message, each body readable by parseRefreshMessage', async () => {
    const url = await createQueue();
    const { client } = observedClient(moto.clientConfig);
    const queue = new SqsRefreshQueue({ client, queueUrlFor: () => url });
    const message = { integration: 'sipgate', subject: 'alice', version: 3, refreshDueAt: 42 };
    const extra = { ...message, accessToken: 'must-not-travel' } as RefreshMessage;
    await expect(queue.send([extra])).resolves.toEqual([]);
    const [received] = await drain(url, 1);
    expect(received!.Body).toBe(JSON.stringify(message));
    expect(parseRefreshMessage(received!.Body!)).toEqual(message);
  });

  it('returns messages of an integration without a queue, and sends the rest', async () => {
    const url = await createQueue();
    const { client, log } = observedClient(moto.clientConfig);
    const queue = new SqsRefreshQueue({
      client,
      queueUrlFor: (integration) => (integration === 'genesys-eu' ? url : undefined),
    });
    const known = messages('genesys-eu', 3);
    const unknown = messages('unknown-vendor', 2);
    await expect(queue.send([known[0]!, unknown[0]!, known[1]!, unknown[1]!, known[2]!])).resolves.toEqual(
      unknown,
    );
    expect(log.calls).toHaveLength(1);
    expect(await drain(url, 3)).toHaveLength(3);
  });

  it('returns every message of a queue that does not exist, without throwing, and sends the others', async () => {
    const url = await createQueue();
    const missing = `${moto.endpoint}/123456789012/no-such-queue-${Date.now()}`;
    const { client, log } = observedClient(moto.clientConfig);
    const queue = new SqsRefreshQueue({
      client,
      queueUrlFor: (integration) => (integration === 'gone' ? missing : url),
    });
    const lost = messages('gone', 12);
    const sent = messages('dialpad', 4);
    await expect(queue.send([...lost, ...sent])).resolves.toEqual(lost);
    expect(log.calls.filter((call) => call.queueUrl === missing)).toHaveLength(2);
    expect(await drain(url, 4)).toHaveLength(4);
  });

  it('returns everything when SQS is unreachable, and a throwing queueUrlFor counts as no queue', async () => {
    const { client } = observedClient({ ...moto.clientConfig, endpoint: 'http://127.0.0.1:9' });
    const queue = new SqsRefreshQueue({
      client,
      queueUrlFor: (integration) => {
        if (integration === 'broken') throw new Error('config bug');
        return 'http://127.0.0.1:9/123456789012/q';
      },
    });
    const input = [...messages('zoom-phone', 11), ...messages('broken', 1)];
    await expect(queue.send(input)).resolves.toEqual(input);
  });

  it('keeps at most `concurrency` SendMessageBatch calls in flight', async () => {
    const url = await createQueue();
    const { client, log } = observedClient(moto.clientConfig);
    const queue = new SqsRefreshQueue({ client, queueUrlFor: () => url, concurrency: 2 });
    await expect(queue.send(messages('webex', 47))).resolves.toEqual([]);
    expect(log.calls.map((call) => call.ids.length)).toEqual([10, 10, 10, 10, 7]);
    expect(log.maxInFlight).toBe(2);
    expect(await drain(url, 47)).toHaveLength(47);
  });

  it('resolves with nothing and sends nothing for no messages', async () => {
    const { client, log } = observedClient(moto.clientConfig);
    const queue = new SqsRefreshQueue({ client, queueUrlFor: () => 'unused' });
    await expect(queue.send([])).resolves.toEqual([]);
    expect(log.calls).toHaveLength(0);
  });
});

describe('SqsRefreshQueue with per-entry failures (SQS JSON protocol on loopback)', () => {
  let server: Server;
  let endpoint: string;

  /**
   * Answers SendMessageBatch like SQS does under partial failure: odd entry Ids in `Failed`, Id "2" in
   * neither list (never seen from SQS, handled as failed), the others `Successful` with their real MD5
   * (the SDK checks it).
   */
  beforeAll(async () => {
    server = createServer((request, response) => {
      let raw = '';
      request.on('data', (chunk: Buffer) => {
        raw += chunk.toString();
      });
      request.on('end', () => {
        const input = JSON.parse(raw) as SendMessageBatchCommandInput;
        const entries = input.Entries ?? [];
        const md5 = (body: string) => createHash('md5').update(body).digest('hex');
        const output = {
          Successful: entries
            .filter((entry) => Number(entry.Id) % 2 === 0 && entry.Id !== '2')
            .map((entry) => ({
              Id: entry.Id,
              MessageId: crypto.randomUUID(),
              MD5OfMessageBody: md5(entry.MessageBody!),
            })),
          Failed: entries
            .filter((entry) => Number(entry.Id) % 2 === 1)
            .map((entry) => ({ Id: entry.Id, SenderFault: false, Code: 'InternalError' })),
        };
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify(output));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  it('returns the entries SQS did not accept, mapped back through the chunk-local Ids', async () => {
    const { client, log } = observedClient({ ...moto.clientConfig, endpoint });
    const queue = new SqsRefreshQueue({ client, queueUrlFor: () => `${endpoint}/123456789012/q` });
    const input = messages('genesys-eu', 13);
    const failed = await queue.send(input);
    expect(log.calls.map((call) => call.ids.length)).toEqual([10, 3]);
    // Chunk 1: Ids 1,2,3,5,7,9 -> inputs 1,2,3,5,7,9; chunk 2: Ids 1,2 -> inputs 11,12.
    expect(failed).toEqual([1, 2, 3, 5, 7, 9, 11, 12].map((index) => input[index]));
  });
});

describe('parseRefreshMessage', () => {
  const valid = {
    integration: 'genesys-eu',
    subject: 'https://idp.example.com|alice',
    version: 7,
    refreshDueAt: 0,
  };

  it('reads a valid body, and what formatRefreshMessage writes', () => {
    expect(parseRefreshMessage(JSON.stringify(valid))).toEqual(valid);
    expect(parseRefreshMessage(formatRefreshMessage(valid))).toEqual(valid);
    const longest = { ...valid, integration: `a${'-'.repeat(62)}`, subject: 'é'.repeat(1024) };
    expect(parseRefreshMessage(JSON.stringify(longest))).toEqual(longest);
  });

  it('returns a fresh plain object', () => {
    const parsed = parseRefreshMessage(JSON.stringify(valid))!;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed).sort()).toEqual(['integration', 'refreshDueAt', 'subject', 'version']);
  });

  const { integration: _i, ...withoutIntegration } = valid;
  const { version: _v, ...withoutVersion } = valid;
  const invalid: [string, string][] = [
    ['empty string', ''],
    ['not JSON', '{integration:'],
    ['JSON null', 'null'],
    ['JSON array', JSON.stringify([valid])],
    ['JSON string', JSON.stringify(JSON.stringify(valid))],
    ['JSON number', '42'],
    ['missing integration', JSON.stringify(withoutIntegration)],
    ['missing version', JSON.stringify(withoutVersion)],
    ['extra key', JSON.stringify({ ...valid, accessToken: 'x' })],
    ['__proto__ key', `{"__proto__":{"polluted":true},${JSON.stringify(valid).slice(1)}`],
    ['__proto__ replacing a key', JSON.stringify(withoutVersion).replace('{', '{"__proto__":{"version":1},')],
    ['constructor key', JSON.stringify({ ...valid, constructor: {} })],
    ['integration upper case', JSON.stringify({ ...valid, integration: 'Genesys' })],
    ['integration leading dash', JSON.stringify({ ...valid, integration: '-genesys' })],
    ['integration empty', JSON.stringify({ ...valid, integration: '' })],
    ['integration 64 chars', JSON.stringify({ ...valid, integration: 'a'.repeat(64) })],
    ['integration with newline', JSON.stringify({ ...valid, integration: 'genesys\n' })],
    ['integration number', JSON.stringify({ ...valid, integration: 1 })],
    ['subject empty', JSON.stringify({ ...valid, subject: '' })],
    ['subject 1025 chars', JSON.stringify({ ...valid, subject: 's'.repeat(1025) })],
    ['subject object', JSON.stringify({ ...valid, subject: { id: 'alice' } })],
    ['subject null', JSON.stringify({ ...valid, subject: null })],
    ['version 0', JSON.stringify({ ...valid, version: 0 })],
    ['version negative', JSON.stringify({ ...valid, version: -1 })],
    ['version fraction', JSON.stringify({ ...valid, version: 1.5 })],
    ['version string', JSON.stringify({ ...valid, version: '1' })],
    ['version beyond safe integers', JSON.stringify(valid).replace('"version":7', '"version":1e300')],
    ['refreshDueAt negative', JSON.stringify({ ...valid, refreshDueAt: -1 })],
    ['refreshDueAt fraction', JSON.stringify({ ...valid, refreshDueAt: 0.5 })],
    ['refreshDueAt null', JSON.stringify({ ...valid, refreshDueAt: null })],
    ['refreshDueAt boolean', JSON.stringify({ ...valid, refreshDueAt: true })],
    ['huge body', JSON.stringify({ ...valid, subject: 'x'.repeat(10_000) })],
  ];

  it.each(invalid)('rejects %s', (_name, body) => {
    expect(parseRefreshMessage(body)).toBeUndefined();
  });

  it('never pollutes Object.prototype', () => {
    parseRefreshMessage('{"__proto__":{"polluted":true}}');
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
