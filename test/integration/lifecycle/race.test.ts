/**
 * Single-flight refresh under load: 50 concurrent getFreshToken calls spread over 5 simulated Lambdas, against
 * oidc-provider with rotating refresh tokens (reusing one revokes the whole grant), cycle after cycle.
 */
import type { ResolvedProvider } from '../../../functions/core/provider/resolve.js';
import {
  consent,
  type Lambda,
  lambdas,
  recordingFetch,
  resolveTemplate,
  startWorld,
  vendorAccepts,
  type World,
} from './support.js';

let world: World;
let provider: ResolvedProvider;
let fleet: Lambda[];
const sent: string[] = [];
const integration = 'harness';

beforeAll(async () => {
  world = await startWorld({ rotate: true, accessTokenTtl: 120 });
  provider = resolveTemplate(
    world.oidc.template({ refresh: { rotates: true, refreshAt: { kind: 'before-expiry', seconds: 30 } } }),
  );
  fleet = lambdas(world, 5, { provider, fetch: recordingFetch(sent) });
}, 60_000);

afterAll(async () => {
  for (const l of fleet ?? []) l.client.destroy();
  await world?.close();
});

async function burst(subject: string, n = 50) {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      (fleet[i % fleet.length] as Lambda).lifecycle.getFreshToken({ id: integration, provider }, subject),
    ),
  );
}

describe('getFreshToken single-flight', () => {
  it('makes exactly one vendor refresh per cycle for 50 concurrent callers, over 10 cycles', async () => {
    const subject = 'agent-race';
    const first = (fleet[0] as Lambda).lifecycle;
    await first.storeNewConnection(
      { id: integration, provider },
      { subject, grant: 'authorization_code', tokens: await consent(world, provider, subject) },
    );
    let previous = (await first.getFreshToken({ id: integration, provider }, subject)).accessToken;
    world.oidc.resetCounts();
    sent.length = 0;

    for (let cycle = 1; cycle <= 10; cycle++) {
      world.clock.advance(125); // the access token has expired
      const results = await burst(subject);
      expect(world.oidc.tokenRequests('refresh_token')).toBe(cycle);
      const tokens = new Set(results.map((r) => r.accessToken));
      expect(tokens.size).toBe(1);
      const [token] = tokens;
      expect(token).not.toBe(previous);
      expect(results.filter((r) => r.source === 'refreshed')).toHaveLength(1);
      expect(new Set(results.map((r) => r.version))).toEqual(new Set([cycle + 1]));
      expect(await vendorAccepts(world, token as string)).toBe(true);
      previous = token as string;
    }
    // Every refresh token was sent once: no reuse, so the grant was never revoked.
    expect(new Set(sent).size).toBe(sent.length);
    const stored = await (fleet[1] as Lambda).store.get({ integration, subject }, { secrets: 'all' });
    expect(stored).toMatchObject({ status: 'connected', version: 11, failureCount: 0, lease: undefined });
    expect(sent).not.toContain(stored?.tokens.refreshToken);
  }, 120_000);

  it('hands out the still-valid token while one caller refreshes a due one', async () => {
    const subject = 'agent-due';
    const first = (fleet[0] as Lambda).lifecycle;
    const tokens = await consent(world, provider, subject);
    await first.storeNewConnection(
      { id: integration, provider },
      { subject, grant: 'authorization_code', tokens },
    );
    world.oidc.resetCounts();
    world.clock.advance(95); // due (30 s margin) but 25 s left
    const results = await burst(subject);
    expect(world.oidc.tokenRequests('refresh_token')).toBe(1);
    const refreshed = results.filter((r) => r.source === 'refreshed');
    expect(refreshed).toHaveLength(1);
    for (const r of results) {
      expect([tokens.accessToken, refreshed[0]?.accessToken]).toContain(r.accessToken);
    }
    // The next caller gets the refreshed one without another vendor call.
    const next = await (fleet[3] as Lambda).lifecycle.getFreshToken({ id: integration, provider }, subject);
    expect(next).toMatchObject({ accessToken: refreshed[0]?.accessToken, source: 'stored' });
    expect(world.oidc.tokenRequests('refresh_token')).toBe(1);
  }, 60_000);
});
