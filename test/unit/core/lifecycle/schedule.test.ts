/** The pure lifecycle rules: merging a refresh answer, the item's TTL and the refresh schedule. */
import {
  canRefresh,
  connectionExpiresAt,
  mergeRefreshed,
  plannedRefreshAt,
} from '../../../../functions/core/lifecycle/schedule.js';
import { loadProviderTemplate } from '../../../../functions/core/provider/load.js';
import { resolveProvider } from '../../../../functions/core/provider/resolve.js';
import { refreshPolicySchema } from '../../../../functions/core/provider/schema.js';
import type { TokenSet } from '../../../../functions/core/token-set.js';

const T0 = 1_800_000_000;
const base: TokenSet = {
  accessToken: 'at-1',
  tokenType: 'Bearer',
  expiresAt: T0 + 300,
  refreshToken: 'rt-1',
  refreshExpiresAt: T0 + 30 * 86_400,
  idToken: 'id-1',
  scopes: ['all'],
  issuedAt: T0,
};

describe('mergeRefreshed', () => {
  it('keeps the stored refresh token (and its expiry) when the answer has none', () => {
    const merged = mergeRefreshed(base, {
      accessToken: 'at-2',
      tokenType: 'Bearer',
      expiresAt: T0 + 900,
      issuedAt: T0 + 600,
    });
    expect(merged).toMatchObject({
      accessToken: 'at-2',
      refreshToken: 'rt-1',
      refreshExpiresAt: base.refreshExpiresAt,
      idToken: 'id-1',
      scopes: ['all'],
      issuedAt: T0 + 600,
    });
  });

  it('takes a rotated refresh token with its own expiry', () => {
    const merged = mergeRefreshed(base, {
      accessToken: 'at-2',
      tokenType: 'Bearer',
      refreshToken: 'rt-2',
      refreshExpiresAt: T0 + 600 + 86_400,
      issuedAt: T0 + 600,
    });
    expect(merged).toMatchObject({ refreshToken: 'rt-2', refreshExpiresAt: T0 + 600 + 86_400 });
  });
});

describe('connectionExpiresAt (TTL)', () => {
  const policy = refreshPolicySchema.parse({});

  it('follows the refresh token for a refreshable connection, never the 5-minute access token', () => {
    expect(connectionExpiresAt(policy, base, true, 3600)).toBe(T0 + 30 * 86_400 + 3600);
  });

  it('uses the idle lapse when it comes first (RingCentral 7 days)', () => {
    const idle = refreshPolicySchema.parse({ refreshTokenIdleSeconds: 7 * 86_400 });
    expect(connectionExpiresAt(idle, base, true, 60)).toBe(T0 + 7 * 86_400 + 60);
  });

  it('follows the access token when the connection cannot refresh, and never ends before it', () => {
    expect(connectionExpiresAt(policy, base, false, 60)).toBe(T0 + 300 + 60);
    const odd = { ...base, refreshExpiresAt: T0 + 100 };
    expect(connectionExpiresAt(policy, odd, true, 0)).toBe(T0 + 300);
  });

  it('has no TTL when the deciding credential never expires', () => {
    expect(connectionExpiresAt(policy, { ...base, refreshExpiresAt: undefined }, true, 60)).toBeUndefined();
    expect(connectionExpiresAt(policy, { ...base, expiresAt: undefined }, false, 60)).toBeUndefined();
  });
});

describe('plannedRefreshAt', () => {
  const policy = refreshPolicySchema.parse({ refreshAt: { kind: 'before-expiry', seconds: 60 } });
  const options = { hotWindowSeconds: 3600, keepaliveMarginSeconds: 86_400 };

  it('keeps a recently vended connection hot: due ahead of access-token expiry', () => {
    expect(plannedRefreshAt(policy, base, true, T0, options)).toBe(T0 + 240);
  });

  it('gives an idle connection only the keepalive before its refresh token lapses', () => {
    expect(plannedRefreshAt(policy, base, true, T0 - 7200, options)).toBe(T0 + 29 * 86_400);
    expect(plannedRefreshAt(policy, base, true, undefined, options)).toBe(T0 + 29 * 86_400);
  });

  it('caps the keepalive margin at half the refresh token lifetime', () => {
    const short = { ...base, refreshExpiresAt: T0 + 3600 };
    expect(plannedRefreshAt(policy, short, true, undefined, options)).toBe(T0 + 1800);
  });

  it('schedules nothing for connections that cannot refresh or never lapse while idle', () => {
    expect(plannedRefreshAt(policy, base, false, T0, options)).toBeUndefined();
    expect(
      plannedRefreshAt(policy, { ...base, refreshExpiresAt: undefined }, true, undefined, options),
    ).toBeUndefined();
  });
});

describe('canRefresh', () => {
  const template = (grants: object) =>
    resolveProvider(
      loadProviderTemplate({
        id: 'x',
        name: 'X',
        endpoints: { authorize: 'https://x.example/auth', token: 'https://x.example/token' },
        grants,
      }),
    );

  it('needs a refresh token, the refresh grant, and a grant that allows refreshing', () => {
    const p = template({ authorization_code: {}, refresh_token: {}, saml2_bearer: { refreshable: false } });
    expect(canRefresh(p, 'authorization_code', true)).toBe(true);
    expect(canRefresh(p, 'authorization_code', false)).toBe(false);
    expect(canRefresh(p, 'saml2_bearer', true)).toBe(false);
    expect(canRefresh(template({ authorization_code: {} }), 'authorization_code', true)).toBe(false);
  });
});
