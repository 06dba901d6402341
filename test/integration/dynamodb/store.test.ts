/**
 * The DynamoDB stores against AWS's own DynamoDB Local (TTL enabled, the table exactly as the stack makes it),
 * with the real local token cipher.
 */
import { randomBytes } from 'node:crypto';
import { DescribeTimeToLiveCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createLocalCipher } from '../../../functions/adapters/crypto/index.js';
import {
  connectionKey,
  DynamoAssertionReplayGuard,
  DynamoConnectionStore,
  DynamoConnectStateStore,
  documentClient,
  REFRESH_DUE_INDEX,
  subjectPartition,
  TABLE,
} from '../../../functions/adapters/dynamodb/index.js';
import { VersionConflictError } from '../../../functions/core/lifecycle/errors.js';
import type { NewConnection } from '../../../functions/core/lifecycle/store.js';
import type { TokenSet } from '../../../functions/core/token-set.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../support/dynamodb-local.js';

let ddb: DynamoDbLocal;
let client: DynamoDBClient;
let tableName: string;
let clockMs = Date.now();
const cipher = createLocalCipher(randomBytes(32));
const token = (label: string) => `${label}-${randomBytes(16).toString('base64url')}`;

function store(): DynamoConnectionStore {
  return new DynamoConnectionStore({ tableName, cipher, client, nowMs: () => clockMs });
}

function tokens(now: number, overrides: Partial<TokenSet> = {}): TokenSet {
  return {
    accessToken: token('at'),
    tokenType: 'Bearer',
    expiresAt: now + 300,
    refreshToken: token('rt'),
    refreshExpiresAt: now + 86_400,
    idToken: token('id'),
    scopes: ['openid', 'calls'],
    issuedAt: now,
    ...overrides,
  };
}

function connection(subject: string, now: number, overrides: Partial<NewConnection> = {}): NewConnection {
  return {
    integration: 'genesys-eu',
    subject,
    grant: 'authorization_code',
    tokens: tokens(now),
    now,
    refreshDueAt: now + 240,
    expiresAt: now + 86_400 + 3600,
    ...overrides,
  };
}

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  tableName = await ddb.createTable();
  client = ddb.client();
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await ddb?.stop();
});

beforeEach(() => {
  clockMs = Date.now();
});

const now = () => Math.floor(clockMs / 1000);

describe('table', () => {
  it('has TTL enabled on the ttl attribute', async () => {
    const { TimeToLiveDescription } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );
    expect(TimeToLiveDescription).toMatchObject({
      AttributeName: TABLE.ttlAttribute,
      TimeToLiveStatus: expect.stringMatching(/ENABL/),
    });
  });
});

describe('DynamoConnectionStore', () => {
  it('round-trips a connection, decrypting only what is asked for', async () => {
    const s = store();
    const input = connection('alice', now());
    const stored = await s.put(input);
    expect(stored).toMatchObject({ version: 1, status: 'connected', failureCount: 0, tokens: input.tokens });

    const access = await s.get(input);
    expect(access?.tokens.accessToken).toBe(input.tokens.accessToken);
    expect(access?.tokens.refreshToken).toBeUndefined();
    expect(access?.hasRefreshToken).toBe(true);
    const all = await s.get(input, { secrets: 'all', consistent: true });
    expect(all?.tokens).toEqual(input.tokens);
    expect(all).toMatchObject({ refreshDueAt: input.refreshDueAt, expiresAt: input.expiresAt });
  });

  it('keeps template metadata through a put and a refresh commit', async () => {
    const s = store();
    const metadata = { instance_url: 'https://acme.my.salesforce.com', user: '42' };
    const input = connection('metadata-holder', now(), { tokens: tokens(now(), { metadata }) });
    await s.put(input);
    expect((await s.get(input, { consistent: true }))?.tokens.metadata).toEqual(metadata);
    const moved = { instance_url: 'https://acme2.my.salesforce.com' };
    await s.commitRefresh(input, {
      version: 1,
      owner: 'refresher',
      tokens: tokens(now(), { metadata: moved }),
      now: now(),
      force: true,
    });
    expect((await s.get(input, { consistent: true }))?.tokens.metadata).toEqual(moved);
  });

  it('bumps the version when a new consent replaces a connection, clearing lease and needs_reauth', async () => {
    const s = store();
    const first = await s.put(connection('bob', now()));
    const leased = await s.acquireLease(first, {
      version: 1,
      owner: 'old-refresher',
      expiresAtMs: clockMs + 10_000,
      nowMs: clockMs,
    });
    expect(leased?.status).toBe('refreshing');
    const second = await s.put(connection('bob', now()));
    expect(second).toMatchObject({ version: 2, status: 'connected', lease: undefined });
    // The refresh that was in flight on version 1 cannot overwrite the new consent.
    await expect(
      s.commitRefresh(first, { version: 1, owner: 'old-refresher', tokens: tokens(now()), now: now() }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    await s.markUnusable(second, { version: 2, status: 'needs_reauth', reason: 'invalid_grant' });
    expect((await s.get(second))?.status).toBe('needs_reauth');
    const third = await s.put(connection('bob', now()));
    expect(third).toMatchObject({ version: 3, status: 'connected', reason: undefined });
  });

  it('reads an item past its TTL as absent although DynamoDB has not deleted it', async () => {
    const s = store();
    const input = connection('carol', now(), { expiresAt: now() + 60 });
    await s.put(input);
    expect(await s.get(input)).toBeDefined();
    clockMs += 61_000;
    expect(await s.get(input)).toBeUndefined();
    expect(await s.listBySubject('carol')).toEqual([]);
    // Still physically there: only our read hides it.
    const raw = await documentClient(client).send(
      new GetCommand({ TableName: tableName, Key: connectionKey('genesys-eu', 'carol') }),
    );
    expect(raw.Item).toBeDefined();
    // And a lease cannot be taken on it.
    expect(
      await s.acquireLease(input, { version: 1, owner: 'x', expiresAtMs: clockMs + 1000, nowMs: clockMs }),
    ).toBeUndefined();
  });

  it('grants one lease at a time, conditional on the version read, and recovers an expired one', async () => {
    const s = store();
    const input = connection('dave', now());
    await s.put(input);
    const lease = (owner: string, version = 1) =>
      s.acquireLease(input, { version, owner, expiresAtMs: clockMs + 2_000, nowMs: clockMs });
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((o) => lease(o)));
    const winners = results.filter((r) => r !== undefined);
    expect(winners).toHaveLength(1);
    expect(winners[0]?.tokens.refreshToken).toBe(input.tokens.refreshToken);
    expect(await lease('late')).toBeUndefined();
    expect(await lease('wrong-version', 7)).toBeUndefined();

    clockMs += 2_001; // the holder died
    const recovered = await lease('rescuer');
    expect(recovered?.lease?.owner).toBe('rescuer');
    // The dead holder can no longer commit; the rescuer can.
    const winner = winners[0]?.lease?.owner ?? '';
    await expect(
      s.commitRefresh(input, { version: 1, owner: winner, tokens: tokens(now()), now: now() }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    const fresh = tokens(now());
    const committed = await s.commitRefresh(input, {
      version: 1,
      owner: 'rescuer',
      tokens: fresh,
      now: now(),
    });
    expect(committed).toMatchObject({ version: 2, status: 'connected', lease: undefined });
    expect((await s.get(input, { secrets: 'all' }))?.tokens.refreshToken).toBe(fresh.refreshToken);
  });

  it('records failures on release and resets them on the next commit', async () => {
    const s = store();
    const input = connection('erin', now());
    await s.put(input);
    for (const owner of ['one', 'two']) {
      await s.acquireLease(input, { version: 1, owner, expiresAtMs: clockMs + 5_000, nowMs: clockMs });
      await s.releaseLease(input, {
        owner,
        failure: { code: 'temporarily_unavailable', message: 'vendor 502', at: now() },
        refreshDueAt: now() + 30,
      });
    }
    const failed = await s.get(input);
    expect(failed).toMatchObject({
      failureCount: 2,
      status: 'connected',
      lease: undefined,
      refreshDueAt: now() + 30,
      lastError: { code: 'temporarily_unavailable', message: 'vendor 502' },
    });
    // A release by a non-owner changes nothing.
    await s.acquireLease(input, { version: 1, owner: 'three', expiresAtMs: clockMs + 5_000, nowMs: clockMs });
    await s.releaseLease(input, { owner: 'intruder' });
    expect((await s.get(input))?.lease?.owner).toBe('three');
    const ok = await s.commitRefresh(input, {
      version: 1,
      owner: 'three',
      tokens: tokens(now()),
      now: now(),
    });
    expect(ok).toMatchObject({ failureCount: 0, lastError: undefined, version: 2 });
  });

  it('queries only due connections from the sharded index, across buckets, never past their TTL', async () => {
    const s = store();
    const base = now() + 10 * 86_400; // a time range no other test writes to
    const subjects = Array.from({ length: 20 }, (_, i) => `due-${i}`);
    await Promise.all(
      subjects.map((subject, i) =>
        s.put(connection(subject, now(), { integration: 'due-test', refreshDueAt: base + i * 120 })),
      ),
    );
    await s.put(connection('due-none', now(), { integration: 'due-test', refreshDueAt: undefined }));
    const due = await s.queryDue({ from: base, to: base + 9 * 120, now: now() });
    expect(due.map((d) => d.subject).sort()).toEqual(subjects.slice(0, 10).sort());
    expect(due[0]).toMatchObject({ integration: 'due-test', version: 1 });
    // Spread over shards, so no single index partition takes all writes.
    const raw = await documentClient(client).send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': subjectPartition('due-3') },
      }),
    );
    expect(raw.Items?.[0]?.[REFRESH_DUE_INDEX.partitionKey]).toMatch(/^\d+#\d+$/);
    const shards = new Set<string>();
    for (const subject of subjects) {
      const item = await documentClient(client).send(
        new GetCommand({ TableName: tableName, Key: connectionKey('due-test', subject) }),
      );
      shards.add(String(item.Item?.[REFRESH_DUE_INDEX.partitionKey]).split('#')[1] ?? '');
    }
    expect(shards.size).toBeGreaterThan(1);

    // needs_reauth leaves the index; limit is honoured.
    await s.markUnusable(
      { integration: 'due-test', subject: 'due-0' },
      {
        version: 1,
        status: 'needs_reauth',
        reason: 'invalid_grant',
      },
    );
    const after = await s.queryDue({ from: base, to: base + 9 * 120, now: now(), limit: 100 });
    expect(after.map((d) => d.subject)).not.toContain('due-0');
    expect(await s.queryDue({ from: base, to: base + 19 * 120, now: now(), limit: 3 })).toHaveLength(3);
  });

  it('lists a subject’s connections and deletes conditionally', async () => {
    const s = store();
    await s.put(connection('frank', now(), { integration: 'a' }));
    await s.put(connection('frank', now(), { integration: 'b' }));
    await s.put(connection('frank-2', now(), { integration: 'a' }));
    const list = await s.listBySubject('frank');
    expect(list.map((c) => c.integration).sort()).toEqual(['a', 'b']);
    expect(await s.delete({ integration: 'a', subject: 'frank' }, { version: 9 })).toBe(false);
    expect(await s.delete({ integration: 'a', subject: 'frank' }, { version: 1 })).toBe(true);
    expect(await s.get({ integration: 'a', subject: 'frank' })).toBeUndefined();
  });

  it('touch records the vend only over the version it read', async () => {
    const s = store();
    const input = connection('gina', now());
    await s.put(input);
    expect(await s.touch(input, { version: 1, lastVendedAt: now(), refreshDueAt: now() + 100 })).toBe(true);
    expect(await s.touch(input, { version: 5, lastVendedAt: now() + 1 })).toBe(false);
    expect(await s.get(input)).toMatchObject({ lastVendedAt: now(), refreshDueAt: now() + 100, version: 1 });
  });

  it('stores no plaintext token: raw GetItem and Query show ciphertexts only', async () => {
    const s = store();
    const input = connection('henry', now());
    await s.put(input);
    const doc = documentClient(client);
    const got = await doc.send(
      new GetCommand({ TableName: tableName, Key: connectionKey('genesys-eu', 'henry') }),
    );
    const queried = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': subjectPartition('henry') },
      }),
    );
    const dump = JSON.stringify([got.Item, queried.Items]);
    for (const secret of [input.tokens.accessToken, input.tokens.refreshToken, input.tokens.idToken]) {
      expect(secret).toBeDefined();
      expect(dump).not.toContain(secret as string);
      // Nor any long-enough fragment of it.
      expect(dump).not.toContain((secret as string).slice(-16));
    }
    expect(got.Item?.accessToken).toMatch(/^tv1\./);
  });

  it('refuses a ciphertext moved to another subject’s row', async () => {
    const s = store();
    await s.put(connection('ivan', now()));
    await s.put(connection('judy', now()));
    const doc = documentClient(client);
    const ivan = await doc.send(
      new GetCommand({ TableName: tableName, Key: connectionKey('genesys-eu', 'ivan') }),
    );
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: connectionKey('genesys-eu', 'judy'),
        UpdateExpression: 'SET accessToken = :t',
        ExpressionAttributeValues: { ':t': ivan.Item?.accessToken },
      }),
    );
    await expect(s.get({ integration: 'genesys-eu', subject: 'judy' })).rejects.toThrow();
  });
});

describe('DynamoConnectStateStore', () => {
  const record = (subject: string) => ({
    integration: 'genesys-eu',
    subject,
    redirectUri: 'https://tokenvend.example/oauth/genesys-eu/callback',
    codeVerifier: token('verifier'),
    createdAt: now(),
  });

  it('hands a state out exactly once, even to concurrent callbacks', async () => {
    const states = new DynamoConnectStateStore({ tableName, client, nowMs: () => clockMs });
    const state = token('state');
    const kim = record('kim');
    await states.put(state, kim, now() + 600);
    await expect(states.put(state, record('mallory'), now() + 600)).rejects.toThrow();
    const results = await Promise.all(Array.from({ length: 10 }, () => states.consume(state)));
    expect(results.filter(Boolean)).toEqual([kim]);
    expect(await states.consume(state)).toBeUndefined();
    expect(await states.consume(token('unknown'))).toBeUndefined();
  });

  it('treats an expired state as absent', async () => {
    const states = new DynamoConnectStateStore({ tableName, client, nowMs: () => clockMs });
    const state = token('state');
    await states.put(state, record('lee'), now() + 600);
    clockMs += 601_000;
    expect(await states.consume(state)).toBeUndefined();
  });

  it('keys the record by a hash: the state itself is not in the table', async () => {
    const states = new DynamoConnectStateStore({ tableName, client, nowMs: () => clockMs });
    const state = token('state');
    await states.put(state, record('max'), now() + 600);
    const { connectStateKey } = await import('../../../functions/adapters/dynamodb/schema.js');
    const raw = await documentClient(client).send(
      new GetCommand({ TableName: tableName, Key: connectStateKey(state) }),
    );
    expect(raw.Item).toBeDefined();
    expect(JSON.stringify(raw.Item)).not.toContain(state);
  });
});

describe('DynamoAssertionReplayGuard', () => {
  it('claims an assertion id once per integration until it expires (plus skew)', async () => {
    const guard = new DynamoAssertionReplayGuard({
      tableName,
      client,
      clockSkewSeconds: 60,
      nowMs: () => clockMs,
    });
    const id = `_${token('assertion')}`;
    const notOnOrAfter = now() + 300;
    expect(await guard.claim('genesys-eu', id, notOnOrAfter)).toBe(true);
    expect(await guard.claim('genesys-eu', id, notOnOrAfter)).toBe(false);
    expect(await guard.claim('other-integration', id, notOnOrAfter)).toBe(true);
    const concurrent = await Promise.all(
      Array.from({ length: 8 }, () => guard.claim('genesys-eu', `${id}-race`, notOnOrAfter)),
    );
    expect(concurrent.filter(Boolean)).toHaveLength(1);
    clockMs += 330_000; // past NotOnOrAfter, within the skew: still a replay
    expect(await guard.claim('genesys-eu', id, notOnOrAfter)).toBe(false);
    clockMs += 31_000; // past NotOnOrAfter + skew: the record is dead, whether or not TTL deleted it
    expect(await guard.claim('genesys-eu', id, notOnOrAfter)).toBe(true);
  });
});
