/**
 * The App of local mode: the same handlers and adapters as in AWS, with embedded backends — dynalite
 * persisted under the data directory, a local AES key, secrets from the config file, and the local issuer
 * trusted as a caller.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { FileAuditTransport } from '../adapters/audit/index.js';
import { createCallerVerifier } from '../adapters/caller-auth/index.js';
import { createLocalCipher } from '../adapters/crypto/index.js';
import { ensureTable } from '../adapters/dynamodb/index.js';
import { loadBuiltinProviders } from '../adapters/provider-files.js';
import { LocalSecretSource } from '../adapters/secrets/index.js';
import { loadDeployment } from '../core/config/deployment.js';
import { ConfigError } from '../core/errors.js';
import { type App, memoize } from '../handlers/runtime/app.js';
import { AuditTrail } from '../handlers/runtime/audit-trail.js';
import { buildApp } from '../handlers/runtime/build-app.js';
import { readLocalConfig, sandboxConfig } from './local-config.js';
import { createLocalIssuer, type LocalIssuer } from './local-issuer.js';
import {
  LocalEventSink,
  type LocalScheduler,
  MemoryRefreshQueue,
  startLocalScheduler,
} from './local-scheduler.js';
import { type SandboxVendor, startSandboxVendor } from './sandbox-vendor.js';

export const LOCAL_TABLE = 'tokenvend-local';

export interface LocalAppOptions {
  /** `http://127.0.0.1:8787`: where the local server listens. */
  baseUrl: string;
  dataDir: string;
  cwd: string;
  configFile?: string | undefined;
  /**
   * How often the scheduled refresh runs (planner + worker, in process), in milliseconds; 0 turns the timer
   * off (a test then calls `scheduler.tick()`). Default 5 s.
   */
  refreshIntervalMs?: number | undefined;
  /** No console line per connection event (tests). */
  quiet?: boolean | undefined;
  /** The sandbox vendor's access-token lifetime in seconds (default 300); tests shorten it to see refreshes. */
  sandboxAccessTokenTtl?: number | undefined;
}

/** The local refresh interval when none is set. */
export const DEFAULT_LOCAL_REFRESH_INTERVAL_MS = 5_000;

export interface LocalApp {
  app: App;
  scheduler: LocalScheduler;
  /** The connection events published so far (latest 100). */
  events: LocalEventSink;
  /** The audit records (`<state folder>/audit.jsonl`), which the console reads back. */
  auditFile: FileAuditTransport;
  issuer: LocalIssuer;
  sandbox?: SandboxVendor | undefined;
  configSource: string;
  close(): Promise<void>;
}

/** The audit trail's file in the state folder: JSON lines, one record each (docs/audit.md). */
export const AUDIT_FILE = 'audit.jsonl';

/** 32 random bytes kept in the data directory (mode 0600), created at first start. */
function localTokenKey(dataDir: string): Uint8Array {
  const file = path.join(dataDir, 'token-key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32), { mode: 0o600 });
  const key = readFileSync(file);
  if (key.length !== 32) throw new ConfigError(`${file} must hold exactly 32 bytes; delete it to start over`);
  chmodSync(file, 0o600);
  return key;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startLocalApp(options: LocalAppOptions): Promise<LocalApp> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const config = await readLocalConfig(options.cwd, options.configFile);
  const sandbox = config.sandbox
    ? await startSandboxVendor({
        redirectUri: `${options.baseUrl}/oauth/sandbox/callback`,
        accessTokenTtl: options.sandboxAccessTokenTtl,
      })
    : undefined;
  const raw = sandbox
    ? sandboxConfig(options.baseUrl, sandbox)
    : { publicBaseUrl: options.baseUrl, ...config.raw };
  const issuer = await createLocalIssuer({ dir: options.dataDir, issuer: `${options.baseUrl}/local` });
  const builtins = await loadBuiltinProviders();
  const deployment = loadDeployment(raw, { builtins, local: true, source: config.source });

  const db = dynalite({
    path: path.join(options.dataDir, 'db'),
    createTableMs: 0,
    updateTableMs: 0,
    deleteTableMs: 0,
  });
  const dbPort = await listen(db);
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${dbPort}`,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(client, LOCAL_TABLE, { ttl: false });

  const secrets: Record<string, unknown> = {};
  for (const [id, integration] of deployment.integrations) {
    if (integration.config.secret) secrets[id] = integration.config.secret;
  }
  const refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_LOCAL_REFRESH_INTERVAL_MS;
  const queue = new MemoryRefreshQueue();
  const events = new LocalEventSink({ quiet: options.quiet });
  const auditFile = new FileAuditTransport(path.join(options.dataDir, AUDIT_FILE), {
    onError: () => console.error('tokenvend: audit records could not be written to the state folder'),
  });
  const app = buildApp({
    deployment,
    dynamo: { client, tableName: LOCAL_TABLE },
    cipher: createLocalCipher(localTokenKey(options.dataDir)),
    secrets: new LocalSecretSource(secrets),
    callers: createCallerVerifier(
      { callers: [...deployment.config.callers, issuer.callerConfig] } as Parameters<
        typeof createCallerVerifier
      >[0],
      { allowInsecureLoopbackJwks: true },
    ),
    logger: {
      error: (message, details) => console.error(`tokenvend: ${message}`, details),
      info: (message, details) => {
        if (!options.quiet) console.log(`tokenvend: ${message}`, details);
      },
    },
    local: true,
    events,
    audit: new AuditTrail(auditFile),
    refreshQueue: queue,
    scheduleLeadSeconds: Math.max(1, Math.ceil(refreshIntervalMs / 1000)),
  });
  const scheduler = startLocalScheduler({
    getApp: memoize(async () => app),
    queue,
    intervalMs: refreshIntervalMs,
    maxReceiveCount: deployment.config.refresh.maxReceiveCount,
    onError: (message) => console.error(`tokenvend: scheduled refresh: ${message}`),
  });
  return {
    app,
    scheduler,
    events,
    auditFile,
    issuer,
    sandbox,
    configSource: config.source,
    close: async () => {
      await scheduler.stop();
      client.destroy();
      await new Promise<void>((resolve) => db.close(() => resolve()));
      await sandbox?.close();
    },
  };
}
