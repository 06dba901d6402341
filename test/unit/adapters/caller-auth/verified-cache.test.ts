import { VerifiedTokenCache } from '../../../../functions/adapters/caller-auth/verified-cache.js';

describe('VerifiedTokenCache', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('returns a verified identity until the max age', () => {
    const cache = new VerifiedTokenCache<string>({ maxAgeMs: 60_000, nowMs: clock });
    cache.set('token-a', 'alice', now / 1000 + 3600);
    expect(cache.get('token-a')).toBe('alice');
    now += 60_001;
    expect(cache.get('token-a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never keeps an entry past the token exp', () => {
    const cache = new VerifiedTokenCache<string>({ maxAgeMs: 60_000, nowMs: clock });
    cache.set('token-b', 'bob', now / 1000 + 5);
    now += 5_000;
    expect(cache.get('token-b')).toBeUndefined();
  });

  it('does not store an already expired token', () => {
    const cache = new VerifiedTokenCache<string>({ nowMs: clock });
    cache.set('token-c', 'carol', now / 1000 - 1);
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = new VerifiedTokenCache<string>({ maxEntries: 2, nowMs: clock });
    const exp = now / 1000 + 3600;
    cache.set('t1', 'one', exp);
    cache.set('t2', 'two', exp);
    expect(cache.get('t1')).toBe('one');
    cache.set('t3', 'three', exp);
    expect(cache.get('t2')).toBeUndefined();
    expect(cache.get('t1')).toBe('one');
    expect(cache.get('t3')).toBe('three');
  });

  it('is off with maxEntries 0', () => {
    const cache = new VerifiedTokenCache<string>({ maxEntries: 0, nowMs: clock });
    cache.set('t', 'x', now / 1000 + 3600);
    expect(cache.get('t')).toBeUndefined();
  });

  it('keys by digest, so a token that differs in one character misses', () => {
    const cache = new VerifiedTokenCache<string>({ nowMs: clock });
    cache.set('header.payload.signature', 'alice', now / 1000 + 3600);
    expect(cache.get('header.payload.signaturf')).toBeUndefined();
    expect(VerifiedTokenCache.keyOf('header.payload.signature')).not.toContain('payload');
  });
});
