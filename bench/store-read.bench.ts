/**
 * Warm read-and-decrypt of a connection (the vend path's store read) against a bare GetItem of the same item,
 * on the same DynamoDB Local and SDK client, interleaved in one run. Target: store_read_ratio <= 1.15.
 */
import { randomBytes } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createLocalCipher } from '../functions/adapters/crypto/index.js';
import { connectionKey, DynamoConnectionStore } from '../functions/adapters/dynamodb/index.js';
import { startDynamoDbLocal } from '../test/support/dynamodb-local.js';
import { compare, type Figure } from './lib.js';

export default async function storeRead(): Promise<Figure[]> {
  const ddb = await startDynamoDbLocal();
  const client = ddb.client();
  try {
    const tableName = await ddb.createTable('bench');
    const store = new DynamoConnectionStore({
      tableName,
      client,
      cipher: createLocalCipher(randomBytes(32)),
    });
    const now = Math.floor(Date.now() / 1000);
    const key = { integration: 'genesys-eu', subject: 'bench-agent' };
    const token = () => randomBytes(600).toString('base64url'); // vendor tokens are ~1 KB JWTs
    await store.put({
      ...key,
      grant: 'authorization_code',
      now,
      tokens: {
        accessToken: token(),
        tokenType: 'Bearer',
        expiresAt: now + 86_400,
        refreshToken: token(),
        refreshExpiresAt: now + 30 * 86_400,
        idToken: token(),
        issuedAt: now,
      },
      refreshDueAt: now + 86_000,
      expiresAt: now + 31 * 86_400,
    });
    const { pk, sk } = connectionKey(key.integration, key.subject);
    const bare = () =>
      client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: sk } } }));
    const read = async () => {
      const connection = await store.get(key);
      if (!connection?.tokens.accessToken) throw new Error('no token read');
    };
    const { baseline, candidate, ratio } = await compare(bare, read, { warmup: 200, iterations: 2000 });
    return [
      { name: 'store_warm_read_ms', value: candidate.p50, unit: 'ms' },
      { name: 'bare_getitem_ms', value: baseline.p50, unit: 'ms' },
      { name: 'store_read_ratio', value: ratio, unit: 'x' },
    ];
  } finally {
    client.destroy();
    await ddb.stop();
  }
}
