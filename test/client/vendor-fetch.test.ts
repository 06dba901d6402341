/**
 * `vendorFetch`: the token applied as each template says (Authorization Bearer, X-Api-Token, a query parameter,
 * Basic), relative URLs against the vendor API's base URL, one retry with a newly vended token after a vendor
 * 401, and the token never sent to another origin (also not through a redirect).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenVendClient, type TokenVendClientOptions } from '../../client/index.js';
import { credentialsOf, type Harness, REGION, SERVICE, startHarness } from './support/harness.js';

let h: Harness;
let other: Server;
let otherUrl: string;
const otherSaw: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  h = await startHarness();
  other = createServer((req, res) => {
    otherSaw.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ landed: true }));
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', () => resolve()));
  otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
}, 30_000);

afterAll(async () => {
  await h?.close();
  other?.closeAllConnections();
  await new Promise<void>((resolve) => (other ? other.close(() => resolve()) : resolve()));
});

function client(extra: Partial<TokenVendClientOptions> = {}) {
  return createTokenVendClient({
    baseUrl: h.gateway.url,
    region: REGION,
    credentials: credentialsOf(SERVICE),
    connection: 'open',
    ...extra,
  });
}

const lastCall = () => h.vendor.apiCalls.at(-1);

test.each([
  ['bearer', 'bearer'],
  ['xtoken', 'x-api-token'],
  ['query', 'query'],
  ['basic', 'basic'],
])('%s: the token is applied the way the template says (%s)', async (integration, via) => {
  const c = client();
  const token = await c.getServiceToken(integration);
  const res = await c.vendorFetch(integration, `${h.vendor.url}/api/me?keep=1`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ path: '/api/me', via, token: token.accessToken });
  expect(lastCall()).toMatchObject({ via, token: token.accessToken, status: 200 });
});

test('a query-parameter token replaces one already in the URL (never two)', async () => {
  const seen: string[] = [];
  const c = client({
    fetch: async (input, init) => {
      seen.push(String(input));
      return globalThis.fetch(input, init);
    },
  });
  await c.vendorFetch('query', `${h.vendor.url}/api/me?access_token=stale&x=1`);
  const url = new URL(seen.at(-1) as string);
  expect(url.searchParams.getAll('access_token')).toHaveLength(1);
  expect(url.searchParams.get('access_token')).not.toBe('stale');
  expect(url.searchParams.get('x')).toBe('1');
});

test('relative URLs go to the vendor API base URL; other origins and plain http are refused', async () => {
  const c = client({ vendorApiBaseUrls: { bearer: `${h.vendor.url}/api` } });
  const res = await c.vendorFetch('bearer', '/me');
  expect(res.status).toBe(200);
  expect(lastCall()).toMatchObject({ path: '/api/me', via: 'bearer' });
  const calls = h.vendor.apiCalls.length;
  await expect(c.vendorFetch('bearer', `${otherUrl}/steal`)).rejects.toThrow(/not the vendor API/);
  await expect(client().vendorFetch('bearer', '/me')).rejects.toThrow(/no API base URL is known/);
  await expect(client().vendorFetch('bearer', 'http://vendor.example.com/api/me')).rejects.toThrow(
    /https only/,
  );
  expect(h.vendor.apiCalls.length).toBe(calls);
  expect(otherSaw).toHaveLength(0);
});

test('a redirect to another origin is followed without the token; a same-origin one keeps it', async () => {
  const c = client();
  const same = await c.vendorFetch('xtoken', `${h.vendor.url}/api/moved?to=/api/me`);
  expect(same.status).toBe(200);
  expect(await same.json()).toMatchObject({ path: '/api/me', via: 'x-api-token' });
  const away = await c.vendorFetch(
    'xtoken',
    `${h.vendor.url}/api/moved?to=${encodeURIComponent(`${otherUrl}/landing`)}`,
  );
  expect(await away.json()).toEqual({ landed: true });
  expect(otherSaw.at(-1)?.['x-api-token']).toBeUndefined();
  expect(otherSaw.at(-1)?.authorization).toBeUndefined();
});

test('a Request with a body is sent as given', async () => {
  const res = await client().vendorFetch(
    'bearer',
    new Request(`${h.vendor.url}/api/items`, { method: 'POST', body: 'hello', headers: { 'x-trace': '1' } }),
  );
  expect(res.status).toBe(200);
  expect(lastCall()).toMatchObject({ path: '/api/items', via: 'bearer' });
});

test('a vendor 401 on a token too young to reject: the same token comes back, the 401 is returned as it came', async () => {
  const c = client();
  const token = await c.getServiceToken('basic');
  h.vendor.revoke(token.accessToken);
  const calls = h.vendor.apiCalls.length;
  const asked = h.gateway.admitted.length;
  const res = await c.vendorFetch('basic', `${h.vendor.url}/api/me`);
  expect(res.status).toBe(401);
  expect(h.vendor.apiCalls.length - calls).toBe(1);
  // The cache was dropped and tokenvend asked once more; it still holds that token.
  expect(h.gateway.admitted.length - asked).toBe(1);
});

test('a vendor 401 on a live token old enough to reject: tokenvend replaces it, one retry succeeds', async () => {
  // 8 s tokens: a rejection counts after 2 s (a quarter of the lifetime), the token is due only after 4 s.
  h.vendor.ttl = 8;
  try {
    const c = client({ connection: 'reporting' });
    const token = await c.getServiceToken('bearer');
    h.vendor.revoke(token.accessToken);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const calls = h.vendor.apiCalls.length;
    const res = await c.vendorFetch('bearer', `${h.vendor.url}/api/me`);
    expect(res.status).toBe(200);
    const [first, retry] = h.vendor.apiCalls.slice(calls);
    expect(first).toMatchObject({ token: token.accessToken, status: 401 });
    expect(retry?.status).toBe(200);
    expect(retry?.token).not.toBe(token.accessToken);
  } finally {
    h.vendor.ttl = 300;
  }
});

test('a vendor 401 on an expired token: renewed once, retried once (and only once)', async () => {
  h.vendor.ttl = 2;
  // A frozen clock keeps the tokens in the cache past their expiry, as a long-lived process with a stale cache would.
  const frozen = Date.now();
  const c = client({ connection: 'reporting', now: () => frozen });
  try {
    const a = await c.getServiceToken('xtoken');
    const b = await c.getServiceToken('query');
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    h.vendor.ttl = 300;

    const calls = h.vendor.apiCalls.length;
    const res = await c.vendorFetch('xtoken', `${h.vendor.url}/api/me`);
    expect(res.status).toBe(200);
    const [first, retry] = h.vendor.apiCalls.slice(calls);
    expect(first).toMatchObject({ token: a.accessToken, status: 401 });
    expect(retry).toMatchObject({ via: 'x-api-token', status: 200 });
    expect(retry?.token).not.toBe(a.accessToken);
    expect(h.vendor.apiCalls.length - calls).toBe(2);

    // The renewed token is refused too: one retry, then the 401 is the answer.
    h.vendor.rejectNewTokens = true;
    const before = h.vendor.apiCalls.length;
    const refused = await c.vendorFetch('query', `${h.vendor.url}/api/me`);
    expect(refused.status).toBe(401);
    const tries = h.vendor.apiCalls.slice(before);
    expect(tries).toHaveLength(2);
    expect(tries[0]?.token).toBe(b.accessToken);
    expect(tries[1]?.token).not.toBe(b.accessToken);
  } finally {
    h.vendor.ttl = 300;
    h.vendor.rejectNewTokens = false;
  }
});
