import { refreshPolicySchema } from '../../../functions/core/provider/schema.js';
import { isRefreshDue, refreshDueAt, refreshTokenLapsesAt } from '../../../functions/core/refresh-policy.js';

const policy = (input: Record<string, unknown> = {}) => refreshPolicySchema.parse(input);
const T0 = 1_800_000_000;

describe('refreshDueAt', () => {
  it('defaults to 60 s before expiry', () => {
    expect(refreshDueAt(policy(), { issuedAt: T0, expiresAt: T0 + 3600 })).toBe(T0 + 3540);
  });

  it('caps the before-expiry margin at half the lifetime', () => {
    const p = policy({ refreshAt: { kind: 'before-expiry', seconds: 300 } });
    expect(refreshDueAt(p, { issuedAt: T0, expiresAt: T0 + 3600 })).toBe(T0 + 3300);
    expect(refreshDueAt(p, { issuedAt: T0, expiresAt: T0 + 300 })).toBe(T0 + 150);
    expect(refreshDueAt(p, { issuedAt: T0, expiresAt: T0 + 301 })).toBe(T0 + 151);
  });

  it('refreshes at a fraction of the lifetime (Finesse 0.75)', () => {
    const p = policy({ refreshAt: { kind: 'lifetime-fraction', fraction: 0.75 } });
    expect(refreshDueAt(p, { issuedAt: T0, expiresAt: T0 + 1800 })).toBe(T0 + 1350);
    expect(refreshDueAt(p, { issuedAt: T0, expiresAt: T0 + 7 })).toBe(T0 + 5);
  });

  it('never sooner than minIntervalSeconds, never later than expiry because of it', () => {
    const p = policy({ refreshAt: { kind: 'before-expiry', seconds: 3000 }, minIntervalSeconds: 2000 });
    expect(refreshDueAt(p, { issuedAt: T0, expiresAt: T0 + 3600 })).toBe(T0 + 2000);
    expect(refreshDueAt(p, { issuedAt: T0, expiresAt: T0 + 600 })).toBe(T0 + 600);
  });

  it('is undefined without expiry, and immediate for an already expired set', () => {
    expect(refreshDueAt(policy(), { issuedAt: T0 })).toBeUndefined();
    expect(refreshDueAt(policy(), { issuedAt: T0, expiresAt: T0 - 10 })).toBe(T0);
  });
});

describe('isRefreshDue', () => {
  it('is due from the due time on, never without expiry', () => {
    const set = { issuedAt: T0, expiresAt: T0 + 3600 };
    expect(isRefreshDue(policy(), set, T0 + 3539)).toBe(false);
    expect(isRefreshDue(policy(), set, T0 + 3540)).toBe(true);
    expect(isRefreshDue(policy(), { issuedAt: T0 }, T0 + 10 ** 9)).toBe(false);
  });
});

describe('refreshTokenLapsesAt', () => {
  const idle = policy({ refreshTokenIdleSeconds: 7 * 86_400 });

  it('is undefined without a refresh token', () => {
    expect(refreshTokenLapsesAt(idle, { issuedAt: T0, refreshExpiresAt: T0 + 10 })).toBeUndefined();
  });

  it('uses the idle window from the last refresh', () => {
    expect(refreshTokenLapsesAt(idle, { issuedAt: T0, refreshToken: 'r' })).toBe(T0 + 7 * 86_400);
  });

  it('takes the earlier of idle window and absolute expiry', () => {
    expect(
      refreshTokenLapsesAt(idle, { issuedAt: T0, refreshToken: 'r', refreshExpiresAt: T0 + 86_400 }),
    ).toBe(T0 + 86_400);
    expect(
      refreshTokenLapsesAt(idle, { issuedAt: T0, refreshToken: 'r', refreshExpiresAt: T0 + 30 * 86_400 }),
    ).toBe(T0 + 7 * 86_400);
  });

  it('without an idle window: the absolute expiry or nothing', () => {
    expect(
      refreshTokenLapsesAt(policy(), { issuedAt: T0, refreshToken: 'r', refreshExpiresAt: T0 + 5 }),
    ).toBe(T0 + 5);
    expect(refreshTokenLapsesAt(policy(), { issuedAt: T0, refreshToken: 'r' })).toBeUndefined();
  });
});
