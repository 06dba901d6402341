/**
 * `tokenvend/client` for services, against the local runtime's real handlers behind a SigV4-verifying IAM
 * gateway (test/client/support/iam-gateway.ts): signing with the AWS SDK's signer and default credential chain,
 * the cache and its single flight, expired tokens, Retry-After, typed errors, bad arguments.
 */
import {
  AccessDeniedError,
  createTokenVendClient,
  NotFoundError,
  ServerError,
  TokenVendError,
  UnavailableError,
} from '../../client/index.js';
import { createSigner } from '../../client/sigv4.js';
import { credentialsOf, type Harness, REGION, SERVICE, STRANGER, startHarness } from './support/harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 30_000);

afterAll(async () => {
  await h?.close();
});

function client(extra: Partial<Parameters<typeof createTokenVendClient>[0]> = {}) {
  return createTokenVendClient({
    baseUrl: h.gateway.url,
    region: REGION,
    credentials: credentialsOf(SERVICE),
    ...extra,
  });
}

const admittedCount = () => h.gateway.admitted.length;

describe('signing the IAM route', () => {
  test('a signed call reaches the handler as the service principal and answers a typed token', async () => {
    const before = admittedCount();
    const token = await client().getServiceToken('bearer', 'reporting');
    expect(token.integration).toBe('bearer');
    expect(token.accessToken).toMatch(/^at-/);
    expect(token.tokenType).toBe('Bearer');
    expect(token.authorization).toEqual({ header: 'Authorization', value: `Bearer ${token.accessToken}` });
    expect(token.expiresIn).toBeGreaterThan(250);
    expect(token.freshUntil).toBeGreaterThan(Date.now());
    expect(h.gateway.admitted.slice(before)).toEqual([
      { path: '/service/vend/bearer/reporting', arn: SERVICE.arn },
    ]);
  });

  test('without credentials the default credential chain of the AWS SDK signs (here: the environment)', async () => {
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = SERVICE.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = SERVICE.secretAccessKey;
    process.env.AWS_SESSION_TOKEN = SERVICE.sessionToken;
    process.env.AWS_REGION = REGION;
    delete process.env.AWS_PROFILE;
    try {
      const token = await createTokenVendClient({ baseUrl: h.gateway.url }).getServiceToken('bearer', 'open');
      expect(token.accessToken).toMatch(/^at-/);
      expect(h.gateway.admitted.at(-1)).toEqual({ path: '/service/vend/bearer/open', arn: SERVICE.arn });
    } finally {
      process.env = saved;
    }
  });

  test('a wrong secret key fails the signature check: AccessDeniedError (forbidden), no handler runs', async () => {
    const before = admittedCount();
    const vendorCalls = h.vendor.tokenRequests();
    const bad = client({ credentials: { ...credentialsOf(SERVICE), secretAccessKey: 'not-the-secret' } });
    const error = await bad.getServiceToken('bearer', 'open').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error).toMatchObject({ code: 'forbidden', status: 403 });
    expect((error as Error).message).toMatch(/execute-api:Invoke/);
    expect(h.gateway.refused.at(-1)).toBe('signature');
    expect(admittedCount()).toBe(before);
    expect(h.vendor.tokenRequests()).toBe(vendorCalls);
  });

  test('the gateway verifies: unsigned, or signed for another path, is refused', async () => {
    const unsigned = await fetch(`${h.gateway.url}/service/vend/bearer/open`);
    expect(unsigned.status).toBe(403);
    expect(h.gateway.refused.at(-1)).toBe('unsigned');
    const signer = createSigner({ region: REGION, credentials: credentialsOf(SERVICE) });
    const headers = await signer.sign('GET', new URL(`${h.gateway.url}/service/vend/bearer/open`));
    const moved = await fetch(`${h.gateway.url}/service/vend/bearer/reporting`, { headers });
    expect(moved.status).toBe(403);
    expect(h.gateway.refused.at(-1)).toBe('signature');
    const right = await fetch(`${h.gateway.url}/service/vend/bearer/open`, { headers });
    expect(right.status).toBe(200);
  });

  test('a signature for another region is refused', async () => {
    const error = await client({ region: 'us-east-1' })
      .getServiceToken('bearer', 'open')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'forbidden', status: 403 });
    expect(h.gateway.refused.at(-1)).toBe('scope');
  });

  test("a principal not on the connection's allowedPrincipals gets tokenvend's access_denied", async () => {
    const error = await client({ credentials: credentialsOf(STRANGER) })
      .getServiceToken('bearer', 'reporting')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error).toMatchObject({ code: 'access_denied', status: 403, integration: 'bearer' });
  });
});

describe('cache', () => {
  test('a fresh token is served from memory; concurrent callers share one request', async () => {
    const c = client();
    const before = admittedCount();
    const vendorBefore = h.vendor.tokenRequests('client_credentials');
    const tokens = await Promise.all(Array.from({ length: 8 }, () => c.getServiceToken('xtoken', 'open')));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(admittedCount() - before).toBe(1);
    await c.getServiceToken('xtoken', 'open');
    expect(admittedCount() - before).toBe(1);
    expect(h.vendor.tokenRequests('client_credentials') - vendorBefore).toBe(1);
    // Another connection or integration is another key.
    await c.getServiceToken('xtoken', 'reporting');
    expect(admittedCount() - before).toBe(2);
  });

  test('a failure is not cached: the next call asks again', async () => {
    const c = client();
    const before = admittedCount();
    await expect(c.getServiceToken('bearer', 'nosuch')).rejects.toBeInstanceOf(NotFoundError);
    await expect(c.getServiceToken('bearer', 'nosuch')).rejects.toBeInstanceOf(NotFoundError);
    expect(admittedCount() - before).toBe(2);
  });

  test('past the refresh margin the token is vended again (the API decides whether it refreshes)', async () => {
    let now = Date.now();
    const c = client({ now: () => now, refreshMarginSeconds: 60 });
    const first = await c.getServiceToken('basic', 'open');
    const before = admittedCount();
    // 300 s tokens: reused until 60 s before expiry.
    now += 239_000;
    expect(await c.getServiceToken('basic', 'open')).toBe(first);
    expect(admittedCount()).toBe(before);
    now += 2_000;
    const again = await c.getServiceToken('basic', 'open');
    expect(admittedCount()).toBe(before + 1);
    // tokenvend's own clock says the stored token is still good: it answers the same one, no vendor call.
    expect(again.accessToken).toBe(first.accessToken);
  });

  test('an expired token is replaced: the client asks again and tokenvend obtains a new one', async () => {
    h.vendor.ttl = 2;
    try {
      const c = client();
      const first = await c.getServiceToken('query', 'open');
      expect(first.expiresIn).toBeLessThanOrEqual(2);
      const vendorBefore = h.vendor.tokenRequests('client_credentials');
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      const second = await c.getServiceToken('query', 'open');
      expect(second.accessToken).not.toBe(first.accessToken);
      expect(h.vendor.tokenRequests('client_credentials')).toBe(vendorBefore + 1);
    } finally {
      h.vendor.ttl = 300;
    }
  });

  test('invalidate() forgets cached tokens', async () => {
    const c = client();
    await c.getServiceToken('bearer', 'open');
    const before = admittedCount();
    c.invalidate('bearer', 'open');
    await c.getServiceToken('bearer', 'open');
    c.invalidate('bearer');
    await c.getServiceToken('bearer', 'open');
    c.invalidate();
    await c.getServiceToken('bearer', 'open');
    expect(admittedCount() - before).toBe(3);
  });
});

describe('errors', () => {
  test("Retry-After from the API: the vendor rate limits, tokenvend answers 503 with Retry-After, the client's error carries it", async () => {
    const logError = console.error;
    console.error = () => undefined; // the local runtime logs the vendor failure
    h.vendor.failNext('client_credentials', {
      status: 429,
      body: { error: 'rate_limited' },
      headers: { 'retry-after': '7' },
    });
    const error = await client()
      .getServiceToken('basic', 'reporting')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({
      code: 'temporarily_unavailable',
      status: 503,
      retryAfter: 7,
      retryable: true,
    });
    console.error = logError;
  });

  test('unknown integration and unknown connection are NotFoundError with the API code', async () => {
    await expect(client().getServiceToken('nope', 'open')).rejects.toMatchObject({
      code: 'unknown_integration',
      status: 404,
    });
    await expect(client().getServiceToken('bearer', 'nope')).rejects.toMatchObject({
      code: 'unknown_connection',
      status: 404,
    });
  });

  test('the API unreachable is UnavailableError (network_error)', async () => {
    const c = createTokenVendClient({
      baseUrl: 'http://127.0.0.1:9',
      region: REGION,
      credentials: credentialsOf(SERVICE),
      timeoutMs: 2_000,
    });
    await expect(c.getServiceToken('bearer', 'open')).rejects.toMatchObject({
      name: 'UnavailableError',
      code: 'network_error',
      status: 0,
    });
  });

  test('an answer that is not the API JSON is a ServerError (invalid_response)', async () => {
    const c = client({
      fetch: async () => new Response('<html>proxy error</html>', { status: 200 }),
    });
    const error = await c.getServiceToken('bearer', 'open').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toBeInstanceOf(TokenVendError);
    expect(error).toMatchObject({ code: 'invalid_response' });
  });
});

describe('bad arguments', () => {
  test('ids, a missing connection and the base URL are checked before any call', async () => {
    const before = admittedCount() + h.gateway.refused.length;
    await expect(client().getServiceToken('Genesys EU', 'open')).rejects.toThrow(TypeError);
    await expect(client().getServiceToken('bearer', '../health')).rejects.toThrow(/lowercase letters/);
    await expect(client().getServiceToken('bearer')).rejects.toThrow(/name the service connection/);
    expect(admittedCount() + h.gateway.refused.length).toBe(before);
    expect(() => createTokenVendClient({ baseUrl: 'not a url' })).toThrow(/absolute URL/);
    expect(() => createTokenVendClient({ baseUrl: 'http://tokens.example.com', region: REGION })).toThrow(
      /https/,
    );
    expect(() =>
      createTokenVendClient({ baseUrl: 'https://tokens.example.com/?x=1', region: REGION }),
    ).toThrow(/no query/);
  });

  test('the region comes from an execute-api host, else AWS_REGION, else the error says what to do', () => {
    const saved = { ...process.env };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      expect(() =>
        createTokenVendClient({ baseUrl: 'https://a1b2c3.execute-api.eu-west-3.amazonaws.com' }),
      ).not.toThrow();
      expect(() => createTokenVendClient({ baseUrl: 'https://tokens.example.com' })).toThrow(
        /pass \{ region \}, or set AWS_REGION/,
      );
      process.env.AWS_REGION = 'eu-west-1';
      expect(() => createTokenVendClient({ baseUrl: 'https://tokens.example.com' })).not.toThrow();
    } finally {
      process.env = saved;
    }
  });
});
