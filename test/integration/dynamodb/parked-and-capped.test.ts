/**
 * The browser-flow stores against AWS's own DynamoDB Local: parked connections (single use, encrypted under
 * integration + starting subject, keyed by a hash of the claim code) and the per-subject cap on outstanding
 * connect states (checklist 54), including concurrent starts.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createLocalCipher } from '../../../functions/adapters/crypto/index.js';
import {
  DynamoConnectionStore,
  DynamoConnectStateStore,
  DynamoParkedConnectionStore,
  documentClient,
  parkedConnectionKey,
} from '../../../functions/adapters/dynamodb/index.js';
import type { ParkedConnection } from '../../../functions/core/lifecycle/store.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../support/dynamodb-local.js';

let ddb: DynamoDbLocal;
let client: DynamoDBClient;
let tableName: string;
let clockMs = Date.now();
const cipher = createLocalCipher(randomBytes(32));
const secret = (label: string) => `${label}-${randomBytes(16).toString('base64url')}`;
const now = () => Math.floor(clockMs / 1000);

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

function parked(subject: string): ParkedConnection {
  return {
    integration: 'genesys-eu',
    subject,
    grant: 'authorization_code',
    tokens: {
      accessToken: secret('at'),
      refreshToken: secret('rt'),
      tokenType: 'Bearer',
      expiresAt: now() + 300,
      issuedAt: now(),
    },
    createdAt: now(),
  };
}

describe('DynamoParkedConnectionStore', () => {
  const store = () => new DynamoParkedConnectionStore({ tableName, client, cipher });

  it('hands a parked connection out exactly once, even to concurrent claims', async () => {
    const code = secret('claim');
    const alice = parked('alice');
    await store().park(code, alice, now() + 600);
    await expect(store().park(code, parked('mallory'), now() + 600)).rejects.toThrow();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => store().consume(code, 'genesys-eu', now())),
    );
    expect(results.filter(Boolean)).toEqual([{ parked: alice, expired: false }]);
    expect(await store().consume(code, 'genesys-eu', now())).toBeUndefined();
  });

  it('a code presented for another integration finds nothing and stays claimable', async () => {
    const code = secret('claim');
    await store().park(code, parked('bob'), now() + 600);
    expect(await store().consume(code, 'ringcentral', now())).toBeUndefined();
    expect((await store().consume(code, 'genesys-eu', now()))?.parked.subject).toBe('bob');
  });

  it('an expired record comes back once, marked expired (so its tokens can be revoked), then is gone', async () => {
    const code = secret('claim');
    await store().park(code, parked('carol'), now() + 600);
    const late = await store().consume(code, 'genesys-eu', now() + 601);
    expect(late).toMatchObject({ expired: true, parked: { subject: 'carol' } });
    expect(await store().consume(code, 'genesys-eu', now())).toBeUndefined();
  });

  it('stores neither the claim code nor a token in the clear', async () => {
    const code = secret('claim');
    const dave = parked('dave');
    await store().park(code, dave, now() + 600);
    const raw = await documentClient(client).send(
      new GetCommand({ TableName: tableName, Key: parkedConnectionKey(code) }),
    );
    const text = JSON.stringify(raw.Item);
    expect(raw.Item?.ttl).toBe(now() + 600);
    for (const value of [code, dave.tokens.accessToken, String(dave.tokens.refreshToken)]) {
      expect(text).not.toContain(value);
    }
  });

  it('a parked ciphertext does not decrypt as a connection token of the same subject', async () => {
    const code = secret('claim');
    await store().park(code, parked('erin'), now() + 600);
    const raw = await documentClient(client).send(
      new GetCommand({ TableName: tableName, Key: parkedConnectionKey(code) }),
    );
    await expect(
      cipher.decrypt(String(raw.Item?.tokens), {
        integration: 'genesys-eu',
        subject: 'erin',
        kind: 'access_token',
      }),
    ).rejects.toThrow();
    // ... nor under another starting subject.
    await expect(
      cipher.decrypt(String(raw.Item?.tokens), {
        integration: 'genesys-eu',
        subject: 'mallory',
        kind: 'parked_tokens',
      } as unknown as Parameters<typeof cipher.decrypt>[1]),
    ).rejects.toThrow();
    // The connection store is untouched by parking.
    const connections = new DynamoConnectionStore({ tableName, client, cipher });
    expect(await connections.get({ integration: 'genesys-eu', subject: 'erin' })).toBeUndefined();
  });
});

describe('DynamoConnectStateStore: checklist 54, outstanding states capped per subject', () => {
  const states = () => new DynamoConnectStateStore({ tableName, client, nowMs: () => clockMs });
  const record = (subject: string) => ({
    integration: 'genesys-eu',
    subject,
    redirectUri: 'https://tokenvend.example/oauth/genesys-eu/callback',
    createdAt: now(),
  });
  const cap = { maxPerSubject: 3 };

  it('refuses the state over the cap with the time the first one frees; consuming or expiring frees a slot', async () => {
    const first = secret('state');
    expect(await states().put(first, record('frank'), now() + 600, cap)).toEqual({ stored: true });
    clockMs += 10_000;
    for (let i = 0; i < 2; i++) {
      expect(await states().put(secret('state'), record('frank'), now() + 600, cap)).toEqual({
        stored: true,
      });
    }
    const refused = await states().put(secret('state'), record('frank'), now() + 600, cap);
    expect(refused).toEqual({ stored: false, freeAt: now() - 10 + 600 });
    // Another subject is not affected.
    expect((await states().put(secret('state'), record('grace'), now() + 600, cap)).stored).toBe(true);
    // The callback consumes one: a slot is free again.
    expect(await states().consume(first)).toMatchObject({ subject: 'frank' });
    expect((await states().put(secret('state'), record('frank'), now() + 600, cap)).stored).toBe(true);
    expect((await states().put(secret('state'), record('frank'), now() + 600, cap)).stored).toBe(false);
    // Unfinished states stop counting when they expire.
    clockMs += 601_000;
    expect((await states().put(secret('state'), record('frank'), now() + 600, cap)).stored).toBe(true);
  });

  it('concurrent starts of one subject never exceed the cap', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => states().put(secret('state'), record('heidi'), now() + 600, cap)),
    );
    expect(answers.filter((a) => a.stored).length).toBeLessThanOrEqual(3);
    let stored = answers.filter((a) => a.stored).length;
    while ((await states().put(secret('state'), record('heidi'), now() + 600, cap)).stored) stored++;
    expect(stored).toBe(3);
  });

  it('without a cap, put behaves as before (and a duplicate state still throws)', async () => {
    const state = secret('state');
    expect(await states().put(state, record('ivan'), now() + 600)).toEqual({ stored: true });
    await expect(states().put(state, record('ivan'), now() + 600)).rejects.toThrow();
  });
});
