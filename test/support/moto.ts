/**
 * A real `moto_server` (Python moto, pre-installed in the machine image) on a random loopback port, for
 * adapter tests with the real AWS SDK v3 clients: Secrets Manager, KMS, SQS, EventBridge, ...
 * Each test file starts its own server, so files run in parallel without sharing state.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './free-port.js';

export interface Moto {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Config for any SDK v3 client: this endpoint, us-east-1, throwaway credentials, no retries. */
  clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    maxAttempts: number;
  };
  /** A client of any SDK v3 service against this server: `moto.client(KMSClient)`. */
  client<T>(Client: new (config: Moto['clientConfig']) => T): T;
  /** Wipes all moto state (POST /moto-api/reset), for isolation between tests. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

async function waitReady(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`moto_server not ready after ${timeoutMs} ms`);
}

async function startOnce(): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Keep only the tail: moto logs every request line.
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitReady(endpoint, child, 15_000);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  const clientConfig: Moto['clientConfig'] = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  };
  return {
    endpoint,
    clientConfig,
    client: (Client) => new Client(clientConfig),
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`moto reset failed: ${response.status}`);
    },
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Starts moto_server on a free port; retries on the rare port race with another process. */
export async function startMoto(): Promise<Moto> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce();
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * Counts the commands a client sends (by name, e.g. `GenerateDataKeyCommand`) with a real SDK middleware,
 * so a test can assert that a cache saved a call without mocking the client.
 */
export function countCommands(client: {
  middlewareStack: { add: (middleware: never, options: { step: 'initialize'; name: string }) => void };
}): Map<string, number> {
  const counts = new Map<string, number>();
  const middleware =
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'tokenvendCountCommands' });
  return counts;
}
