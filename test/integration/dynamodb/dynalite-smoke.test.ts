/**
 * The store on dynalite (the in-process backend of `npm start`: no transactions, no TTL): the same table
 * definition, versioned writes, leases, the refresh-due index, state consume and the replay guard.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createLocalCipher } from '../../../functions/adapters/crypto/index.js';
import {
  DynamoAssertionReplayGuard,
  DynamoConnectionStore,
  DynamoConnectStateStore,
  ensureTable,
} from '../../../functions/adapters/dynamodb/index.js';
import { VersionConflictError } from '../../../functions/core/lifecycle/errors.js';

let server: Server;
let client: DynamoDBClient;
const tableName = 'tokenvend-local';

beforeAll(async () => {
  server = (dynalite as (o: object) => Server)({ createTableMs: 0, updateTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(client, tableName, { ttl: false });
});

afterAll(async () => {
  client?.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('runs the connection store, state store and replay guard on dynalite', async () => {
  const now = Math.floor(Date.now() / 1000);
  const store = new DynamoConnectionStore({ tableName, client, cipher: createLocalCipher(randomBytes(32)) });
  const key = { integration: 'sipgate', subject: 'local-user' };
  const tokens = {
    accessToken: 'a1',
    tokenType: 'Bearer',
    expiresAt: now + 300,
    refreshToken: 'r1',
    issuedAt: now,
  };
  const created = await store.put({
    ...key,
    grant: 'authorization_code',
    tokens,
    now,
    refreshDueAt: now + 240,
  });
  expect(created.version).toBe(1);
  expect(
    (await store.put({ ...key, grant: 'authorization_code', tokens, now, refreshDueAt: now + 240 })).version,
  ).toBe(2);

  const nowMs = Date.now();
  const leased = await store.acquireLease(key, { version: 2, owner: 'me', expiresAtMs: nowMs + 5000, nowMs });
  expect(leased?.tokens.refreshToken).toBe('r1');
  expect(
    await store.acquireLease(key, { version: 2, owner: 'you', expiresAtMs: nowMs + 5000, nowMs }),
  ).toBeUndefined();
  await expect(store.commitRefresh(key, { version: 2, owner: 'you', tokens, now })).rejects.toBeInstanceOf(
    VersionConflictError,
  );
  const committed = await store.commitRefresh(key, {
    version: 2,
    owner: 'me',
    tokens: { ...tokens, accessToken: 'a2', refreshToken: 'r2' },
    now,
    refreshDueAt: now + 250,
  });
  expect(committed).toMatchObject({ version: 3, tokens: { accessToken: 'a2' } });
  expect(await store.queryDue({ from: now, to: now + 300, now })).toEqual([
    expect.objectContaining({ ...key, version: 3, refreshDueAt: now + 250 }),
  ]);
  expect(await store.listBySubject('local-user')).toHaveLength(1);

  const states = new DynamoConnectStateStore({ tableName, client });
  await states.put('s1', { ...key, redirectUri: 'http://127.0.0.1/cb', createdAt: now }, now + 600);
  expect(await states.consume('s1')).toMatchObject(key);
  expect(await states.consume('s1')).toBeUndefined();

  const guard = new DynamoAssertionReplayGuard({ tableName, client });
  expect(await guard.claim('sipgate', '_a1', now + 300)).toBe(true);
  expect(await guard.claim('sipgate', '_a1', now + 300)).toBe(false);
});
