/**
 * Canary test: the flows (connect, vend, refresh, SAML, disconnect, refused inputs, a vendor outage and a dead
 * grant) run with a canary client secret and the vendor's random tokens while everything written to
 * process.stdout / process.stderr, console.* and the local runtime's error logger is captured. No token, code,
 * state, verifier, assertion, caller JWT or secret may appear in any captured line. A second run has the vendor
 * echo the whole request (verifier, refresh token, Basic credentials) in its error_description: none of it may
 * reach a page, a log line or a stored item (security-checklist items 47 and 53).
 */
import { connect, OIDC, RETURN_BASE, SSO, type Stack, sleep, startStack } from './support/stack.js';

const DOWN = 'down';
const TTL_SECONDS = 60;
const FRACTION = 0.05;

interface Capture {
  lines: string[];
  restore(): void;
}

/** Records every write to the process streams and every console call (console calls are not echoed). */
function captureOutput(): Capture {
  const lines: string[] = [];
  const restores: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      lines.push(Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
      return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof stream.write;
    restores.push(() => {
      stream.write = original;
    });
  }
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  for (const method of methods) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' '));
    };
    restores.push(() => {
      console[method] = original;
    });
  }
  return {
    lines,
    restore: () => {
      for (const undo of restores.splice(0).reverse()) undo();
    },
  };
}

function safeJson(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}\n${value.stack}` : JSON.stringify(value);
  } catch {
    return String(value);
  }
}

let stack: Stack;
let capture: Capture;
const secrets = new Set<string>();
const remember = (...values: (string | null | undefined)[]) => {
  for (const v of values) if (v && v.length >= 8) secrets.add(v);
};

beforeAll(async () => {
  capture = captureOutput();
  stack = await startStack({
    saml: true,
    accessTokenTtl: TTL_SECONDS,
    templateOverrides: { refresh: { refreshAt: { kind: 'lifetime-fraction', fraction: FRACTION } } },
    // A vendor that is down: its token endpoint is a closed port.
    extraIntegrations: ({ vendor, secret }) => ({
      [DOWN]: {
        provider: vendor.template({ id: 'down', endpoints: { token: 'http://127.0.0.1:9/token' } }),
        secret,
      },
    }),
  });
  remember(stack.clientSecret);
  // The runtime's error logger writes through console.error, captured above; record its calls as well.
  const logger = stack.server.local.app.logger;
  const original = logger.error.bind(logger);
  logger.error = (message, details) => {
    capture.lines.push(`logger: ${message} ${safeJson(details)}`);
    original(message, details);
  };
});

afterAll(async () => {
  capture?.restore();
  await stack?.close();
});

async function token(sub: string): Promise<string> {
  const jwt = await stack.token(sub);
  remember(jwt, jwt.split('.')[2]);
  return jwt;
}

it('checklist 47: no secret, token, code, state or assertion reaches any output', async () => {
  const issuedAt = Date.now();
  // Connect and vend (auth code + PKCE); carol's grant is killed at the vendor to exercise invalid_grant.
  for (const sub of ['alice', 'carol']) {
    const { answer, callbackUrl } = await connect(stack, sub);
    expect(answer.status).toBe(302);
    remember(callbackUrl.searchParams.get('code'), callbackUrl.searchParams.get('state'));
    // Replayed callback: refused.
    expect((await stack.call('GET', `${callbackUrl.pathname}${callbackUrl.search}`)).status).toBe(400);
  }
  const alice = await token('alice');
  const carol = await token('carol');
  const vend = await stack.call('GET', `/vend/${OIDC}`, { token: alice });
  expect(vend.status).toBe(200);
  remember(String(vend.json?.access_token));
  expect((await stack.call('GET', '/connections', { token: alice })).status).toBe(200);

  const carolCode = stack.spy.requests
    .filter((r) => r.form.get('grant_type') === 'authorization_code')
    .at(-1);
  const carolRefresh = JSON.parse(String(carolCode?.response)).refresh_token as string;
  const killed = await fetch(stack.vendor.revocationEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${stack.clientId}:${stack.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token: carolRefresh, token_type_hint: 'refresh_token' }),
  });
  expect(killed.status).toBe(200);

  // SAML sign-in for bob, a replay and an unsigned response.
  const posted = stack.idp?.buildResponse({ now: new Date(), nameId: 'bob' }) ?? '';
  remember(
    posted.replace(/\s+/g, ''),
    /<ds:SignatureValue>([^<]+)</.exec(Buffer.from(posted, 'base64').toString())?.[1],
  );
  const acs = (samlResponse: string) =>
    stack.call('POST', `/saml/${SSO}/acs`, { form: { SAMLResponse: samlResponse, RelayState: RETURN_BASE } });
  expect((await acs(posted)).status).toBe(302);
  expect((await acs(posted)).status).toBe(400);
  const unsigned = stack.idp?.buildResponse({ now: new Date(), nameId: 'bob', signAssertion: false }) ?? '';
  remember(unsigned.replace(/\s+/g, ''));
  expect((await acs(unsigned)).status).toBe(400);
  const bobVend = await stack.call('GET', `/vend/${SSO}`, { token: await token('bob') });
  expect(bobVend.status).toBe(200);
  remember(String(bobVend.json?.access_token));

  // Refused caller tokens and callbacks.
  const [h, p] = alice.split('.');
  const forged = `${h}.${p}.${Buffer.from('forged-signature-canary').toString('base64url')}`;
  remember(forged);
  expect((await stack.call('GET', `/vend/${OIDC}`, { token: forged })).status).toBe(401);
  const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
  expect((await stack.call('GET', `/vend/${OIDC}`, { token: none })).status).toBe(401);
  const start = await stack.call('POST', `/connect/${OIDC}`, {
    token: alice,
    json: { return_to: `${RETURN_BASE}x` },
  });
  const deniedState = new URL(String(start.json?.authorize_url)).searchParams.get('state');
  remember(deniedState);
  const denied = await stack.call(
    'GET',
    `/oauth/${OIDC}/callback?error=access_denied&state=${deniedState}&iss=${encodeURIComponent(stack.vendor.issuer)}`,
  );
  expect(denied.status).toBe(400);

  // The vendor is down while a code is redeemed: a 5xx, which the runtime logs.
  const down = await stack.call('POST', `/connect/${DOWN}`, {
    token: alice,
    json: { return_to: `${RETURN_BASE}x` },
  });
  const downUrl = new URL(String(down.json?.authorize_url));
  const downState = downUrl.searchParams.get('state');
  const fakeCode = 'code-canary-for-the-down-vendor-0123456789';
  remember(downState, fakeCode, downUrl.searchParams.get('code_challenge'));
  const outage = await stack.call(
    'GET',
    `/oauth/${DOWN}/callback?code=${fakeCode}&state=${downState}&iss=${encodeURIComponent(stack.vendor.issuer)}`,
  );
  expect(outage.status).toBeGreaterThanOrEqual(500);

  // Refresh (alice) and a refused refresh (carol: invalid_grant -> 409 needs_reauth).
  await sleep(Math.max(0, issuedAt + TTL_SECONDS * FRACTION * 1000 + 1000 - Date.now()));
  const refreshed = await stack.call('GET', `/vend/${OIDC}`, { token: alice });
  expect(refreshed.status).toBe(200);
  remember(String(refreshed.json?.access_token));
  const dead = await stack.call('GET', `/vend/${OIDC}`, { token: carol });
  expect(dead.status).toBe(409);
  expect(dead.json?.error).toBe('needs_reauth');
  expect(stack.spy.count('/token', 'refresh_token')).toBe(2);

  // Disconnect: revocation at the vendor.
  expect((await stack.call('DELETE', `/connections/${OIDC}`, { token: alice })).status).toBe(204);

  // Everything the vendor received and answered is secret material.
  for (const r of stack.spy.requests) {
    for (const field of ['code', 'code_verifier', 'refresh_token', 'assertion', 'token', 'client_secret'])
      remember(r.form.get(field));
    remember(r.headers.authorization, r.headers.authorization?.replace(/^Basic /, ''));
    if (r.response?.startsWith('{')) {
      const body = JSON.parse(r.response) as Record<string, unknown>;
      for (const field of ['access_token', 'refresh_token', 'id_token'])
        if (typeof body[field] === 'string') remember(body[field] as string);
    }
  }
  for (const r of stack.spy.requests.filter((x) => x.form.get('grant_type') === 'authorization_code'))
    expect(r.form.get('code_verifier')).toBeTruthy();
  const grants = new Set(stack.spy.requests.map((r) => r.form.get('grant_type') ?? r.path));
  expect(grants).toEqual(
    new Set([
      'authorization_code',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:saml2-bearer',
      '/token/revocation',
    ]),
  );

  capture.restore();
  // The capture saw the runtime's output (the outage was logged), so an empty capture cannot pass this test.
  expect(capture.lines.some((l) => l.includes('tokenvend'))).toBe(true);
  expect(secrets.size).toBeGreaterThan(25);
  expect(leaksIn(capture.lines, secrets)).toEqual([]);
});

/** Every 16-character piece (at multiples of 4) of the secrets; a leaked fragment of 19+ characters is found. */
function leaksIn(texts: readonly string[], secretValues: Iterable<string>): string[] {
  const WINDOW = 16;
  const pieces = new Set<string>();
  for (const secret of secretValues)
    for (let i = 0; i + WINDOW <= secret.length; i += 4) pieces.add(secret.slice(i, i + WINDOW));
  const found: string[] = [];
  for (const text of texts) {
    for (let j = 0; j + WINDOW <= text.length; j++) {
      if (pieces.has(text.slice(j, j + WINDOW))) {
        found.push(`a secret fragment at ${j} of: ${text.slice(0, 60)}`);
        break;
      }
    }
  }
  return found;
}

it('checklist 53: a vendor that echoes the request in error_description leaks it nowhere', async () => {
  const echo = captureOutput();
  const echoed = new Set<string>();
  const answers: string[] = [];
  /** The vendor's answer: an OAuth error whose description repeats everything it was sent. */
  const echoing = (error: string) => (request: { body: string; headers: Record<string, string> }) => {
    const form = new URLSearchParams(request.body);
    for (const field of ['code', 'code_verifier', 'refresh_token', 'client_secret']) {
      const value = form.get(field);
      if (value) echoed.add(value);
    }
    if (request.headers.authorization) echoed.add(request.headers.authorization.replace(/^Basic /, ''));
    return {
      status: 400,
      body: JSON.stringify({
        error,
        error_description: `you sent ${request.body} with ${request.headers.authorization ?? ''}`,
      }),
    };
  };
  try {
    // A connect whose code redemption is refused with the echo: the callback page must not show it.
    stack.spy.inject('authorization_code', echoing('invalid_grant'));
    const start = await stack.call('POST', `/connect/${OIDC}`, {
      token: await token('dave'),
      json: { return_to: `${RETURN_BASE}x` },
    });
    const callback = await stack.vendor.authorize(String(start.json?.authorize_url), 'dave');
    const page = await stack.call('GET', `${callback.pathname}${callback.search}`);
    expect(page.status).toBeGreaterThanOrEqual(400);
    answers.push(page.text);
    stack.spy.heal();

    // A connected user whose refresh is refused with the echo: not in the answer, the log or the stored item.
    const { answer } = await connect(stack, 'erin');
    expect(answer.status).toBeLessThan(400);
    await sleep(TTL_SECONDS * FRACTION * 1000 + 1000);
    stack.spy.inject('refresh_token', echoing('invalid_request'));
    const vend = await stack.call('GET', `/vend/${OIDC}`, { token: await token('erin') });
    answers.push(vend.text);
    const stored = await stack.server.local.app.flows.store.listBySubject(
      (await stack.server.local.app.callers.verify(`Bearer ${await token('erin')}`)).subject,
    );
    // The echoing refusal did run: the failure is stored as its class, with our own words.
    expect(stored.map((c) => [c.status, c.lastError?.code])).toEqual([['connected', 'rejected']]);
    answers.push(JSON.stringify(stored.map((c) => ({ ...c, tokens: undefined }))));
  } finally {
    stack.spy.heal();
    echo.restore();
  }
  // The echo carried the code, the verifier, the refresh token and the Basic credentials...
  expect(echoed.size).toBeGreaterThan(3);
  // ...and none of it reached a page, an answer, a log line or the stored connection.
  expect(leaksIn([...answers, ...echo.lines], echoed)).toEqual([]);
});
