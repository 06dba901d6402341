/**
 * The scheduled refresh through `npm start`'s runtime (planner + worker in process, the same handlers as in
 * AWS), and the vendor-protection rules on every path: 2-second access tokens stay fresh with nobody vending,
 * 50 concurrent vends make one refresh, and after a 429, 503, invalid_grant or unreadable answer neither /vend
 * nor the worker calls the vendor again before the stored not-before time.
 */

import { LOCAL_NAMESPACE, userSubject } from '../../functions/core/subject.js';
import { connect, type HttpAnswer, OIDC, type Stack, sleep, startStack } from './support/stack.js';

const TTL = 2;

function refreshes(stack: Stack) {
  return stack.spy.requests.filter(
    (r) => r.path === '/token' && r.form.get('grant_type') === 'refresh_token',
  );
}

/** Waits until just after a whole second, so a burst's issued-at second has the most room left. */
async function atSecondStart(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 20);
}

/** Connects `sub`; returns its caller JWT and a counter of the refresh requests that send its refresh token. */
async function connected(stack: Stack, sub: string): Promise<{ token: string; sent: () => number }> {
  const seen = stack.spy.requests.length;
  const { answer } = await connect(stack, sub);
  expect(answer.status).toBe(302);
  const redeem = stack.spy.requests
    .slice(seen)
    .find((r) => r.form.get('grant_type') === 'authorization_code');
  const refreshToken = (JSON.parse(redeem?.response ?? '{}') as { refresh_token?: string }).refresh_token;
  expect(refreshToken).toBeDefined();
  return {
    token: await stack.token(sub),
    sent: () => refreshes(stack).filter((r) => r.form.get('refresh_token') === refreshToken).length,
  };
}

async function vends(stack: Stack, token: string, count: number, parallel = 10): Promise<HttpAnswer[]> {
  const out: HttpAnswer[] = [];
  for (let i = 0; i < count; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - i) }, () =>
      stack.call('GET', `/vend/${OIDC}`, { token }),
    );
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

describe('scheduled refresh with nobody vending', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Two planner runs per second: a run delayed by a loaded machine still leaves one before the token expires.
    stack = await startStack({ accessTokenTtl: TTL, refreshIntervalMs: 500 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('keeps 2-second tokens fresh: every refresh lands before the previous token expires', async () => {
    await connected(stack, 'alice');
    await sleep(7_000);
    const tokenCalls = stack.spy.requests.filter((r) => r.path === '/token');
    expect(tokenCalls[0]?.form.get('grant_type')).toBe('authorization_code');
    const rounds = refreshes(stack);
    expect(rounds.length).toBeGreaterThanOrEqual(4);
    let expiresAtMs = (tokenCalls[0]?.at ?? 0) + TTL * 1000;
    for (const r of rounds) {
      expect(r.status).toBe(200);
      expect(r.at).toBeLessThan(expiresAtMs);
      const answer = JSON.parse(r.response ?? '{}') as { expires_in: number };
      expiresAtMs = r.at + answer.expires_in * 1000;
    }
    // Each refresh token is sent once: the rotation never reuses one (oidc-provider would revoke the grant).
    const sent = rounds.map((r) => r.form.get('refresh_token'));
    expect(new Set(sent).size).toBe(sent.length);
    const events = stack.server.local.events.recent.map((e) => e.type);
    expect(events).toContain('connection.connected');
    expect(events).not.toContain('connection.refresh_failed');
  }, 20_000);
});

describe('the vend path with short-lived tokens and a failing vendor', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ accessTokenTtl: TTL });
  });
  afterAll(async () => {
    await stack?.close();
  });
  afterEach(() => stack.spy.heal());

  it('checklist 32: gives 50 concurrent vends of an expired 2-second token one refresh and one token', async () => {
    const { token } = await connected(stack, 'bob');
    await sleep(TTL * 1000);
    await atSecondStart();
    const before = refreshes(stack).length;
    const startedMs = Date.now();
    const answers = await vends(stack, token, 50, 50);
    const tookMs = Date.now() - startedMs;
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    const burst = refreshes(stack).slice(before);
    // Never the same refresh token twice: each token the vendor issued is refreshed at most once.
    const sent = burst.map((r) => r.form.get('refresh_token'));
    expect(new Set(sent).size).toBe(sent.length);
    if (tookMs < 1_500) {
      // The burst ends while the refreshed token still lives: one refresh, one token for all 50.
      expect(burst).toHaveLength(1);
      expect(new Set(answers.map((a) => a.json?.access_token)).size).toBe(1);
    } else {
      // A starved machine stretched the burst past the new token's own lifetime: one refresh per lifetime.
      expect(burst.length).toBeLessThanOrEqual(1 + Math.ceil(tookMs / (TTL * 1000)));
    }
  });

  it('checklist 39, 56: after a 429 with Retry-After, neither /vend nor the worker calls the vendor before it passes', async () => {
    const { token, sent } = await connected(stack, 'carol');
    await sleep(TTL * 1000);
    stack.spy.inject('refresh_token', {
      status: 429,
      headers: { 'retry-after': '60' },
      body: '{"error":"slow_down"}',
    });
    const answers = await vends(stack, token, 100);
    for (let tick = 0; tick < 3; tick++) await stack.server.local.scheduler.tick();
    expect(sent()).toBe(1);
    // The token expired: every answer is a 503 that says when to come back.
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([503]));
    const retryAfter = Number(answers.at(-1)?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(stack.server.local.events.recent).toContainEqual(
      expect.objectContaining({
        type: 'connection.refresh_failed',
        integration: OIDC,
        reason: 'rate_limited',
      }),
    );
  }, 20_000);

  it('checklist 39, 56: hands out the still-valid token during the backoff and calls a 503 vendor O(1) times for 300 vends', async () => {
    await atSecondStart();
    const { token, sent } = await connected(stack, 'dave');
    await sleep(1_100); // due (half the lifetime) but valid
    stack.spy.inject('refresh_token', { status: 503, body: '{"error":"temporarily_unavailable"}' });
    const first = await stack.call('GET', `/vend/${OIDC}`, { token });
    expect(first.status).toBe(200);
    const answers = await vends(stack, token, 300);
    expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
    // Backoff with full jitter: 1..5 s, then 1..10 s, ... so a burst of 300 reaches the vendor a few times at most.
    expect(sent()).toBeGreaterThanOrEqual(1);
    expect(sent()).toBeLessThanOrEqual(4);
  }, 20_000);

  it('checklist 40: invalid_grant marks the connection needs_reauth, publishes it, never retries and stores no vendor text', async () => {
    const { token, sent } = await connected(stack, 'erin');
    await sleep(TTL * 1000);
    const echo = `refresh_token=${stack.clientSecret}`;
    stack.spy.inject('refresh_token', {
      status: 400,
      body: JSON.stringify({ error: 'invalid_grant', error_description: echo }),
    });
    const answers = await vends(stack, token, 20);
    await stack.server.local.scheduler.tick();
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([409]));
    expect(answers[0]?.json?.reason).toBe('invalid_grant');
    expect(sent()).toBe(1);
    expect(stack.server.local.events.recent).toContainEqual(
      expect.objectContaining({ type: 'connection.needs_reauth', reason: 'invalid_grant' }),
    );
    const stored = await stack.server.local.app.flows.store.get({
      integration: OIDC,
      subject: userSubject(LOCAL_NAMESPACE, 'erin'),
    });
    expect(stored?.lastError?.code).toBe('invalid_grant');
    expect(JSON.stringify(stored?.lastError)).not.toContain(stack.clientSecret);
    expect(answers.map((a) => a.text).join('')).not.toContain(stack.clientSecret);
  }, 20_000);

  it('an unreadable 200 answer backs off like a failure and is stored as a class, not as the body', async () => {
    const { token, sent } = await connected(stack, 'frank');
    await sleep(TTL * 1000);
    stack.spy.inject('refresh_token', { status: 200, body: 'this is not json' });
    const answers = await vends(stack, token, 30);
    expect(answers[0]?.status).toBe(503);
    expect(sent()).toBe(1);
    const stored = await stack.server.local.app.flows.store.get({
      integration: OIDC,
      subject: userSubject(LOCAL_NAMESPACE, 'frank'),
    });
    expect(stored?.lastError?.code).toBe('malformed_response');
    expect(stored?.notBefore).toBeGreaterThan(Math.floor(Date.now() / 1000) - 1);
  }, 20_000);
});
