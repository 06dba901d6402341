/**
 * A service acting for a user it already authenticated: `POST /service/users/{integration}/vend` through the
 * SigV4-verifying IAM gateway and the local runtime's real handler, with `tokenvend/client`'s `getUserToken` and
 * `vendorFetch({ user })`. Only principals on the integration's `onBehalfOf.allowedPrincipals`; every call logged
 * with the principal and the subject; the signature covers the body.
 */
import { createTokenVendClient, NeedsReauthError, NotConnectedError } from '../../client/index.js';
import { createSigner } from '../../client/sigv4.js';
import {
  ACCOUNT,
  credentialsOf,
  type Harness,
  REGION,
  SERVICE,
  STRANGER,
  startHarness,
} from './support/harness.js';

let h: Harness;
const logged: unknown[][] = [];
const log = console.log;

beforeAll(async () => {
  // The local runtime's info lines are the audit log here.
  console.log = (...args: unknown[]) => {
    logged.push(args);
  };
  h = await startHarness({
    quiet: false,
    integrations: (vendor) => ({
      users: {
        provider: vendor.template('scripted-users'),
        secret: vendor.client,
        onBehalfOf: { allowedPrincipals: [`arn:aws:iam::${ACCOUNT}:role/reporting-service`] },
      },
    }),
  });
  await h.connectUser('alice', 'users');
}, 30_000);

afterAll(async () => {
  await h?.close();
  console.log = log;
});

const client = (identity = SERVICE) =>
  createTokenVendClient({ baseUrl: h.gateway.url, region: REGION, credentials: credentialsOf(identity) });

const audit = () =>
  logged
    .filter(([message]) => message === 'tokenvend: vend on behalf of a user')
    .map(([, details]) => details as Record<string, unknown>);

test("an allow-listed service gets the user's own token, and the call is logged with principal and subject", async () => {
  const token = await client().getUserToken('users', 'alice');
  const own = await fetch(`${h.server.url}/vend/users`, {
    headers: { authorization: `Bearer ${await h.userToken('alice')}` },
  });
  expect(token.accessToken).toBe(((await own.json()) as { access_token: string }).access_token);
  expect(h.gateway.admitted.at(-1)).toEqual({ path: '/service/users/users/vend', arn: SERVICE.arn });
  expect(audit().at(-1)).toEqual({
    integration: 'users',
    principal: SERVICE.arn,
    subject: 'user:local:alice',
    outcome: 'ok',
  });
  expect(JSON.stringify(audit())).not.toContain(token.accessToken);
});

test("vendorFetch({ user }) calls the vendor with that user's token", async () => {
  const c = client();
  const token = await c.getUserToken('users', 'alice');
  const res = await c.vendorFetch('users', `${h.vendor.url}/api/me`, { user: 'alice' });
  expect(await res.json()).toEqual({ path: '/api/me', via: 'bearer', token: token.accessToken });
});

test('principals off the allow-list, and integrations without one, are refused (and logged)', async () => {
  await expect(client(STRANGER).getUserToken('users', 'alice')).rejects.toMatchObject({
    name: 'AccessDeniedError',
    code: 'access_denied',
    status: 403,
  });
  expect(audit().at(-1)).toEqual({ integration: 'users', principal: STRANGER.arn, outcome: 'access_denied' });
  // `bearer` has service connections but no onBehalfOf: nobody may act for its users.
  await expect(client().getUserToken('bearer', 'alice')).rejects.toMatchObject({ code: 'access_denied' });
});

test('not connected, a dead grant, a foreign namespace: typed errors with the connect hint', async () => {
  const none = await client()
    .getUserToken('users', 'nobody')
    .catch((e: unknown) => e);
  expect(none).toBeInstanceOf(NotConnectedError);
  expect(none).toMatchObject({ connect: { method: 'POST', path: '/connect/users' } });
  expect(audit().at(-1)).toMatchObject({ subject: 'user:local:nobody', outcome: 'not_connected' });

  await expect(
    client().getUserToken('users', 'alice', { namespace: 'https://other.example' }),
  ).rejects.toMatchObject({
    name: 'InvalidRequestError',
    code: 'invalid_request',
  });

  h.vendor.ttl = 2;
  try {
    await h.connectUser('bob', 'users');
    const c = client();
    expect((await c.getUserToken('users', 'bob')).expiresIn).toBeLessThanOrEqual(2);
    h.vendor.failNext('refresh_token', { status: 400, body: { error: 'invalid_grant' } });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const dead = await c.getUserToken('users', 'bob').catch((e: unknown) => e);
    expect(dead).toBeInstanceOf(NeedsReauthError);
    expect(dead).toMatchObject({
      reason: 'invalid_grant',
      connect: { method: 'POST', path: '/connect/users' },
    });
  } finally {
    h.vendor.ttl = 300;
  }
});

test('the signature covers the body: another user in a body signed for alice is refused', async () => {
  const signer = createSigner({ region: REGION, credentials: credentialsOf(SERVICE) });
  const url = new URL(`${h.gateway.url}/service/users/users/vend`);
  const signed = JSON.stringify({ user: 'alice' });
  const headers = await signer.sign('POST', url, { 'content-type': 'application/json' }, signed);
  const swapped = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ user: 'bob' }) });
  expect(swapped.status).toBe(403);
  expect(['payload', 'signature']).toContain(h.gateway.refused.at(-1));
  const right = await fetch(url, { method: 'POST', headers, body: signed });
  expect(right.status).toBe(200);
});

test('bad arguments are TypeErrors before any call', async () => {
  const before = h.gateway.admitted.length;
  await expect(client().getUserToken('users', '')).rejects.toThrow(/subject claim/);
  await expect(client().getUserToken('users', 'alice', { namespace: '' })).rejects.toThrow(/namespace/);
  await expect(client().getUserToken('Users', 'alice')).rejects.toThrow(TypeError);
  expect(h.gateway.admitted.length).toBe(before);
});
