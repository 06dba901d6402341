/**
 * Crashes and unknown outcomes in the middle of a refresh, against oidc-provider with rotating refresh tokens
 * (reuse revokes the grant) and DynamoDB Local: nothing stored is lost and the connection recovers.
 */

import { InvalidGrantError } from '../../../functions/core/errors.js';
import { NeedsReauthError } from '../../../functions/core/lifecycle/errors.js';
import type { ResolvedProvider } from '../../../functions/core/provider/resolve.js';
import {
  CLIENT,
  consent,
  type Lambda,
  lambdas,
  RotatingSecrets,
  recordingFetch,
  resolveTemplate,
  startTokenProxy,
  startWorld,
  type TokenProxy,
  vendorAccepts,
  type World,
} from './support.js';

let world: World;
let proxy: TokenProxy;
let provider: ResolvedProvider;
const integration = 'harness';
const opened: Lambda[] = [];

beforeAll(async () => {
  world = await startWorld({ rotate: true, accessTokenTtl: 120 });
  proxy = await startTokenProxy(world.oidc.tokenEndpoint);
  provider = resolveTemplate(
    world.oidc.template({
      endpoints: { token: proxy.tokenEndpoint },
      refresh: { rotates: true, refreshAt: { kind: 'before-expiry', seconds: 30 } },
    }),
  );
}, 60_000);

afterAll(async () => {
  for (const l of opened) l.client.destroy();
  await proxy?.close();
  await world?.close();
});

function fleet(count: number, deps: Omit<Parameters<typeof lambdas>[2], 'provider'> = {}): Lambda[] {
  const created = lambdas(world, count, {
    provider,
    ...deps,
    // Short enough for quick timeout tests, long enough that a loaded machine's slow answer is not "lost"
    // (which, with rotation and no grace window, really would cost the grant: see docs/data-model.md).
    options: { vendorTimeoutMs: 2_000, writeRetryBudgetMs: 1_000, ...deps.options },
  });
  opened.push(...created);
  return created;
}

async function connect(lambda: Lambda, subject: string) {
  const tokens = await consent(world, provider, subject);
  await lambda.lifecycle.storeNewConnection(
    { id: integration, provider },
    { subject, grant: 'authorization_code', tokens },
  );
  return tokens;
}

describe('crash recovery', () => {
  it('recovers when the lease holder dies mid-refresh: others take over after the lease expires', async () => {
    const subject = 'agent-dead-holder';
    const sent: string[] = [];
    const lambdasUnderTest = fleet(4, { fetch: recordingFetch(sent) });
    const [a] = lambdasUnderTest as [Lambda];
    await connect(a, subject);
    world.clock.advance(125);
    const current = await a.store.get({ integration, subject });
    const nowMs = world.clock.nowMs();
    const dead = await a.store.acquireLease(
      { integration, subject },
      { version: current?.version ?? 0, owner: 'crashed-lambda', expiresAtMs: nowMs + 1_500, nowMs },
    );
    expect(dead).toBeDefined(); // ...and then the holder vanishes without refreshing or releasing.
    world.oidc.resetCounts();
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (lambdasUnderTest[i % lambdasUnderTest.length] as Lambda).lifecycle.getFreshToken(
          { id: integration, provider },
          subject,
        ),
      ),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000); // they waited for the lease to lapse
    expect(world.oidc.tokenRequests('refresh_token')).toBe(1);
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    expect(await vendorAccepts(world, results[0]?.accessToken as string)).toBe(true);
    // Next cycle works: the rotated refresh token was stored.
    world.clock.advance(125);
    const next = await a.lifecycle.getFreshToken({ id: integration, provider }, subject);
    expect(next.source).toBe('refreshed');
    expect(new Set(sent).size).toBe(sent.length);
  }, 60_000);

  it('retries the write after a vendor 200 until the rotated token is stored, never resending the old one', async () => {
    const subject = 'agent-write-fails';
    const sent: string[] = [];
    let failures = 0;
    const [a] = fleet(1, {
      fetch: recordingFetch(sent),
      client: () => {
        const client = world.ddb.client();
        // The commit (the conditional write that sets lastRefreshedAt) fails once, after the vendor rotated the token.
        client.middlewareStack.add(
          (next) => async (args) => {
            const input = args.input as {
              ConditionExpression?: string;
              ExpressionAttributeNames?: Record<string, string>;
            };
            const names = Object.values(input.ExpressionAttributeNames ?? {});
            if (failures === 0 && names.includes('lastRefreshedAt') && input.ConditionExpression) {
              failures++;
              throw Object.assign(new Error('connection reset by peer'), {
                name: 'NetworkingError',
                $metadata: {},
              });
            }
            return next(args);
          },
          { step: 'initialize', name: 'failCommitOnce' },
        );
        return client;
      },
    }) as [Lambda];
    await connect(a, subject);
    world.clock.advance(125);
    world.oidc.resetCounts();
    const refreshed = await a.lifecycle.getFreshToken({ id: integration, provider }, subject);
    expect(failures).toBe(1);
    expect(refreshed.source).toBe('refreshed');
    expect(world.oidc.tokenRequests('refresh_token')).toBe(1);
    const stored = await a.store.get({ integration, subject }, { secrets: 'all' });
    expect(stored?.tokens.accessToken).toBe(refreshed.accessToken);
    expect(sent).toHaveLength(1);
    expect(stored?.tokens.refreshToken).not.toBe(sent[0]);
    // The stored rotated token works (the grant was not revoked by a reuse).
    world.clock.advance(125);
    const next = await a.lifecycle.getFreshToken({ id: integration, provider }, subject);
    expect(next.source).toBe('refreshed');
    expect(await vendorAccepts(world, next.accessToken)).toBe(true);
    expect(new Set(sent).size).toBe(sent.length);
  }, 60_000);

  it('retries once after a timeout the vendor never saw, re-reading first', async () => {
    const subject = 'agent-lost-request';
    const [a] = fleet(1) as [Lambda];
    await connect(a, subject);
    world.clock.advance(125);
    world.oidc.resetCounts();
    proxy.holdNextRequest();
    const refreshed = await a.lifecycle.getFreshToken({ id: integration, provider }, subject);
    expect(refreshed.source).toBe('refreshed');
    expect(world.oidc.tokenRequests('refresh_token')).toBe(1);
    expect(await vendorAccepts(world, refreshed.accessToken)).toBe(true);
    world.clock.advance(125);
    expect((await a.lifecycle.getFreshToken({ id: integration, provider }, subject)).source).toBe(
      'refreshed',
    );
  }, 60_000);

  it('when the vendor acted but its answer was lost, ends in needs_reauth without erasing anything', async () => {
    const subject = 'agent-lost-response';
    const [a] = fleet(1) as [Lambda];
    await connect(a, subject);
    world.clock.advance(125);
    const before = await a.store.get({ integration, subject }, { secrets: 'all' });
    proxy.holdNextResponse();
    // oidc-provider has no reuse grace: the one retry meets reuse detection (RingCentral's grace makes it succeed).
    const failure = await a.lifecycle
      .getFreshToken({ id: integration, provider }, subject)
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(NeedsReauthError);
    expect((failure as NeedsReauthError).reason).toBe('invalid_grant');
    expect((failure as NeedsReauthError).cause).toBeInstanceOf(InvalidGrantError);
    const after = await a.store.get({ integration, subject }, { secrets: 'all' });
    expect(after).toMatchObject({
      status: 'needs_reauth',
      reason: 'invalid_grant',
      version: before?.version,
      lastError: { code: 'invalid_grant' },
      refreshDueAt: undefined,
      tokens: { refreshToken: before?.tokens.refreshToken },
    });
    await expect(a.lifecycle.getFreshToken({ id: integration, provider }, subject)).rejects.toBeInstanceOf(
      NeedsReauthError,
    );
    // A new consent recovers the connection.
    await connect(a, subject);
    const fresh = await a.lifecycle.getFreshToken({ id: integration, provider }, subject);
    expect(await vendorAccepts(world, fresh.accessToken)).toBe(true);
  }, 60_000);

  it('reloads a rotated client secret once on invalid_client and refreshes', async () => {
    const subject = 'agent-rotated-secret';
    const secrets = new RotatingSecrets([{ ...CLIENT, client_secret: 'stale-secret' }, CLIENT]);
    const [a] = fleet(1, { secrets }) as [Lambda];
    await connect(a, subject);
    world.clock.advance(125);
    world.oidc.resetCounts();
    const refreshed = await a.lifecycle.getFreshToken({ id: integration, provider }, subject);
    expect(refreshed.source).toBe('refreshed');
    expect(secrets.reloads).toBe(1);
    expect(world.oidc.tokenRequests('refresh_token')).toBe(2);
    expect(await vendorAccepts(world, refreshed.accessToken)).toBe(true);
  }, 60_000);
});
