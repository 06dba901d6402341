/**
 * The claim step of the connect flow, without a browser, through the local runtime against a real vendor
 * (oidc-provider behind the recording spy): the callback parks the tokens and redirects with a one-time claim
 * code; only the subject that started the flow turns them into its connection. Anyone else's claim discards
 * them and revokes them at the vendor. Plus the per-subject cap on unfinished connect flows.
 */
import {
  claimFrom,
  claimOf,
  connect,
  type HttpAnswer,
  OIDC,
  observe,
  RETURN_BASE,
  type Stack,
  startStack,
} from './support/stack.js';

let stack: Stack;

/** A second auth-code integration on the same vendor: a claim code belongs to one integration. */
const OTHER = 'oidc-other';

beforeAll(async () => {
  stack = await startStack({
    extraIntegrations: ({ vendor, spy }) => ({
      [OTHER]: {
        provider: vendor.template({ id: 'other', endpoints: { token: `${spy.url}/token` } }),
        secret: { client_id: 'tokenvend-e2e-other', client_secret: 'unused' },
      },
    }),
  });
});

afterAll(async () => {
  await stack?.close();
});

/** `starter` starts a flow, `signer` signs in at the vendor, the callback answers (302 with ?claim=). */
async function finishedFlow(
  starter: string,
  signer = starter,
): Promise<{ callback: HttpAnswer; token: string }> {
  const token = await stack.token(starter);
  const start = await stack.call('POST', `/connect/${OIDC}`, {
    token,
    json: { return_to: `${RETURN_BASE}done` },
  });
  expect(start.status).toBe(200);
  const callbackUrl = await stack.vendor.authorize(String(start.json?.authorize_url), signer);
  const callback = await stack.call('GET', `${callbackUrl.pathname}${callbackUrl.search}`);
  expect(callback.status).toBe(302);
  return { callback, token };
}

/** The access token the vendor issued for the last code redemption (the spy keeps the vendor's answers). */
function lastIssuedAccessToken(): string {
  const redeem = stack.spy.requests.findLast((r) => r.form.get('grant_type') === 'authorization_code');
  return String((JSON.parse(redeem?.response ?? '{}') as { access_token?: string }).access_token);
}

async function vendorKnows(accessToken: string): Promise<boolean> {
  const me = await fetch(stack.vendor.userinfoEndpoint, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  await me.body?.cancel();
  return me.status === 200;
}

describe('claiming a finished connect flow', () => {
  it('checklist 2: the callback alone stores nothing; the claim with the starting user JWT binds the flow (no cookie needed)', async () => {
    const { callback, token } = await finishedFlow('alice');
    const location = new URL(String(callback.headers.get('location')));
    expect(`${location.origin}${location.pathname}`).toBe(`${RETURN_BASE}done`);
    expect([...location.searchParams.keys()].sort()).toEqual(['claim', 'integration']);
    expect(callback.headers.get('set-cookie')).toBeNull();
    expect((await observe(stack, ['alice'])).alice?.vendStatus).toBe(404);

    const claimed = await claimFrom(stack, callback, token);
    expect([claimed.status, claimed.json]).toEqual([200, { integration: OIDC, status: 'connected' }]);
    expect(claimed.headers.get('cache-control')).toBe('no-store');
    const vend = await stack.call('GET', `/vend/${OIDC}`, { token });
    expect(vend.status).toBe(200);
    expect(vend.json?.access_token).toBe(lastIssuedAccessToken());
  });

  it('checklist 50: a claim by another subject is 403, the parked tokens are revoked at the vendor, nothing is stored', async () => {
    // Alice starts and sends the link to bob; bob signs in at the vendor; bob's app claims with bob's JWT.
    const { callback, token: alice } = await finishedFlow('alice-50', 'bob-50');
    const issued = lastIssuedAccessToken();
    expect(await vendorKnows(issued)).toBe(true);
    const revocations = stack.spy.count('/token/revocation');
    const bob = await stack.token('bob-50');

    const refused = await claimFrom(stack, callback, bob);
    expect([refused.status, refused.json?.error]).toEqual([403, 'access_denied']);
    expect(stack.spy.count('/token/revocation') - revocations).toBe(1);
    expect(await vendorKnows(issued)).toBe(false);

    // The record is gone: not even the starter can claim it now, and nobody has a connection.
    const late = await claimFrom(stack, callback, alice);
    expect([late.status, late.json?.error]).toEqual([400, 'invalid_grant']);
    const seen = await observe(stack, ['alice-50', 'bob-50']);
    expect([seen['alice-50']?.vendStatus, seen['bob-50']?.vendStatus]).toEqual([404, 404]);
  });

  it('a used code cannot be claimed again (replay), even by the same subject', async () => {
    const { callback, token } = await finishedFlow('carol');
    expect((await claimFrom(stack, callback, token)).status).toBe(200);
    const vended = await stack.call('GET', `/vend/${OIDC}`, { token });
    const again = await claimFrom(stack, callback, token);
    expect([again.status, again.json?.error]).toEqual([400, 'invalid_grant']);
    // Concurrent claims of one code: exactly one wins.
    const { callback: second, token: same } = await finishedFlow('carol');
    const answers = await Promise.all([1, 2, 3].map(() => claimFrom(stack, second, same)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400, 400]);
    const after = await stack.call('GET', `/vend/${OIDC}`, { token });
    expect(after.json?.access_token).not.toBe(vended.json?.access_token);
  });

  it('an expired code is 400 invalid_grant, and its tokens are revoked rather than left live', async () => {
    const { callback, token } = await finishedFlow('dave');
    const issued = lastIssuedAccessToken();
    const revocations = stack.spy.count('/token/revocation');
    const flows = stack.server.local.app.flows;
    const realNow = flows.now;
    flows.now = () => realNow() + 601; // past the 10-minute TTL (dynalite never deletes: the read decides)
    let answer: HttpAnswer;
    try {
      answer = await claimFrom(stack, callback, token);
    } finally {
      flows.now = realNow;
    }
    expect([answer.status, answer.json?.error]).toEqual([400, 'invalid_grant']);
    expect(stack.spy.count('/token/revocation') - revocations).toBe(1);
    expect(await vendorKnows(issued)).toBe(false);
    expect((await stack.call('GET', `/vend/${OIDC}`, { token })).status).toBe(404);
  });

  it('bad claims: no JWT 401, unknown code or wrong integration 400 invalid_grant, malformed body 400 invalid_request', async () => {
    const { callback, token } = await finishedFlow('erin');
    const { claim } = claimOf(callback);
    const path = `/connect/${OIDC}/claim`;
    const cases: Array<[string, Parameters<Stack['call']>[2], number, string]> = [
      [path, { json: { claim } }, 401, 'invalid_token'],
      [path, { token, json: { claim: 'x'.repeat(43) } }, 400, 'invalid_grant'],
      [path, { token, json: {} }, 400, 'invalid_request'],
      [path, { token, json: { claim: 42 } }, 400, 'invalid_request'],
      [path, { token, json: { claim, subject: 'erin' } }, 400, 'invalid_request'],
      [path, { token, form: { claim } }, 415, 'invalid_request'],
      ['/connect/nope/claim', { token, json: { claim } }, 404, 'unknown_integration'],
      [`/connect/${OTHER}/claim`, { token, json: { claim } }, 400, 'invalid_grant'],
    ];
    for (const [target, options, status, error] of cases) {
      const answer = await stack.call('POST', target, options);
      expect({ target, status: answer.status, error: answer.json?.error }).toEqual({ target, status, error });
    }
    // None of these consumed the code: the starter still claims it.
    expect((await claimFrom(stack, callback, token)).status).toBe(200);
  });

  it('return_to is required: without it there is nobody to hand the claim code to', async () => {
    const answer = await stack.call('POST', `/connect/${OIDC}`, { token: await stack.token('frank') });
    expect([answer.status, answer.json?.error]).toEqual([400, 'invalid_request']);
    expect(String(answer.json?.error_description)).toMatch(/return_to is required/);
  });
});

describe('checklist 54: outstanding connect states are capped per subject', () => {
  const start = (token: string) =>
    stack.call('POST', `/connect/${OIDC}`, { token, json: { return_to: `${RETURN_BASE}x` } });

  it('the 21st unfinished flow is 429 slow_down with Retry-After; other subjects are unaffected; finishing one frees a slot', async () => {
    const grace = await stack.token('grace');
    const started: string[] = [];
    for (let i = 0; i < 20; i++) {
      const answer = await start(grace);
      expect(answer.status).toBe(200);
      started.push(String(answer.json?.authorize_url));
    }
    const refused = await start(grace);
    expect([refused.status, refused.json?.error]).toEqual([429, 'slow_down']);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(500);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(600);
    expect((await start(await stack.token('heidi'))).status).toBe(200);

    // Concurrent starts never exceed the cap either (a start that keeps losing the race is a 429 too).
    const ivan = await stack.token('ivan');
    const burst = await Promise.all(Array.from({ length: 30 }, () => start(ivan)));
    expect(burst.filter((a) => a.status !== 200 && a.status !== 429)).toEqual([]);
    let stored = burst.filter((a) => a.status === 200).length;
    expect(stored).toBeLessThanOrEqual(20);
    while ((await start(ivan)).status === 200) stored++;
    expect(stored).toBe(20);

    // A finished flow (its state consumed at the callback) frees its slot.
    const callbackUrl = await stack.vendor.authorize(started[0] as string, 'grace');
    expect((await stack.call('GET', `${callbackUrl.pathname}${callbackUrl.search}`)).status).toBe(302);
    expect((await start(grace)).status).toBe(200);
    expect((await start(grace)).status).toBe(429);
  });

  it('the connect helper still works for a subject well under the cap', async () => {
    const { claim } = await connect(stack, 'judy');
    expect(claim?.status).toBe(200);
  });
});
