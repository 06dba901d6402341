/**
 * How the verifier treats the issuer's JWKS endpoint, counted at a real loopback JWKS server: a flood of
 * unknown kids costs one fetch per penalty period (aws-jwt-verify's penalty box), a JWKS that is down at
 * cold start fails closed with 503 and is not hammered, and the verifier recovers once it is back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CallerAuthError,
  CallerAuthUnavailableError,
  createCallerVerifier,
} from '../../../functions/adapters/caller-auth/index.js';
import {
  claimsFor,
  deadJwksUri,
  type JwksServer,
  makeKey,
  rejectionOf,
  signToken,
  startJwksServer,
  type TestKey,
} from './support.js';

const issuer = 'https://idp.example.com';
const audience = 'tokenvend-api';

let key: TestKey;
const servers: JwksServer[] = [];

async function server(): Promise<JwksServer> {
  const s = await startJwksServer([key.jwk]);
  servers.push(s);
  return s;
}

function verifierFor(jwksUri: string, jwksPenaltySeconds?: number) {
  return createCallerVerifier(
    { callers: [{ issuer, audience, jwksUri }] },
    { allowInsecureLoopbackJwks: true, ...(jwksPenaltySeconds === undefined ? {} : { jwksPenaltySeconds }) },
  );
}

const unknownKidToken = (i: number) => signToken(key, claimsFor(issuer, audience), { kid: `unknown-${i}` });

beforeAll(async () => {
  key = await makeKey();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('unknown-kid flood (penalty box)', () => {
  it('200 sequential + 200 concurrent unknown kids cause one JWKS fetch; known kids keep working', async () => {
    const jwks = await server();
    const verifier = verifierFor(jwks.jwksUri); // library default: 10 s
    const good = `Bearer ${await signToken(key, claimsFor(issuer, audience))}`;
    const started = Date.now();

    for (let i = 0; i < 200; i++) {
      const error = await rejectionOf(async () => verifier.verify(`Bearer ${await unknownKidToken(i)}`));
      expect((error as CallerAuthError).reason).toBe('unknown_kid');
    }
    const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => unknownKidToken(1000 + i)));
    const results = await Promise.allSettled(tokens.map((t) => verifier.verify(`Bearer ${t}`)));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(CallerAuthError);
      expect((r as PromiseRejectedResult).reason.status).toBe(401);
    }
    expect((await verifier.verify(good)).claim).toBe('alice');

    expect(Date.now() - started).toBeLessThan(10_000);
    expect(jwks.fetches).toBe(1);
  });

  it('concurrent unknown kids at a cold cache share one fetch', async () => {
    const jwks = await server();
    const verifier = verifierFor(jwks.jwksUri);
    const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => unknownKidToken(i)));
    const results = await Promise.allSettled(tokens.map((t) => verifier.verify(`Bearer ${t}`)));
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof CallerAuthError)).toBe(true);
    expect(jwks.fetches).toBe(1);
  });

  it('fetches again only after the penalty period, which picks up a rotated key', async () => {
    const jwks = await server();
    const verifier = verifierFor(jwks.jwksUri, 1);
    const rotated = await makeKey();
    const rotatedToken = `Bearer ${await signToken(rotated, claimsFor(issuer, audience, { sub: 'bob' }))}`;

    await expect(verifier.verify(rotatedToken)).rejects.toMatchObject({ reason: 'unknown_kid' });
    jwks.keys = [key.jwk, rotated.jwk];
    // Still inside the penalty period: refused without asking the JWKS endpoint.
    await expect(verifier.verify(rotatedToken)).rejects.toMatchObject({ reason: 'unknown_kid' });
    expect(jwks.fetches).toBe(1);

    await sleep(1100);
    expect((await verifier.verify(rotatedToken)).claim).toBe('bob');
    expect(jwks.fetches).toBe(2);
  });

  it('a new kid after a successful lookup is fetched at once (ordinary key rotation)', async () => {
    const jwks = await server();
    const verifier = verifierFor(jwks.jwksUri);
    await verifier.verify(`Bearer ${await signToken(key, claimsFor(issuer, audience))}`);
    const next = await makeKey();
    jwks.keys = [key.jwk, next.jwk];
    const token = `Bearer ${await signToken(next, claimsFor(issuer, audience, { sub: 'carol' }))}`;
    expect((await verifier.verify(token)).claim).toBe('carol');
    expect(jwks.fetches).toBe(2);
  });
});

describe('JWKS unavailable (fail closed)', () => {
  const expectUnavailable = async (promise: Promise<unknown>) => {
    const error = await rejectionOf(() => promise);
    expect(error).toBeInstanceOf(CallerAuthUnavailableError);
    expect(error).toMatchObject({ status: 503, error: 'temporarily_unavailable', retryAfterSeconds: 10 });
  };

  it('nothing listening at cold start: 503 for a valid token, and hydrate reports it', async () => {
    const verifier = verifierFor(await deadJwksUri());
    const good = `Bearer ${await signToken(key, claimsFor(issuer, audience))}`;
    await expectUnavailable(verifier.verify(good));
    await expectUnavailable(verifier.verify(good));
    await expectUnavailable(verifier.hydrate());
  });

  it('HTTP 500 at cold start: every request 503, one fetch per penalty period, recovers when back', async () => {
    const jwks = await server();
    jwks.mode = 'error';
    const verifier = createCallerVerifier(
      { callers: [{ issuer, audience, jwksUri: jwks.jwksUri }] },
      { allowInsecureLoopbackJwks: true, jwksPenaltySeconds: 1 },
    );
    const good = `Bearer ${await signToken(key, claimsFor(issuer, audience))}`;
    for (let i = 0; i < 50; i++) {
      await expect(verifier.verify(good)).rejects.toBeInstanceOf(CallerAuthUnavailableError);
    }
    expect(jwks.fetches).toBe(1);

    jwks.mode = 'ok';
    await expect(verifier.verify(good)).rejects.toBeInstanceOf(CallerAuthUnavailableError);
    await sleep(1100);
    expect((await verifier.verify(good)).claim).toBe('alice');
    expect(jwks.fetches).toBe(2);
  });

  it('a body that is not a JWKS: 503, never accepted', async () => {
    const jwks = await server();
    jwks.mode = 'garbage';
    const verifier = verifierFor(jwks.jwksUri);
    await expectUnavailable(verifier.verify(`Bearer ${await signToken(key, claimsFor(issuer, audience))}`));
  });

  it('a JWKS endpoint that never answers: 503 within the fetch timeout', async () => {
    const jwks = await server();
    jwks.mode = 'hang';
    const verifier = verifierFor(jwks.jwksUri);
    const started = Date.now();
    await expectUnavailable(verifier.verify(`Bearer ${await signToken(key, claimsFor(issuer, audience))}`));
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a bad token is still a 401 while the JWKS is down, when the token fails before any key is needed', async () => {
    const verifier = verifierFor(await deadJwksUri());
    await expect(verifier.verify('Bearer x.y.z')).rejects.toMatchObject({ status: 401 });
    const other = await signToken(key, claimsFor('https://evil.example', audience));
    await expect(verifier.verify(`Bearer ${other}`)).rejects.toMatchObject({ reason: 'untrusted_issuer' });
  });
});
