/**
 * Static API keys (`grants.static.scheme: token`): the integration's secret field becomes the vended access
 * token as it is, with the template's token type, and the template's `usage` says how an API call carries it
 * (a custom header such as `X-Api-Key`, or `Authorization: Token token=...`). No token endpoint, no expiry.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../../../../functions/core/errors.js';
import { authorizationFor, staticTokenSet } from '../../../../functions/core/oauth/engine.js';
import { errorText, provider, thrown } from '../fixtures.js';

const NOW = 1_900_000_000;
const apiKey = () => `key-${randomUUID()}`;

function keyProvider(usage: Record<string, unknown>, grant: Record<string, unknown> = {}) {
  return provider({
    endpoints: {},
    grants: { static: { scheme: 'token', token: '${secret.api_key}', ...grant } },
    usage,
  });
}

describe('static token scheme', () => {
  it('vends the secret as an X-Api-Key header, never expiring', () => {
    const p = keyProvider({ in: 'header', name: 'X-Api-Key', value: '${access_token}' });
    const key = apiKey();
    const tokens = staticTokenSet(p, { api_key: key, client_id: 'unused' }, NOW);
    expect(tokens).toEqual({ accessToken: key, tokenType: 'Token', issuedAt: NOW });
    expect(tokens.expiresAt).toBeUndefined();
    expect(tokens.refreshToken).toBeUndefined();
    expect(authorizationFor(p, tokens)).toEqual({ header: 'X-Api-Key', value: key });
  });

  it('vends it as Authorization: Token token=<key> (the value template wraps it)', () => {
    const p = keyProvider({ in: 'header', name: 'Authorization', value: 'Token token=${access_token}' });
    const key = apiKey();
    expect(authorizationFor(p, staticTokenSet(p, { api_key: key }, NOW))).toEqual({
      header: 'Authorization',
      value: `Token token=${key}`,
    });
  });

  it('uses the template’s token type in the default usage', () => {
    const p = provider({
      endpoints: {},
      grants: { static: { scheme: 'token', token: '${secret.api_key}', tokenType: 'Bearer' } },
    });
    const key = apiKey();
    const tokens = staticTokenSet(p, { api_key: key }, NOW);
    expect(tokens.tokenType).toBe('Bearer');
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: `Bearer ${key}` });
  });

  it('a secret without the field is a configuration error that names the field, not another secret', () => {
    const p = keyProvider({ in: 'header', name: 'X-Api-Key', value: '${access_token}' });
    const other = apiKey();
    const error = thrown(() => staticTokenSet(p, { token: other }, NOW));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/secret\.api_key/);
    expect(errorText(error)).not.toContain(other);
  });

  it('the basic scheme still gives Basic user:password', () => {
    const p = provider({
      endpoints: {},
      grants: { static: { username: '${secret.username}', password: '${secret.password}' } },
    });
    const pw = apiKey();
    const tokens = staticTokenSet(p, { username: 'svc', password: pw }, NOW);
    expect(authorizationFor(p, tokens)).toEqual({
      header: 'Authorization',
      value: `Basic ${Buffer.from(`svc:${pw}`).toString('base64')}`,
    });
  });
});
