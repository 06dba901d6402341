/**
 * Refresh through /vend: a connection whose access token is within the refresh margin is refreshed on the
 * next vend, and 50 concurrent vends cause exactly one refresh at the vendor (single-flight lease).
 */
import { connect, OIDC, type Stack, sleep, startStack } from './support/stack.js';

const TTL_SECONDS = 80;
/**
 * Refresh once 5% of the lifetime has passed: due 4 s after issue (and still valid for ~76 s), so the burst
 * below has at least 3 s before the refreshed token is due in turn.
 */
const FRACTION = 0.05;
const DUE_AFTER_MS = Math.floor(TTL_SECONDS * FRACTION) * 1000;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    accessTokenTtl: TTL_SECONDS,
    templateOverrides: { refresh: { refreshAt: { kind: 'lifetime-fraction', fraction: FRACTION } } },
  });
});

afterAll(async () => {
  await stack?.close();
});

it('50 concurrent vends of a token within the margin make exactly one vendor refresh', async () => {
  const { answer } = await connect(stack, 'alice');
  expect(answer.status).toBe(302);
  const alice = await stack.token('alice');
  const first = await stack.call('GET', `/vend/${OIDC}`, { token: alice });
  expect(first.status).toBe(200);
  const oldToken = first.json?.access_token;
  expect(stack.vendor.tokenRequests('refresh_token')).toBe(0);

  // Issued-at has one-second granularity: wait one more second so every vend below sees the token as due.
  await sleep(DUE_AFTER_MS + 1000);
  const vends = await Promise.all(
    Array.from({ length: 50 }, () => stack.call('GET', `/vend/${OIDC}`, { token: alice })),
  );
  expect(vends.map((v) => v.status)).toEqual(Array(50).fill(200));
  expect(stack.vendor.tokenRequests('refresh_token')).toBe(1);
  expect(stack.spy.count('/token', 'refresh_token')).toBe(1);

  const after = await stack.call('GET', `/vend/${OIDC}`, { token: alice });
  const newToken = after.json?.access_token;
  expect(newToken).not.toBe(oldToken);
  // Callers during the refresh get the still-valid old token or the new one, never anything else.
  for (const v of vends) expect([oldToken, newToken]).toContain(v.json?.access_token);
  expect(vends.some((v) => v.json?.access_token === newToken)).toBe(true);
  expect(after.json?.expires_in as number).toBeGreaterThan(TTL_SECONDS - 10);

  const me = await fetch(stack.vendor.userinfoEndpoint, { headers: { authorization: `Bearer ${newToken}` } });
  expect(me.status).toBe(200);
  // The rotated refresh token was stored: disconnecting revokes the live grant (a lost one would be unknown).
  expect((await stack.call('DELETE', `/connections/${OIDC}`, { token: alice })).status).toBe(204);
  const revoked = await fetch(stack.vendor.userinfoEndpoint, {
    headers: { authorization: `Bearer ${newToken}` },
  });
  expect(revoked.status).toBe(401);
  expect(stack.vendor.tokenRequests('refresh_token')).toBe(1);
});
