/**
 * The vendor API proxy end to end (issue 14): the local runtime in front of a vendor-shaped API on loopback whose
 * template applies the token in a custom header (`X-Vendor-Token: Token <t>`). Checked: the token applied per
 * template and never the caller's JWT; the allow-list; path traversal and header smuggling refused before the
 * vendor sees anything; statuses, headers and bodies (binary, compressed, large) passed through; a vendor 401 on a
 * GET refreshes once and retries once, on a POST it is passed on; 429 + Retry-After passed on; sizes bounded.
 */
import { request as httpRequest } from 'node:http';
import { connect, type HttpAnswer, OIDC, type Stack, sleep, startStack } from './support/stack.js';
import { API_BASE_PATH, startVendorApi, type VendorApi } from './support/vendor-api.js';

/** 24 s tokens: a rejection counts once a token is 6 s old (a quarter), and it is not due before 19 s. */
const TTL = 24;
const MIN_REJECT_AGE_MS = 6_500;
const MAX_REQUEST_BYTES = 64 * 1024;

let stack: Stack;
let api: VendorApi;

beforeAll(async () => {
  let userinfo = '';
  api = await startVendorApi({
    token: { header: 'X-Vendor-Token', prefix: 'Token ' },
    userinfo: () => userinfo,
  });
  stack = await startStack({
    accessTokenTtl: TTL,
    templateOverrides: {
      usage: { in: 'header', name: 'X-Vendor-Token', value: 'Token ${access_token}' },
      api: { baseUrl: `${api.url}${API_BASE_PATH}` },
      refresh: { rotates: true, refreshAt: { kind: 'before-expiry', seconds: 5 } },
    },
    integrationSettings: {
      proxy: {
        allow: [
          { methods: ['GET'], pathPrefix: '/users' },
          { methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], pathPrefix: '/echo/' },
          { methods: ['GET'], pathPrefix: '/limited' },
          { methods: ['GET'], pathPrefix: '/redirect' },
          { methods: ['GET'], pathPrefix: '/big' },
          { methods: ['GET'], pathPrefix: '/binary' },
          { methods: ['GET'], pathPrefix: '/gzip' },
        ],
        // X-Secret is forwardable, except when the caller's Connection names it hop-by-hop.
        forwardHeaders: ['X-Vendor-Tenant', 'X-Secret'],
        maxRequestBytes: MAX_REQUEST_BYTES,
      },
    },
    // Same vendor, no proxy section: its proxy route does not exist.
    extraIntegrations: ({ vendor, secret }) => ({ plain: { provider: vendor.template(), secret } }),
  });
  userinfo = stack.vendor.userinfoEndpoint;
}, 30_000);

afterAll(async () => {
  await stack?.close();
  await api?.close();
});

const refreshes = () => stack.spy.count('/token', 'refresh_token');

/** A connected user: its caller JWT, and when its vendor token was issued. */
async function user(sub: string): Promise<{ jwt: string; connectedAt: number }> {
  const connectedAt = Date.now();
  await connect(stack, sub);
  return { jwt: await stack.token(sub), connectedAt };
}

/** The token tokenvend holds for the user (what the vendor should see). */
async function vendorToken(jwt: string): Promise<string> {
  return String((await stack.call('GET', `/vend/${OIDC}`, { token: jwt })).json?.access_token);
}

/** A request with exactly this target and these headers (fetch would normalise `..` and refuse some headers). */
function raw(
  method: string,
  target: string,
  headers: Record<string, string | string[]>,
  body?: Buffer | string,
): Promise<HttpAnswer> {
  const { hostname, port } = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, method, path: target, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: h, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

let alice: { jwt: string; connectedAt: number };

beforeAll(async () => {
  alice = await user('alice');
});

describe('forwarding', () => {
  it('applies the token as the template says, to the base URL, and answers with the vendor status and body', async () => {
    const before = api.requests.length;
    const answer = await stack.call('GET', `/proxy/${OIDC}/users/me?page=2&q=a%20b`, { token: alice.jwt });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ sub: 'alice', path: '/users/me', query: '?page=2&q=a%20b' });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const seen = api.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url).toBe(`${API_BASE_PATH}/users/me?page=2&q=a%20b`);
    expect(seen[0]?.headers['x-vendor-token']).toBe(`Token ${await vendorToken(alice.jwt)}`);
    // The caller's JWT is ours, never the vendor's.
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(seen[0]?.headers)).not.toContain(alice.jwt);
  });

  it('passes bodies, statuses and headers through in both directions, dropping cookies and hop-by-hop fields', async () => {
    const body = { name: 'Queue 1', members: [1, 2, 3] };
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const answer = await stack.call(method, `/proxy/${OIDC}/echo/queues/7?status=201`, {
        token: alice.jwt,
        json: body,
        headers: { 'if-match': '"v0"', 'x-vendor-tenant': 'acme', prefer: 'return=representation' },
      });
      expect({ method, status: answer.status, json: answer.json }).toEqual({
        method,
        status: 201,
        json: body,
      });
      expect(answer.headers.get('x-echo-method')).toBe(method);
      expect(answer.headers.get('etag')).toBe('"v1"');
      expect(answer.headers.get('x-ratelimit-remaining')).toBe('41');
      expect(answer.headers.get('set-cookie')).toBeNull();
      expect(answer.headers.get('x-vendor-hop')).toBeNull();
      const seen = api.requests.at(-1);
      expect(seen?.headers).toMatchObject({
        'content-type': 'application/json',
        'if-match': '"v0"',
        'x-vendor-tenant': 'acme',
        prefer: 'return=representation',
      });
    }
    for (const status of [204, 404, 409, 500, 503]) {
      const answer = await stack.call('GET', `/proxy/${OIDC}/echo/x?status=${status}`, { token: alice.jwt });
      expect(answer.status).toBe(status);
    }
  });

  it('passes binary bodies through unchanged both ways, and decodes a compressed answer', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
    const echoed = await fetch(`${stack.url}/proxy/${OIDC}/echo/blob`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.jwt}`, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(echoed.status).toBe(200);
    expect(Buffer.from(await echoed.arrayBuffer()).equals(bytes)).toBe(true);
    expect(api.requests.at(-1)?.body.equals(bytes)).toBe(true);

    const binary = await fetch(`${stack.url}/proxy/${OIDC}/binary`, {
      headers: { authorization: `Bearer ${alice.jwt}` },
    });
    expect(Buffer.from(await binary.arrayBuffer())).toEqual(
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    );

    const gzip = await stack.call('GET', `/proxy/${OIDC}/gzip`, { token: alice.jwt });
    expect([gzip.status, gzip.json, gzip.headers.get('content-encoding')]).toEqual([
      200,
      { compressed: true, sub: 'alice' },
      null,
    ]);
  });

  it('passes a vendor 429 and its Retry-After on, without retrying or refreshing', async () => {
    const before = { api: api.requests.length, refreshes: refreshes() };
    const answer = await stack.call('GET', `/proxy/${OIDC}/limited`, { token: alice.jwt });
    expect([answer.status, answer.headers.get('retry-after'), answer.json]).toEqual([
      429,
      '7',
      { error: 'rate_limited' },
    ]);
    expect(api.requests.length - before.api).toBe(1);
    expect(refreshes()).toBe(before.refreshes);
  });

  it('answers a vendor redirect as it is, never following it', async () => {
    const before = api.requests.length;
    const answer = await stack.call('GET', `/proxy/${OIDC}/redirect`, { token: alice.jwt });
    expect([answer.status, answer.headers.get('location')]).toEqual([302, 'https://evil.example/landing']);
    expect(api.requests.length - before).toBe(1);
  });
});

describe('refusals', () => {
  it('needs a caller JWT, a proxied integration and a connection', async () => {
    expect((await stack.call('GET', `/proxy/${OIDC}/users/me`)).status).toBe(401);
    const plain = await stack.call('GET', '/proxy/plain/users/me', { token: alice.jwt });
    expect([plain.status, plain.json?.error]).toEqual([404, 'not_found']);
    const unknown = await stack.call('GET', '/proxy/nope/users/me', { token: alice.jwt });
    expect([unknown.status, unknown.json?.error]).toEqual([404, 'unknown_integration']);
    const stranger = await stack.call('GET', `/proxy/${OIDC}/users/me`, {
      token: await stack.token('stranger'),
    });
    expect([stranger.status, stranger.json?.error]).toEqual([404, 'not_connected']);
  });

  it('refuses what the allow-list does not name with 403, before the vendor sees it', async () => {
    const before = api.requests.length;
    for (const [method, path] of [
      ['DELETE', '/users/7'],
      ['POST', '/users/7'],
      ['GET', '/admin'],
      ['GET', '/users-admin'],
      ['GET', '/echo'],
      ['GET', '/limitedx'],
    ] as const) {
      const answer = await stack.call(method, `/proxy/${OIDC}${path}`, { token: alice.jwt });
      expect({ method, path, status: answer.status, error: answer.json?.error }).toEqual({
        method,
        path,
        status: 403,
        error: 'access_denied',
      });
    }
    expect(api.requests.length).toBe(before);
  });

  it('refuses path traversal, encoded slashes and backslashes, and absolute URL forms with 400', async () => {
    const before = api.requests.length;
    const auth = { authorization: `Bearer ${alice.jwt}` };
    for (const target of [
      `/proxy/${OIDC}/..%2f..%2fadmin`,
      `/proxy/${OIDC}/users/..%2F..%2F..%2Fadmin`,
      `/proxy/${OIDC}/users/%2e%2e/%2e%2e/admin`,
      `/proxy/${OIDC}/users/%2E%2E`,
      `/proxy/${OIDC}/users/../../admin`,
      `/proxy/${OIDC}/users/./me`,
      `/proxy/${OIDC}/users/%252e%252e/admin`,
      `/proxy/${OIDC}/users/%252f`,
      `/proxy/${OIDC}//evil.example/users`,
      `/proxy/${OIDC}/users//me`,
      `/proxy/${OIDC}/users%5c..%5cadmin`,
      `/proxy/${OIDC}/users\\..\\admin`,
      `/proxy/${OIDC}/https://evil.example/users/me`,
      `/proxy/${OIDC}/https:%2F%2Fevil.example%2Fusers`,
      `/proxy/${OIDC}/users/%00`,
      `/proxy/${OIDC}/users/%0d%0aX-Injected:%201`,
    ]) {
      const answer = await raw('GET', target, auth);
      expect({ target, status: answer.status, error: answer.json?.error }).toEqual({
        target,
        status: 400,
        error: 'invalid_request',
      });
    }
    // An absolute-form request target names another host: no route takes it.
    const absolute = await raw('GET', `http://evil.example/proxy/${OIDC}/users/me`, auth);
    expect(absolute.status).toBeGreaterThanOrEqual(400);
    expect(api.requests.length).toBe(before);
  });

  it('never forwards smuggled credentials, cookies, Host, framing or Connection-named headers', async () => {
    const before = api.requests.length;
    const answer = await raw(
      'POST',
      `/proxy/${OIDC}/echo/smuggle`,
      {
        authorization: `Bearer ${alice.jwt}`,
        cookie: 'tokenvend-session=caller-cookie',
        host: 'evil.example',
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
        connection: 'keep-alive, x-secret',
        'x-secret': 'hop-by-hop-secret',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-host': 'evil.example',
        forwarded: 'host=evil.example',
        'proxy-authorization': 'Basic c211Z2dsZWQ=',
        'x-tokenvend-rejected': 'A'.repeat(43),
        'x-amz-security-token': 'smuggled',
        'x-vendor-token': 'Token smuggled-by-the-caller',
      },
      '{"a":1}',
    );
    expect([answer.status, answer.json]).toEqual([200, { a: 1 }]);
    const seen = api.requests.slice(before);
    expect(seen).toHaveLength(1);
    const headers = seen[0]?.headers ?? {};
    const leaked = Object.keys(headers).filter((name) =>
      [
        'authorization',
        'cookie',
        'transfer-encoding',
        'x-secret',
        'x-forwarded-for',
        'x-forwarded-host',
        'forwarded',
        'proxy-authorization',
        'x-tokenvend-rejected',
        'x-amz-security-token',
      ].includes(name),
    );
    expect(leaked).toEqual([]);
    expect(headers.host).toBe(new URL(api.url).host);
    // The token header is the template's, with the caller's token: the caller cannot choose another.
    expect(headers['x-vendor-token']).toBe(`Token ${await vendorToken(alice.jwt)}`);
    expect(JSON.stringify(headers)).not.toContain('evil.example');
    expect(seen[0]?.body.toString('utf8')).toBe('{"a":1}');
  });

  it('bounds sizes: a request body over maxRequestBytes is 413, an answer over 4 MiB is 502', async () => {
    const before = api.requests.length;
    const tooBig = await stack.call('POST', `/proxy/${OIDC}/echo/big`, {
      token: alice.jwt,
      headers: { 'content-type': 'application/octet-stream' },
      body: 'x'.repeat(MAX_REQUEST_BYTES + 1),
    });
    expect([tooBig.status, tooBig.json?.error]).toEqual([413, 'invalid_request']);
    const noType = await raw(
      'POST',
      `/proxy/${OIDC}/echo/untyped`,
      { authorization: `Bearer ${alice.jwt}` },
      'x',
    );
    expect([noType.status, noType.json?.error]).toEqual([415, 'invalid_request']);
    const getWithBody = await raw(
      'GET',
      `/proxy/${OIDC}/echo/x`,
      { authorization: `Bearer ${alice.jwt}`, 'content-type': 'text/plain' },
      'x',
    );
    expect(getWithBody.status).toBe(400);
    expect(api.requests.length).toBe(before);

    const fits = await fetch(`${stack.url}/proxy/${OIDC}/big?bytes=${4 * 1024 * 1024}`, {
      headers: { authorization: `Bearer ${alice.jwt}` },
    });
    expect([fits.status, (await fits.arrayBuffer()).byteLength]).toEqual([200, 4 * 1024 * 1024]);
    const huge = await stack.call('GET', `/proxy/${OIDC}/big?bytes=${4 * 1024 * 1024 + 1}`, {
      token: alice.jwt,
    });
    expect([huge.status, huge.json?.error]).toEqual([502, 'response_too_large']);
  }, 30_000);
});

describe('a vendor 401', () => {
  let bob: { jwt: string; connectedAt: number };
  let carol: { jwt: string; connectedAt: number };

  beforeAll(async () => {
    bob = await user('bob');
    carol = await user('carol');
  });

  it('on a young token is passed on: no refresh, no retry', async () => {
    const token = await vendorToken(bob.jwt);
    api.revoke(token);
    const before = { api: api.requests.length, refreshes: refreshes() };
    const answer = await stack.call('GET', `/proxy/${OIDC}/users/me`, { token: bob.jwt });
    expect([answer.status, answer.headers.get('www-authenticate')]).toEqual([
      401,
      'Bearer error="invalid_token"',
    ]);
    expect(api.requests.length - before.api).toBe(1);
    expect(refreshes()).toBe(before.refreshes);
  });

  it('on a GET refreshes once (single-flight) and retries once with the new token', async () => {
    await sleep(Math.max(0, bob.connectedAt + MIN_REJECT_AGE_MS - Date.now()));
    const old = await vendorToken(bob.jwt);
    const before = { api: api.requests.length, refreshes: refreshes() };
    // Five at once: one refresh between them, each retried once.
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => stack.call('GET', `/proxy/${OIDC}/users/me`, { token: bob.jwt })),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers[0]?.json).toMatchObject({ sub: 'bob' });
    expect(refreshes()).toBe(before.refreshes + 1);
    const seen = api.requests.slice(before.api);
    expect(seen).toHaveLength(10);
    const fresh = await vendorToken(bob.jwt);
    expect(fresh).not.toBe(old);
    expect(seen.filter((r) => r.token === old).map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    expect(seen.filter((r) => r.token === fresh).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('on a GET is passed on when the refreshed token is refused too: one retry only', async () => {
    // The fresh token is young: the second 401 cannot refresh again, and the proxy does not loop.
    api.revoke(await vendorToken(bob.jwt));
    const before = { api: api.requests.length, refreshes: refreshes() };
    const answer = await stack.call('GET', `/proxy/${OIDC}/users/me`, { token: bob.jwt });
    expect(answer.status).toBe(401);
    expect(api.requests.length - before.api).toBe(1);
    expect(refreshes()).toBe(before.refreshes);
  });

  it('on a POST is passed on without a refresh or a retry (not idempotent)', async () => {
    await sleep(Math.max(0, carol.connectedAt + MIN_REJECT_AGE_MS - Date.now()));
    api.revoke(await vendorToken(carol.jwt));
    const before = { api: api.requests.length, refreshes: refreshes() };
    const answer = await stack.call('POST', `/proxy/${OIDC}/echo/calls`, {
      token: carol.jwt,
      json: { dial: '100' },
    });
    expect(answer.status).toBe(401);
    expect(api.requests.length - before.api).toBe(1);
    expect(refreshes()).toBe(before.refreshes);
  });
});
