/**
 * RFC 8693 token exchange through `npm start`'s runtime (the same handlers as in AWS) against a real vendor
 * (oidc-provider behind the recording spy):
 * - a standard OAuth client (oauth4webapi 3: RFC 8414 discovery, then its generic grant request
 *   `genericTokenEndpointRequest` + `processGenericTokenEndpointResponse`, v2's `genericGrantRequest` /
 *   `processGenericGrantResponse`) gets the same vendor token as `GET /vend`, with no tokenvend-specific code;
 * - every RFC 8693 §2.2.2 / RFC 6749 §5.2 error case, as JSON with `Cache-Control: no-store`;
 * - a subject token for one user never yields another user's token;
 * - the `/vend` lifecycle: one refresh for a burst, and no vendor call during a 429's `Retry-After`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { localKeyFileName } from '../../functions/local/local-issuer.js';
import { connect, type HttpAnswer, OIDC, type Stack, sleep, startStack } from './support/stack.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const FORM = 'application/x-www-form-urlencoded';

/** The token request a client sends for `subject`'s JWT; `overrides` with '' drop a parameter. */
function exchangeForm(subjectToken: string, overrides: Record<string, string> = {}): string {
  const params: Record<string, string> = {
    grant_type: GRANT,
    subject_token: subjectToken,
    subject_token_type: JWT_TYPE,
    audience: OIDC,
    ...overrides,
  };
  return new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '')).toString();
}

function exchange(stack: Stack, body: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return stack.call('POST', '/oauth2/token', { headers: { 'content-type': FORM, ...headers }, body });
}

/** The exchange as a client library does it: discovery, then the generic grant request. */
async function withOauth4webapi(
  stack: Stack,
  subjectToken: string,
  target: Record<string, string> = { audience: OIDC },
): Promise<oauth.TokenEndpointResponse> {
  const issuer = new URL(stack.url);
  const options = { [oauth.allowInsecureRequests]: true }; // the local runtime is http://127.0.0.1
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...options }),
  );
  const client: oauth.Client = { client_id: 'my-app' };
  const response = await oauth.genericTokenEndpointRequest(
    as,
    client,
    oauth.None(),
    GRANT,
    new URLSearchParams({
      subject_token: subjectToken,
      subject_token_type: JWT_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
      ...target,
    }),
    options,
  );
  return oauth.processGenericTokenEndpointResponse(as, client, response);
}

async function vendorSubject(stack: Stack, accessToken: unknown): Promise<unknown> {
  const me = await fetch(stack.vendor.userinfoEndpoint, {
    headers: { authorization: `Bearer ${String(accessToken)}` },
  });
  expect(me.status).toBe(200);
  return ((await me.json()) as { sub?: unknown }).sub;
}

/** Every answer of the endpoint: JSON, never cached (RFC 6749 §5.1, §5.2). */
function expectOAuthAnswer(answer: HttpAnswer): void {
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(answer.headers.get('pragma')).toBe('no-cache');
}

describe('token exchange with a warm connection', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ accessTokenTtl: 300 });
    for (const sub of ['alice', 'bob']) {
      const { answer } = await connect(stack, sub);
      expect(answer.status).toBe(302);
    }
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** The local issuer's signing key (a throwaway key in this test's temp data dir). */
  const issuerKey = (): JWK => JSON.parse(readFileSync(join(stack.dataDir, localKeyFileName), 'utf8')) as JWK;

  async function signed(claims: Record<string, unknown>, key?: CryptoKey): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: `${stack.url}/local`,
      aud: 'tokenvend-local',
      sub: 'alice',
      iat: now,
      nbf: now,
      exp: now + 600,
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: issuerKey().kid as string, typ: 'JWT' })
      .sign(key ?? (await importJWK(issuerKey(), 'RS256')));
  }

  it('serves RFC 8414 metadata naming the token endpoint and the grant', async () => {
    const answer = await stack.call('GET', '/.well-known/oauth-authorization-server');
    expect(answer.status).toBe(200);
    expectOAuthAnswer(answer);
    expect(answer.json).toEqual({
      issuer: stack.url,
      token_endpoint: `${stack.url}/oauth2/token`,
      grant_types_supported: [GRANT],
      token_endpoint_auth_methods_supported: ['none'],
      response_types_supported: [],
    });
  });

  it('oauth4webapi, with no tokenvend-specific code, gets the same vendor token as /vend', async () => {
    const jwt = await stack.token('alice');
    const vended = await stack.call('GET', `/vend/${OIDC}`, { token: jwt });
    expect(vended.status).toBe(200);
    const refreshesBefore = stack.spy.count('/token', 'refresh_token');

    const result = await withOauth4webapi(stack, jwt);
    expect(result.access_token).toBe(vended.json?.access_token);
    expect(result.issued_token_type).toBe(ACCESS_TOKEN_TYPE);
    expect(result.token_type).toBe('bearer'); // oauth4webapi lower-cases it (RFC 6749 §7.1: case-insensitive)
    expect(result.expires_in).toBeGreaterThan(250);
    expect(result.expires_in).toBeLessThanOrEqual(300);
    expect(result.refresh_token).toBeUndefined();
    // The same answer for the resource form of the target.
    const byResource = await withOauth4webapi(stack, jwt, {
      resource: `urn:tokenvend:integration:${OIDC}`,
    });
    expect(byResource.access_token).toBe(vended.json?.access_token);
    // A warm token: no vendor call, and the token works at the vendor as alice.
    expect(stack.spy.count('/token', 'refresh_token')).toBe(refreshesBefore);
    expect(await vendorSubject(stack, result.access_token)).toBe('alice');
  });

  it('the raw answer: the RFC 8693 §2.2.1 members and Cache-Control: no-store', async () => {
    const jwt = await stack.token('alice');
    const answer = await exchange(stack, exchangeForm(jwt, { subject_token_type: ACCESS_TOKEN_TYPE }));
    expect(answer.status).toBe(200);
    expectOAuthAnswer(answer);
    expect(Object.keys(answer.json ?? {}).sort()).toEqual(
      ['access_token', 'expires_in', 'issued_token_type', 'scope', 'token_type'].sort(),
    );
    expect(answer.json).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer' });
    // The audit trail records the exchange like a vend: the integration (no path parameter names it) and the user.
    const audit = await stack.call('GET', '/local/audit', { token: jwt });
    expect(((audit.json?.records ?? []) as Record<string, unknown>[])[0]).toMatchObject({
      action: 'token_exchange',
      outcome: 'ok',
      integration: OIDC,
      subject: 'user:local:alice',
      actor: 'user:local:alice',
    });
  });

  it('oauth4webapi sees the RFC error codes (invalid_grant when not connected)', async () => {
    const jwt = await stack.token('nobody');
    await expect(withOauth4webapi(stack, jwt)).rejects.toMatchObject({
      error: 'invalid_grant',
      status: 400,
    });
    await expect(withOauth4webapi(stack, jwt, { audience: 'nope' })).rejects.toMatchObject({
      error: 'invalid_target',
    });
  });

  it('answers every RFC 8693 §2.2.2 / RFC 6749 §5.2 error case', async () => {
    const jwt = await stack.token('alice');
    const otherIssuer = (await generateKeyPair('RS256')).privateKey;
    const cases: [string, string, Record<string, string>, number, string][] = [
      [
        'a JSON body',
        JSON.stringify({ grant_type: GRANT }),
        { 'content-type': 'application/json' },
        415,
        'invalid_request',
      ],
      ['no grant_type', exchangeForm(jwt, { grant_type: '' }), {}, 400, 'invalid_request'],
      [
        'another grant',
        exchangeForm(jwt, { grant_type: 'client_credentials' }),
        {},
        400,
        'unsupported_grant_type',
      ],
      ['no subject_token', exchangeForm('', {}), {}, 400, 'invalid_request'],
      ['no subject_token_type', exchangeForm(jwt, { subject_token_type: '' }), {}, 400, 'invalid_request'],
      [
        'a SAML subject_token_type',
        exchangeForm(jwt, { subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }),
        {},
        400,
        'invalid_request',
      ],
      [
        'a refresh token requested',
        exchangeForm(jwt, { requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }),
        {},
        400,
        'invalid_request',
      ],
      [
        'an actor_token',
        exchangeForm(jwt, { actor_token: jwt, actor_token_type: JWT_TYPE }),
        {},
        400,
        'invalid_request',
      ],
      [
        'a repeated parameter',
        `${exchangeForm(jwt)}&subject_token_type=${encodeURIComponent(JWT_TYPE)}`,
        {},
        400,
        'invalid_request',
      ],
      ['a subject_token that is no JWT', exchangeForm('not-a-jwt'), {}, 400, 'invalid_request'],
      [
        'an expired subject_token',
        exchangeForm(await signed({ exp: Math.floor(Date.now() / 1000) - 5 })),
        {},
        400,
        'invalid_request',
      ],
      [
        'a subject_token for another audience',
        exchangeForm(await signed({ aud: 'someone-else' })),
        {},
        400,
        'invalid_request',
      ],
      [
        'a subject_token from an untrusted issuer',
        exchangeForm(await signed({ iss: 'https://evil.example' })),
        {},
        400,
        'invalid_request',
      ],
      [
        'a subject_token signed by another key',
        exchangeForm(await signed({}, otherIssuer)),
        {},
        400,
        'invalid_request',
      ],
      [
        'a subject_token without exp',
        exchangeForm(await signed({ exp: undefined })),
        {},
        400,
        'invalid_request',
      ],
      // The target is looked up only for a verified subject: an unknown one with a bad token is invalid_request.
      [
        'a bad subject_token for an unknown target',
        exchangeForm('not-a-jwt', { audience: 'nope' }),
        {},
        400,
        'invalid_request',
      ],
      ['no target', exchangeForm(jwt, { audience: '' }), {}, 400, 'invalid_target'],
      ['an unknown audience', exchangeForm(jwt, { audience: 'nope' }), {}, 400, 'invalid_target'],
      [
        'an inherited name as audience',
        exchangeForm(jwt, { audience: '__proto__' }),
        {},
        400,
        'invalid_target',
      ],
      [
        'a resource of another form',
        exchangeForm(jwt, { audience: '', resource: `https://api.example.com/${OIDC}` }),
        {},
        400,
        'invalid_target',
      ],
      [
        'an unknown resource',
        exchangeForm(jwt, { audience: '', resource: 'urn:tokenvend:integration:nope' }),
        {},
        400,
        'invalid_target',
      ],
      [
        'audience and resource',
        exchangeForm(jwt, { resource: `urn:tokenvend:integration:${OIDC}` }),
        {},
        400,
        'invalid_target',
      ],
      ['two audiences', `${exchangeForm(jwt)}&audience=${OIDC}`, {}, 400, 'invalid_target'],
      [
        'a client secret in the body',
        exchangeForm(jwt, { client_id: 'x', client_secret: 'y' }),
        {},
        400,
        'invalid_client',
      ],
      [
        'HTTP Basic client authentication',
        exchangeForm(jwt),
        { authorization: 'Basic eDp5' },
        401,
        'invalid_client',
      ],
      ['not connected', exchangeForm(await stack.token('nobody')), {}, 400, 'invalid_grant'],
      [
        'a body over the limit',
        `${exchangeForm(jwt)}&pad=${'a'.repeat(310 * 1024)}`,
        {},
        413,
        'invalid_request',
      ],
    ];
    const vendorCalls = stack.spy.requests.length;
    const problems: string[] = [];
    for (const [what, body, headers, status, error] of cases) {
      const answer = await exchange(stack, body, headers);
      expectOAuthAnswer(answer);
      if (answer.status !== status || answer.json?.error !== error) {
        problems.push(
          `${what}: ${answer.status} ${String(answer.json?.error)} (expected ${status} ${error})`,
        );
      }
      expect(typeof answer.json?.error_description).toBe('string');
      // Our own words: never the subject token (nor a part of it) in the answer.
      expect(answer.text).not.toContain(jwt.split('.')[2]);
    }
    expect(problems).toEqual([]);
    // None of these reached the vendor.
    expect(stack.spy.requests.length).toBe(vendorCalls);
  });

  it('Basic client authentication gets a Basic challenge (RFC 6749 §5.2)', async () => {
    const answer = await exchange(stack, exchangeForm(await stack.token('alice')), {
      authorization: 'Basic eDp5',
    });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Basic realm="tokenvend"');
  });

  it("a subject token for one user never yields another user's token", async () => {
    const [alice, bob] = await Promise.all([stack.token('alice'), stack.token('bob')]);
    const own = {
      alice: (await stack.call('GET', `/vend/${OIDC}`, { token: alice })).json?.access_token,
      bob: (await stack.call('GET', `/vend/${OIDC}`, { token: bob })).json?.access_token,
    };
    expect(own.alice).not.toBe(own.bob);
    // Interleaved and concurrent: each answer is its own subject's token.
    const order = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? 'bob' : 'alice') as 'alice' | 'bob');
    const answers = await Promise.all(
      order.map((who) => exchange(stack, exchangeForm(who === 'alice' ? alice : bob))),
    );
    for (const [i, answer] of answers.entries()) {
      const who = order[i] as 'alice' | 'bob';
      expect([who, answer.status, answer.json?.access_token]).toEqual([who, 200, own[who]]);
    }
    expect(await vendorSubject(stack, answers[0]?.json?.access_token)).toBe('bob');
    expect(await vendorSubject(stack, answers[1]?.json?.access_token)).toBe('alice');
    // Another user's JWT in the Authorization header changes nothing but is refused as client authentication;
    // a subject named in the body (e.g. `sub`) is an unknown parameter and ignored: the token is still alice's.
    const mixed = await exchange(stack, exchangeForm(alice), { authorization: `Bearer ${bob}` });
    expect([mixed.status, mixed.json?.error, mixed.json?.access_token]).toEqual([
      401,
      'invalid_client',
      undefined,
    ]);
    const named = await exchange(stack, `${exchangeForm(alice)}&sub=bob&subject=user%3Alocal%3Abob`);
    expect(named.json?.access_token).toBe(own.alice);
    // The same `sub` from another (untrusted) issuer is no one.
    const forged = await exchange(
      stack,
      exchangeForm(await signed({ iss: 'https://evil.example', sub: 'bob' })),
    );
    expect([forged.status, forged.json?.error]).toEqual([400, 'invalid_request']);
  });
});

describe('token exchange shares the /vend lifecycle', () => {
  const TTL = 2;
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ accessTokenTtl: TTL });
  });
  afterAll(async () => {
    await stack?.close();
  });
  afterEach(() => stack.spy.heal());

  /** Connects `sub`: its JWT and a counter of the refresh requests that send its first refresh token. */
  async function connected(sub: string): Promise<{ jwt: string; sent: () => number }> {
    const seen = stack.spy.requests.length;
    const { answer } = await connect(stack, sub);
    expect(answer.status).toBe(302);
    const redeem = stack.spy.requests
      .slice(seen)
      .find((r) => r.form.get('grant_type') === 'authorization_code');
    const refreshToken = (JSON.parse(redeem?.response ?? '{}') as { refresh_token?: string }).refresh_token;
    expect(refreshToken).toBeDefined();
    return {
      jwt: await stack.token(sub),
      sent: () =>
        stack.spy.requests.filter(
          (r) => r.form.get('grant_type') === 'refresh_token' && r.form.get('refresh_token') === refreshToken,
        ).length,
    };
  }

  it('a burst of exchanges of an expired token makes one refresh and hands out one token', async () => {
    const { jwt, sent } = await connected('carol');
    await sleep(TTL * 1000 + 100);
    // Just after a whole second, so the refreshed token (issued-at in whole seconds) is not due during the burst.
    await sleep(1000 - (Date.now() % 1000) + 20);
    const startedMs = Date.now();
    const answers = await Promise.all(Array.from({ length: 30 }, () => exchange(stack, exchangeForm(jwt))));
    const tookMs = Date.now() - startedMs;
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
    if (tookMs < 1_500) {
      expect(sent()).toBe(1);
      expect(new Set(answers.map((a) => a.json?.access_token)).size).toBe(1);
    } else {
      // A starved machine stretched the burst past the refreshed token's due time: still one refresh per token.
      expect(sent()).toBeLessThanOrEqual(1);
    }
  }, 20_000);

  it('after a 429 with Retry-After, neither the exchange nor /vend calls the vendor before it passes', async () => {
    const { jwt, sent } = await connected('dave');
    await sleep(TTL * 1000 + 100);
    stack.spy.inject('refresh_token', {
      status: 429,
      headers: { 'retry-after': '60' },
      body: '{"error":"slow_down"}',
    });
    const answers: HttpAnswer[] = [];
    for (let i = 0; i < 5; i++) {
      answers.push(
        ...(await Promise.all([
          ...Array.from({ length: 8 }, () => exchange(stack, exchangeForm(jwt))),
          stack.call('GET', `/vend/${OIDC}`, { token: jwt }),
        ])),
      );
    }
    expect(sent()).toBe(1);
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([503]));
    const exchanged = answers.filter((a) => a.json?.error === 'temporarily_unavailable');
    expect(exchanged).toHaveLength(answers.length);
    const last = answers.at(-2) as HttpAnswer; // an exchange answer
    expectOAuthAnswer(last);
    const retryAfter = Number(last.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
  }, 20_000);

  it('a dead grant (needs_reauth) is invalid_grant, without calling the vendor again', async () => {
    const { jwt, sent } = await connected('erin');
    await sleep(TTL * 1000 + 100);
    stack.spy.inject('refresh_token', { status: 400, body: '{"error":"invalid_grant"}' });
    const answers = await Promise.all(Array.from({ length: 10 }, () => exchange(stack, exchangeForm(jwt))));
    expect(answers.map((a) => [a.status, a.json?.error])).toEqual(Array(10).fill([400, 'invalid_grant']));
    expect(answers[0]?.json?.error_description).toMatch(/needs re-authorisation/);
    stack.spy.heal();
    const later = await exchange(stack, exchangeForm(jwt));
    expect([later.status, later.json?.error]).toEqual([400, 'invalid_grant']);
    expect(sent()).toBe(1);
  }, 20_000);
});
