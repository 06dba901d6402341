import { ConfigError } from '../../../../functions/core/errors.js';
import { applyClientAuth, isPublicClient } from '../../../../functions/core/oauth/client-auth.js';
import { errorText, thrown } from '../fixtures.js';

const fresh = () => ({ headers: {} as Record<string, string>, params: {} as Record<string, string> });

describe('applyClientAuth', () => {
  it('basic: form-encodes id and secret before base64 (RFC 6749 §2.3.1)', () => {
    const r = fresh();
    applyClientAuth('basic', { client_id: 'my:client id', client_secret: 'p+ss:w/rd é' }, r);
    const header = r.headers.authorization as string;
    expect(header.startsWith('Basic ')).toBe(true);
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    expect(decoded).toBe('my%3Aclient+id:p%2Bss%3Aw%2Frd+%C3%A9');
    // Exactly one raw colon separates the two halves, so the server splits them right.
    const [id, secret, ...rest] = decoded.split(':');
    expect(rest).toEqual([]);
    expect(new URLSearchParams(`a=${id}`).get('a')).toBe('my:client id');
    expect(new URLSearchParams(`a=${secret}`).get('a')).toBe('p+ss:w/rd é');
    expect(r.params).toEqual({});
  });

  it('basic: also sends client_id in the body when asked', () => {
    const r = fresh();
    applyClientAuth('basic', { client_id: 'cid', client_secret: 's' }, r, { sendClientIdInBody: true });
    expect(r.params).toEqual({ client_id: 'cid' });
  });

  it('body: client_id and client_secret as parameters, no header', () => {
    const r = fresh();
    applyClientAuth('body', { client_id: 'cid', client_secret: 'a:b+c' }, r);
    expect(r.params).toEqual({ client_id: 'cid', client_secret: 'a:b+c' });
    expect(r.headers).toEqual({});
  });

  it('none: client_id only, even when a secret exists', () => {
    const r = fresh();
    applyClientAuth('none', { client_id: 'cid', client_secret: 'unused' }, r);
    expect(r.params).toEqual({ client_id: 'cid' });
    expect(r.headers).toEqual({});
  });

  it.each(['basic', 'body'] as const)('%s without a secret is a ConfigError', (auth) => {
    for (const client of [{ client_id: 'cid' }, { client_id: 'cid', client_secret: '' }]) {
      const e = thrown(() => applyClientAuth(auth, client, fresh()));
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).message).toMatch(/needs a client_secret/);
    }
  });

  it('never puts the secret into an error', () => {
    // A failing secret-less call carries nothing; a working one throws nothing: check the only error path.
    const e = thrown(() => applyClientAuth('body', { client_id: 'cid', other: 'VERY-SECRET' }, fresh()));
    expect(errorText(e)).not.toContain('VERY-SECRET');
  });
});

describe('isPublicClient', () => {
  it('is true exactly when there is no secret', () => {
    expect(isPublicClient({ client_id: 'a' })).toBe(true);
    expect(isPublicClient({ client_id: 'a', client_secret: '' })).toBe(true);
    expect(isPublicClient({ client_id: 'a', client_secret: 's' })).toBe(false);
  });
});
