/**
 * Outstanding SP-initiated SAML requests on AWS's own DynamoDB Local (checklist 21): single use under
 * concurrency, never consumed at another integration, never after its expiry (even before TTL deletion), and
 * keyed by a hash of the request ID.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  DynamoSamlRequestStore,
  documentClient,
  samlRequestKey,
} from '../../../functions/adapters/dynamodb/index.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../support/dynamodb-local.js';
import { newId } from '../../support/saml-idp.js';

let ddb: DynamoDbLocal;
let client: DynamoDBClient;
let tableName: string;
const NOW = Math.floor(Date.now() / 1000);

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  tableName = await ddb.createTable();
  client = ddb.client();
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await ddb?.stop();
});

const store = () => new DynamoSamlRequestStore({ tableName, client });

describe('DynamoSamlRequestStore', () => {
  it('returns the request once, with its return URL; the ID is stored only as a hash', async () => {
    const id = newId();
    const record = { integration: 'genesys-eu', returnTo: 'https://agent.example.com/x', createdAt: NOW };
    await store().put(id, record, NOW + 600);
    const raw = await documentClient(client).send(
      new GetCommand({ TableName: tableName, Key: samlRequestKey(id) }),
    );
    expect(JSON.stringify(raw.Item)).not.toContain(id);
    expect(raw.Item).toMatchObject({ kind: 'saml_request', integration: 'genesys-eu', ttl: NOW + 600 });
    expect(await store().consume(id, 'genesys-eu', NOW)).toEqual(record);
    expect(await store().consume(id, 'genesys-eu', NOW)).toBeUndefined();
  });

  it('checklist 21: of 20 concurrent consumers on separate clients exactly one gets the request', async () => {
    const id = newId();
    await store().put(id, { integration: 'genesys-eu', createdAt: NOW }, NOW + 600);
    const clients = Array.from({ length: 20 }, () => ddb.client());
    const results = await Promise.all(
      clients.map((c) => new DynamoSamlRequestStore({ tableName, client: c }).consume(id, 'genesys-eu', NOW)),
    );
    for (const c of clients) c.destroy();
    expect(results.filter((r) => r !== undefined)).toEqual([{ integration: 'genesys-eu', createdAt: NOW }]);
  });

  it("checklist 21: another integration's consume finds nothing and leaves the request usable", async () => {
    const id = newId();
    await store().put(id, { integration: 'genesys-eu', createdAt: NOW }, NOW + 600);
    expect(await store().consume(id, 'genesys-us', NOW)).toBeUndefined();
    expect(await store().consume(id, 'genesys-eu', NOW)).toMatchObject({ integration: 'genesys-eu' });
  });

  it('checklist 21: an expired request (not yet deleted by TTL) is never consumed; unknown IDs neither', async () => {
    const id = newId();
    await store().put(id, { integration: 'genesys-eu', createdAt: NOW - 700 }, NOW - 100);
    expect(await store().consume(id, 'genesys-eu', NOW)).toBeUndefined();
    expect(await store().consume(id, 'genesys-eu', NOW - 101)).toMatchObject({ integration: 'genesys-eu' });
    expect(await store().consume(newId(), 'genesys-eu', NOW)).toBeUndefined();
  });

  it('refuses to overwrite an existing request ID', async () => {
    const id = newId();
    await store().put(id, { integration: 'genesys-eu', createdAt: NOW }, NOW + 600);
    await expect(store().put(id, { integration: 'genesys-us', createdAt: NOW }, NOW + 600)).rejects.toThrow();
  });
});
