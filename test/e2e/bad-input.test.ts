/**
 * Every bad input of the HTTP API through the local runtime: caller JWTs that must not pass, attempts to reach
 * another user's token, callbacks that must not redeem anything, return URLs off the allow-list, unknown
 * integrations, caching and CORS headers. After each test, alice's and bob's stored state is unchanged.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { localKeyFileName } from '../../functions/local/local-issuer.js';
import {
  ALLOWED_ORIGIN,
  type CallOptions,
  claimFrom,
  connect,
  type HttpAnswer,
  OIDC,
  observe,
  RETURN_BASE,
  type Stack,
  startStack,
} from './support/stack.js';

/** A second auth-code integration on the same vendor, for the mix-up check. */
const OTHER = 'oidc-other';
const SUBJECTS = ['alice', 'bob'];

let stack: Stack;
let baseline: Awaited<ReturnType<typeof observe>>;
let bobToken: string;
/** Every answer of the local server in this file, for the Cache-Control check at the end. */
const answers: { what: string; answer: HttpAnswer }[] = [];

async function call(method: string, path: string, options?: CallOptions): Promise<HttpAnswer> {
  const answer = await stack.call(method, path, options);
  answers.push({ what: `${method} ${path}`, answer });
  return answer;
}

beforeAll(async () => {
  stack = await startStack({
    extraIntegrations: ({ vendor, spy }) => ({
      [OTHER]: {
        provider: vendor.template({ id: 'other', endpoints: { token: `${spy.url}/token` } }),
        secret: { client_id: 'tokenvend-e2e-other', client_secret: 'unused' },
      },
    }),
  });
  for (const sub of SUBJECTS) expect((await connect(stack, sub)).answer.status).toBe(302);
  baseline = await observe(stack, SUBJECTS);
  expect(baseline.alice?.vendStatus).toBe(200);
  expect(baseline.bob?.vendStatus).toBe(200);
  bobToken = String(baseline.bob?.accessToken);
  expect(bobToken).not.toBe(baseline.alice?.accessToken);
});

afterEach(async () => {
  expect(await observe(stack, SUBJECTS)).toEqual(baseline);
});

afterAll(async () => {
  await stack?.close();
});

/** The local issuer's signing key, from the data dir (a throwaway key of this test's temp dir). */
function issuerKey(): JWK {
  return JSON.parse(readFileSync(join(stack.dataDir, localKeyFileName), 'utf8')) as JWK;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: `${stack.url}/local`,
    aud: 'tokenvend-local',
    sub: 'bob',
    iat: now,
    nbf: now,
    exp: now + 600,
    ...overrides,
  };
}

async function rs256(payload: Record<string, unknown>, jwk: JWK = issuerKey()): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: issuerKey().kid as string, typ: 'JWT' })
    .sign(await importJWK(jwk, 'RS256'));
}

async function publicPem(): Promise<string> {
  const { kty, n, e } = issuerKey();
  return exportSPKI((await importJWK({ kty, n, e }, 'RS256', { extractable: true })) as CryptoKey);
}

describe('caller JWT: 401 with WWW-Authenticate, never 500, no vendor call', () => {
  const routes: [string, string, CallOptions][] = [
    ['GET', `/vend/${OIDC}`, {}],
    ['GET', '/connections', {}],
    ['DELETE', `/connections/${OIDC}`, {}],
    ['POST', `/connect/${OIDC}`, { json: { return_to: `${RETURN_BASE}x` } }],
  ];
  const tokens: [string, () => Promise<string | undefined>][] = [
    ['missing', async () => undefined],
    ['empty', async () => ''],
    ['not a JWT', async () => 'not-a-jwt'],
    ['expired', () => rs256(claims({ iat: 1_600_000_000, nbf: 1_600_000_000, exp: 1_600_000_600 }))],
    ['not yet valid', () => rs256(claims({ nbf: Math.floor(Date.now() / 1000) + 3600 }))],
    ['without exp', () => rs256(claims({ exp: undefined }))],
    [
      'unsigned (alg none)',
      async () => `${b64url({ alg: 'none', typ: 'JWT', kid: issuerKey().kid })}.${b64url(claims())}.`,
    ],
    [
      'HS256 with the public JWK as the HMAC secret',
      async () => {
        const { kty, n, e, kid } = issuerKey();
        const secret = new TextEncoder().encode(JSON.stringify({ kty, n, e, kid, alg: 'RS256', use: 'sig' }));
        return new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid, typ: 'JWT' }).sign(secret);
      },
    ],
    [
      'HS256 with the public key PEM as the HMAC secret',
      async () =>
        new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', kid: issuerKey().kid as string, typ: 'JWT' })
          .sign(new TextEncoder().encode(await publicPem())),
    ],
    [
      'signed by another key under the trusted kid',
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        return new SignJWT(claims())
          .setProtectedHeader({ alg: 'RS256', kid: issuerKey().kid as string, typ: 'JWT' })
          .sign(privateKey);
      },
    ],
    ['wrong issuer', () => rs256(claims({ iss: 'https://evil.example/local' }))],
    ['wrong audience', () => rs256(claims({ aud: 'someone-else' }))],
    [
      'tampered payload (sub changed after signing)',
      async () => {
        const [h, , s] = (await rs256(claims({ sub: 'mallory' }))).split('.');
        return `${h}.${b64url(claims())}.${s}`;
      },
    ],
  ];

  it.each(tokens)('%s', async (_name, make) => {
    const token = await make();
    const vendorCalls = stack.vendor.tokenRequests();
    for (const [method, path, options] of routes) {
      const headers: Record<string, string> =
        token === undefined ? {} : { authorization: token === '' ? 'Bearer ' : `Bearer ${token}` };
      const answer = await call(method, path, { ...options, headers });
      expect({ route: `${method} ${path}`, status: answer.status }).toEqual({
        route: `${method} ${path}`,
        status: 401,
      });
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="tokenvend"/);
      expect(answer.json?.error).toBe('invalid_token');
      expect(answer.text).not.toContain(bobToken);
      if (token) expect(answer.text).not.toContain(token);
    }
    expect(stack.vendor.tokenRequests()).toBe(vendorCalls);
  });

  it('a correctly signed token for bob is accepted (the forgeries above differ only in the attack)', async () => {
    const answer = await call('GET', `/vend/${OIDC}`, { token: await rs256(claims()) });
    expect(answer.status).toBe(200);
    expect(answer.json?.access_token).toBe(bobToken);
  });
});

describe("a caller never gets another user's token", () => {
  let alice: string;
  let aliceToken: string;

  beforeAll(async () => {
    alice = await stack.token('alice');
    aliceToken = String(baseline.alice?.accessToken);
  });

  const attempts: [string, string, Record<string, string>][] = [
    ['query sub', `/vend/${OIDC}?sub=bob`, {}],
    ['query subject', `/vend/${OIDC}?subject=bob`, {}],
    ['query user and principal', `/vend/${OIDC}?user=bob&principal=bob&subject=bob&sub=bob`, {}],
    ['x-subject header', `/vend/${OIDC}`, { 'x-subject': 'bob' }],
    [
      'other subject headers',
      `/vend/${OIDC}`,
      { 'x-tokenvend-subject': 'bob', 'x-user': 'bob', 'x-sub': 'bob' },
    ],
    ['unknown integration with ?subject', '/vend/x?subject=bob', {}],
    ['encoded slash', `/vend/${OIDC}%2Fbob`, {}],
    ['encoded traversal', `/vend/${OIDC}%2F..%2F..%2Fvend%2F${OIDC}%3Fsub%3Dbob`, {}],
    ['encoded traversal to bob', `/vend/..%2Fbob%2F${OIDC}`, {}],
    ['encoded query in the path', `/vend/${OIDC}%3Fsub%3Dbob`, {}],
    ['double-encoded slash', `/vend/${OIDC}%252Fbob`, {}],
    ['trailing segment', `/vend/${OIDC}/bob`, {}],
    ['connections of bob', '/connections?sub=bob', { 'x-subject': 'bob' }],
  ];

  it.each(attempts)('%s', async (_name, path, headers) => {
    const answer = await call('GET', path, { token: alice, headers });
    expect(answer.text).not.toContain(bobToken);
    expect([200, 400, 404]).toContain(answer.status);
    if (answer.status === 200 && path.startsWith('/vend/'))
      expect(answer.json?.access_token).toBe(aliceToken);
    if (path.startsWith('/connections')) expect(answer.json).toEqual(baseline.alice?.connections);
  });

  it("disconnect with ?sub=bob removes only the caller's own connection", async () => {
    const { answer } = await connect(stack, 'carol');
    expect(answer.status).toBe(302);
    const carol = await stack.token('carol');
    const removed = await call('DELETE', `/connections/${OIDC}?sub=bob&subject=bob`, {
      token: carol,
      headers: { 'x-subject': 'bob' },
    });
    expect(removed.status).toBe(204);
    expect((await call('GET', `/vend/${OIDC}`, { token: carol })).status).toBe(404);
  });

  it('connect with ?sub=bob binds the flow to the caller, not to bob', async () => {
    const dave = await stack.token('dave');
    const start = await call('POST', `/connect/${OIDC}?sub=bob`, {
      token: dave,
      headers: { 'x-subject': 'bob' },
      json: { return_to: `${RETURN_BASE}x` },
    });
    expect(start.status).toBe(200);
    const callback = await stack.vendor.authorize(String(start.json?.authorize_url), 'dave');
    const finished = await call('GET', `${callback.pathname}${callback.search}`);
    expect(finished.status).toBe(302);
    expect((await claimFrom(stack, finished, dave)).status).toBe(200);
    const vend = await call('GET', `/vend/${OIDC}`, { token: dave });
    expect(vend.status).toBe(200);
    expect(vend.json?.access_token).not.toBe(bobToken);
    expect((await call('DELETE', `/connections/${OIDC}`, { token: dave })).status).toBe(204);
  });
});

describe('OAuth callback: no token request for bad state', () => {
  async function startFlow(sub = 'erin') {
    const start = await call('POST', `/connect/${OIDC}`, {
      token: await stack.token(sub),
      json: { return_to: `${RETURN_BASE}x` },
    });
    expect(start.status).toBe(200);
    const authorizeUrl = new URL(String(start.json?.authorize_url));
    return { authorizeUrl, state: String(authorizeUrl.searchParams.get('state')) };
  }

  async function expectRefused(path: string, status = 400): Promise<HttpAnswer> {
    const before = stack.vendor.tokenRequests('authorization_code');
    const answer = await call('GET', path);
    expect(answer.status).toBe(status);
    expect(answer.headers.get('location')).toBeNull();
    expect(stack.vendor.tokenRequests('authorization_code')).toBe(before);
    return answer;
  }

  const iss = () => encodeURIComponent(stack.vendor.issuer);

  it('an unknown (random) state is a 400 page', async () => {
    const answer = await expectRefused(
      `/oauth/${OIDC}/callback?code=abc&state=${'r'.repeat(43)}&iss=${iss()}`,
    );
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(answer.text).toContain('unknown, expired or already used');
  });

  it('missing, empty, duplicated or oversized state is a 400', async () => {
    await expectRefused(`/oauth/${OIDC}/callback?code=abc&iss=${iss()}`);
    await expectRefused(`/oauth/${OIDC}/callback?code=abc&state=&iss=${iss()}`);
    await expectRefused(`/oauth/${OIDC}/callback?code=abc&state=a&state=b&iss=${iss()}`);
    await expectRefused(`/oauth/${OIDC}/callback?code=abc&state=${'s'.repeat(5000)}&iss=${iss()}`);
  });

  it('a replayed callback redeems the code exactly once', async () => {
    const { authorizeUrl } = await startFlow();
    const callback = await stack.vendor.authorize(authorizeUrl, 'erin');
    const path = `${callback.pathname}${callback.search}`;
    const before = stack.vendor.tokenRequests('authorization_code');
    const results = await Promise.all([call('GET', path), call('GET', path), call('GET', path)]);
    expect(results.map((r) => r.status).sort()).toEqual([302, 400, 400]);
    await expectRefused(path);
    expect(stack.vendor.tokenRequests('authorization_code') - before).toBe(1);
    const erin = await stack.token('erin');
    const finished = results.find((r) => r.status === 302) as HttpAnswer;
    expect((await claimFrom(stack, finished, erin)).status).toBe(200);
    expect((await call('GET', `/vend/${OIDC}`, { token: erin })).status).toBe(200);
  });

  it('a used state (consumed by a finished flow) with a fresh code is a 400', async () => {
    const { authorizeUrl, state } = await startFlow();
    const first = await stack.vendor.authorize(authorizeUrl, 'erin');
    const finished = await call('GET', `${first.pathname}${first.search}`);
    expect(finished.status).toBe(302);
    expect((await claimFrom(stack, finished, await stack.token('erin'))).status).toBe(200);
    const vended = await call('GET', `/vend/${OIDC}`, { token: await stack.token('erin') });
    // A second login at the vendor for the same authorize URL gives a new code with the old state.
    const second = await stack.vendor.authorize(authorizeUrl, 'erin');
    expect(second.searchParams.get('state')).toBe(state);
    expect(second.searchParams.get('code')).not.toBe(first.searchParams.get('code'));
    await expectRefused(`${second.pathname}${second.search}`);
    const after = await call('GET', `/vend/${OIDC}`, { token: await stack.token('erin') });
    expect(vended.status).toBe(200);
    expect(after.json?.access_token).toBe(vended.json?.access_token);
  });

  it('vendor error=access_denied shows a clear 400 page and consumes the state', async () => {
    const { authorizeUrl, state } = await startFlow();
    const denied = await expectRefused(
      `/oauth/${OIDC}/callback?error=access_denied&error_description=${encodeURIComponent('The user declined')}&state=${state}&iss=${iss()}`,
    );
    expect(denied.headers.get('content-type')).toMatch(/^text\/html/);
    expect(denied.text).toContain('access_denied');
    // Attacker-supplied text never reaches the page: the code and our own words only (checklist 53).
    expect(denied.text).not.toContain('The user declined');
    const late = await stack.vendor.authorize(authorizeUrl, 'frank');
    await expectRefused(`${late.pathname}${late.search}`);
    expect((await call('GET', `/vend/${OIDC}`, { token: await stack.token('frank') })).status).toBe(404);
  });

  it('an error page escapes what the vendor (or an attacker) put in error_description', async () => {
    const { state } = await startFlow();
    const answer = await expectRefused(
      `/oauth/${OIDC}/callback?error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}&state=${state}&iss=${iss()}`,
    );
    expect(answer.text).not.toContain('<script>');
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('a state issued for one integration is not redeemed at another (mix-up)', async () => {
    const { authorizeUrl } = await startFlow();
    const callback = await stack.vendor.authorize(authorizeUrl, 'erin');
    await expectRefused(`/oauth/${OTHER}/callback${callback.search}`);
    // ... and the state is gone, so the real callback cannot be completed later either.
    await expectRefused(`${callback.pathname}${callback.search}`);
  });

  it('a wrong iss (RFC 9207) is refused without redeeming the code', async () => {
    const { authorizeUrl } = await startFlow();
    const callback = await stack.vendor.authorize(authorizeUrl, 'erin');
    callback.searchParams.set('iss', 'https://evil.example');
    await expectRefused(`${callback.pathname}${callback.search}`);
  });
});

describe('return_to allow-list', () => {
  const offList = [
    'https://evil.example/',
    'https://app.e2e.test.evil.example/',
    'https://evil.example/?https://app.e2e.test/',
    'https://user@app.e2e.test/',
    'http://app.e2e.test/',
    'javascript:alert(1)//https://app.e2e.test/',
    '//evil.example/',
    'https://app.e2e.test:8443/',
  ];

  it.each(offList)('%s is refused at /connect with 400', async (returnTo) => {
    const vendorCalls = stack.spy.requests.length;
    const answer = await call('POST', `/connect/${OIDC}`, {
      token: await stack.token('alice'),
      json: { return_to: returnTo },
    });
    expect(answer.status).toBe(400);
    expect(answer.json?.error).toBe('invalid_request');
    expect(answer.json?.authorize_url).toBeUndefined();
    expect(stack.spy.requests.length).toBe(vendorCalls);
  });

  it('bad /connect bodies are 400/415', async () => {
    const alice = await stack.token('alice');
    expect((await call('POST', `/connect/${OIDC}`, { token: alice, json: { return_to: 5 } })).status).toBe(
      400,
    );
    expect((await call('POST', `/connect/${OIDC}`, { token: alice, json: { other: 1 } })).status).toBe(400);
    expect((await call('POST', `/connect/${OIDC}`, { token: alice, json: [1] })).status).toBe(400);
    const form = await call('POST', `/connect/${OIDC}`, { token: alice, form: { return_to: RETURN_BASE } });
    expect(form.status).toBe(415);
    const broken = await call('POST', `/connect/${OIDC}`, {
      token: alice,
      headers: { 'content-type': 'application/json' },
      body: '{"return_to":',
    });
    expect(broken.status).toBe(400);
  });
});

describe('unknown integrations, routes and headers', () => {
  it('an unknown integration is a 404 on every route', async () => {
    const alice = await stack.token('alice');
    const cases: [string, string, CallOptions][] = [
      ['GET', '/vend/nope', { token: alice }],
      ['POST', '/connect/nope', { token: alice, json: {} }],
      ['DELETE', '/connections/nope', { token: alice }],
      ['GET', '/oauth/nope/callback?code=a&state=b', {}],
      ['POST', '/saml/nope/acs', { form: { SAMLResponse: 'PHg+' } }],
    ];
    for (const [method, path, options] of cases) {
      const answer = await call(method, path, options);
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
    }
    const missing = await call('GET', '/no/such/route');
    expect(missing.status).toBe(404);
  });

  it('CORS: a preflight from an allowed origin is answered, a disallowed one gets no CORS headers', async () => {
    const preflight = (origin: string) =>
      call('OPTIONS', `/vend/${OIDC}`, {
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toMatch(/GET/);
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/);

    for (const origin of ['https://evil.example', 'https://app.e2e.test.evil.example', 'null']) {
      const refused = await preflight(origin);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      expect(refused.headers.get('access-control-allow-methods')).toBeNull();
    }

    const alice = await stack.token('alice');
    const fromApp = await call('GET', `/vend/${OIDC}`, { token: alice, headers: { origin: ALLOWED_ORIGIN } });
    expect(fromApp.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    const fromEvil = await call('GET', `/vend/${OIDC}`, {
      token: alice,
      headers: { origin: 'https://evil.example' },
    });
    expect(fromEvil.headers.get('access-control-allow-origin')).toBeNull();
    const errorFromApp = await call('GET', `/vend/${OIDC}`, { headers: { origin: ALLOWED_ORIGIN } });
    expect(errorFromApp.status).toBe(401);
    expect(errorFromApp.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
  });

  it('every answer of this file carried Cache-Control: no-store', async () => {
    await call('GET', '/health');
    expect(answers.length).toBeGreaterThan(100);
    const statuses = new Set(answers.map((a) => a.answer.status));
    for (const status of [200, 204, 302, 400, 401, 404, 415]) expect(statuses).toContain(status);
    const without = answers.filter((a) => a.answer.headers.get('cache-control') !== 'no-store');
    expect(without.map((a) => `${a.what} -> ${a.answer.status}`)).toEqual([]);
  });
});
