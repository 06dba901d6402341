/**
 * A connection whose callback selected its vendor host (Zoho's accounts-server picks the data centre) is refreshed
 * there by the real lifecycle over DynamoDB Local, whatever the integration's own default is.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createLocalCipher } from '../../../functions/adapters/crypto/index.js';
import { DynamoConnectionStore } from '../../../functions/adapters/dynamodb/index.js';
import { loadBuiltinProviders } from '../../../functions/adapters/provider-files.js';
import { LocalSecretSource } from '../../../functions/adapters/secrets/index.js';
import { TokenLifecycle } from '../../../functions/core/lifecycle/lifecycle.js';
import type { FetchLike } from '../../../functions/core/oauth/http.js';
import { resolveProvider } from '../../../functions/core/provider/resolve.js';
import { useDynamoTable } from '../../support/dynamodb-local.js';

const table = useDynamoTable();

describe('a connection bound to the host its callback selected', () => {
  it('is refreshed at that host, not at the integration default', async () => {
    const template = (await loadBuiltinProviders()).get('zoho-desk');
    if (!template) throw new Error('no zoho-desk template');
    const integration = { id: 'zoho', provider: resolveProvider(template, {}) };
    expect(integration.provider.endpoints.token).toBe('https://accounts.zoho.com/oauth/v2/token');
    const seen: string[] = [];
    const fetch: FetchLike = async (input) => {
      seen.push(String(input));
      return new Response(
        JSON.stringify({ access_token: `at-${randomUUID()}`, token_type: 'Bearer', expires_in_sec: 3600 }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      );
    };
    let nowMs = Date.parse('2026-12-02T10:00:00Z');
    const lifecycle = new TokenLifecycle({
      store: new DynamoConnectionStore({
        tableName: table.tableName,
        client: table.client,
        cipher: createLocalCipher(randomBytes(32)),
        nowMs: () => nowMs,
      }),
      secrets: new LocalSecretSource({ zoho: { client_id: 'cid', client_secret: `sec-${randomUUID()}` } }),
      fetch,
      nowMs: () => nowMs,
    });
    const subject = `user:local:${randomUUID()}`;
    await lifecycle.storeNewConnection(integration, {
      subject,
      grant: 'authorization_code',
      tokens: {
        accessToken: `at-${randomUUID()}`,
        tokenType: 'Bearer',
        refreshToken: `rt-${randomUUID()}`,
        expiresAt: Math.floor(nowMs / 1000) + 3600,
        issuedAt: Math.floor(nowMs / 1000),
        metadata: { accountsServer: 'https://accounts.zoho.eu', location: 'eu' },
      },
    });
    nowMs += 3_600_000;
    const token = await lifecycle.getFreshToken(integration, subject);
    expect(token.source).toBe('refreshed');
    expect(seen).toEqual(['https://accounts.zoho.eu/oauth/v2/token']);
  });
});
