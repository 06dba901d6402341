/**
 * The authorization code flow end to end through the local runtime against a real vendor (oidc-provider):
 * connect, callback, vend, list, restart, disconnect with revocation at the vendor.
 */
import { claimFrom, connect, OIDC, RETURN_BASE, type Stack, startStack } from './support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

describe('authorization code flow through the local runtime', () => {
  let alice: string;
  let accessToken: string;

  it('connects: /connect gives the vendor URL, the callback parks the tokens and returns the user, the app claims', async () => {
    alice = await stack.token('alice');
    const returnTo = `${RETURN_BASE}settings?tab=phone`;
    const start = await stack.call('POST', `/connect/${OIDC}`, {
      token: alice,
      json: { return_to: returnTo },
    });
    expect(start.status).toBe(200);
    const authorizeUrl = new URL(String(start.json?.authorize_url));
    expect(authorizeUrl.origin).toBe(stack.vendor.issuer);
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl.searchParams.get('redirect_uri')).toBe(`${stack.url}/oauth/${OIDC}/callback`);
    expect(start.json?.expires_at).toEqual(expect.any(Number));

    const callback = await stack.vendor.authorize(authorizeUrl, 'alice');
    expect(callback.searchParams.get('code')).toBeTruthy();
    const done = await stack.call('GET', `${callback.pathname}${callback.search}`);
    expect(done.status).toBe(302);
    const location = new URL(String(done.headers.get('location')));
    expect(`${location.origin}${location.pathname}`).toBe(`${RETURN_BASE}settings`);
    expect(location.searchParams.get('tab')).toBe('phone');
    expect(location.searchParams.get('claim')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('integration')).toBe(OIDC);
    expect(stack.spy.count('/token', 'authorization_code')).toBe(1);
    // Parked, not stored: the app claims with the user's own JWT.
    expect((await stack.call('GET', `/vend/${OIDC}`, { token: alice })).status).toBe(404);
    const claimed = await claimFrom(stack, done, alice);
    expect([claimed.status, claimed.json]).toEqual([200, { integration: OIDC, status: 'connected' }]);
    // The code was redeemed with the verifier and the identical redirect_uri.
    const redeem = stack.spy.requests.find((r) => r.form.get('grant_type') === 'authorization_code');
    expect(redeem?.form.get('redirect_uri')).toBe(`${stack.url}/oauth/${OIDC}/callback`);
    expect(redeem?.form.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(redeem?.headers.authorization).toMatch(/^Basic /);
  });

  it('vends the token in the documented shape, and the token works at the vendor', async () => {
    const vend = await stack.call('GET', `/vend/${OIDC}`, { token: alice });
    expect(vend.status).toBe(200);
    expect(vend.headers.get('cache-control')).toBe('no-store');
    const body = vend.json ?? {};
    accessToken = String(body.access_token);
    const now = Math.floor(Date.now() / 1000);
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_at: expect.any(Number),
      expires_in: expect.any(Number),
      scope: expect.any(String),
      authorization: { header: 'Authorization', value: `Bearer ${accessToken}` },
    });
    expect(body.expires_at as number).toBeGreaterThan(now + 250);
    expect(body.expires_in as number).toBeGreaterThan(250);
    const me = await fetch(stack.vendor.userinfoEndpoint, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { sub: string }).sub).toBe('alice');
  });

  it('lists the connection without any token', async () => {
    const list = await stack.call('GET', '/connections', { token: alice });
    expect(list.status).toBe(200);
    expect(list.json).toEqual({
      connections: [
        {
          integration: OIDC,
          status: 'connected',
          expires_at: expect.any(Number),
          scopes: expect.any(Array),
          connected_at: expect.any(Number),
        },
      ],
    });
    expect(list.text).not.toContain(accessToken);
    expect(list.text).not.toMatch(/access_token|refresh_token/);
  });

  it('loses nothing across a restart with the same data dir', async () => {
    const before = stack.url;
    await stack.restart();
    expect(stack.url).toBe(before);
    const vend = await stack.call('GET', `/vend/${OIDC}`, { token: await stack.token('alice') });
    expect(vend.status).toBe(200);
    expect(vend.json?.access_token).toBe(accessToken);
    // The caller token issued before the restart is still trusted (the issuer key is persisted).
    const again = await stack.call('GET', `/vend/${OIDC}`, { token: alice });
    expect(again.status).toBe(200);
  });

  it('disconnect revokes at the vendor, then deletes; vend says not_connected', async () => {
    const revocations = stack.spy.count('/token/revocation');
    const removed = await stack.call('DELETE', `/connections/${OIDC}`, { token: alice });
    expect(removed.status).toBe(204);
    expect(stack.spy.count('/token/revocation') - revocations).toBe(1);
    const revocation = stack.spy.requests.findLast((r) => r.path === '/token/revocation');
    expect(revocation?.headers.authorization).toMatch(/^Basic /);
    // The grant is gone at the vendor: the access token stops working too.
    const me = await fetch(stack.vendor.userinfoEndpoint, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(me.status).toBe(401);

    const vend = await stack.call('GET', `/vend/${OIDC}`, { token: alice });
    expect(vend.status).toBe(404);
    expect(vend.json?.error).toBe('not_connected');
    const list = await stack.call('GET', '/connections', { token: alice });
    expect(list.json).toEqual({ connections: [] });
    const twice = await stack.call('DELETE', `/connections/${OIDC}`, { token: alice });
    expect(twice.status).toBe(404);
  });

  it('connects again after a disconnect', async () => {
    const { answer } = await connect(stack, 'alice');
    expect(answer.status).toBe(302);
    const vend = await stack.call('GET', `/vend/${OIDC}`, { token: alice });
    expect(vend.status).toBe(200);
    expect(vend.json?.access_token).not.toBe(accessToken);
  });
});
