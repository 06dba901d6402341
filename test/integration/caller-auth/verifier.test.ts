/**
 * createCallerVerifier against real JWKS endpoints on loopback, with real signed tokens: every bad token
 * is a typed 401 (never a 500, never accepted), good ones yield the subject from the configured claim.
 */

import type { Fetcher } from 'aws-jwt-verify/https';
import fc from 'fast-check';
import {
  CallerAuthError,
  type CallerAuthFailure,
  type CallerVerifier,
  createCallerVerifier,
} from '../../../functions/adapters/caller-auth/index.js';
import {
  claimsFor,
  hs256WithPublicKey,
  type JwksServer,
  makeKey,
  nowSeconds,
  rejectionOf,
  signToken,
  startJwksServer,
  type TestKey,
  unsignedToken,
} from './support.js';

const issuerA = 'https://idp-a.example.com/';
const issuerB = 'https://login.idp-b.example.com/tenant/v2.0';
const audienceA = 'tokenvend-api';
const audienceB = 'api://tokenvend';

let keyA: TestKey; // published without `alg`: the library must still refuse HS256/none
let keyB: TestKey; // published with `alg`
let keyBec: TestKey;
let outsider: TestKey; // never published anywhere
let serverA: JwksServer;
let serverB: JwksServer;
let verifier: CallerVerifier;

beforeAll(async () => {
  [keyA, keyB, keyBec, outsider] = await Promise.all([
    makeKey('RS256', { jwkAlg: false }),
    makeKey('RS256'),
    makeKey('ES256'),
    makeKey('RS256'),
  ]);
  serverA = await startJwksServer([keyA.jwk]);
  serverB = await startJwksServer([keyB.jwk, keyBec.jwk]);
  verifier = createCallerVerifier(
    {
      callers: [
        { issuer: issuerA, audience: audienceA, jwksUri: serverA.jwksUri },
        {
          issuer: issuerB,
          audience: ['other-api', audienceB],
          jwksUri: serverB.jwksUri,
          subjectClaim: 'oid',
          allowedAlgorithms: ['ES256', 'RS256'],
        },
      ],
    },
    { allowInsecureLoopbackJwks: true },
  );
});

afterAll(async () => {
  await Promise.all([serverA?.close(), serverB?.close()]);
});

async function expectRefused(
  header: string | undefined,
  reason: CallerAuthFailure,
): Promise<CallerAuthError> {
  const error = await rejectionOf(() => verifier.verify(header));
  expect(error).toBeInstanceOf(CallerAuthError);
  const authError = error as CallerAuthError;
  expect({ reason: authError.reason, status: authError.status, error: authError.error }).toEqual({
    reason,
    status: 401,
    error: 'invalid_token',
  });
  return authError;
}

describe('accepted tokens', () => {
  it('yields the sub of a valid token from the first issuer', async () => {
    const token = await signToken(keyA, claimsFor(issuerA, audienceA, { sub: 'alice@example.com' }));
    const identity = await verifier.verify(`Bearer ${token}`);
    expect(identity.claim).toBe('alice@example.com');
    expect(identity.subject).toBe('user:https%3A%2F%2Fidp-a.example.com%2F:alice%40example.com');
    expect(identity.issuer).toBe(issuerA);
    expect(identity.claims.aud).toBe(audienceA);
  });

  it('selects the second issuer by iss and reads its configured subject claim (oid, not sub)', async () => {
    const token = await signToken(
      keyB,
      claimsFor(issuerB, audienceB, { sub: 'pairwise-xyz', oid: 'oid-42' }),
    );
    const identity = await verifier.verify(`Bearer ${token}`);
    expect(identity).toMatchObject({ claim: 'oid-42', issuer: issuerB });
  });

  it('accepts an ES256 token of the second issuer, one of its audiences and a lowercase scheme', async () => {
    const token = await signToken(keyBec, claimsFor(issuerB, 'other-api', { oid: 'oid-7' }));
    expect((await verifier.verify(`bearer ${token}`)).claim).toBe('oid-7');
  });

  it('accepts a subject of exactly 256 characters', async () => {
    const sub = 'x'.repeat(256);
    const token = await signToken(keyA, claimsFor(issuerA, audienceA, { sub }));
    expect((await verifier.verify(`Bearer ${token}`)).claim).toBe(sub);
  });
});

describe('refused tokens (401 invalid_token)', () => {
  it('missing header', async () => {
    const error = await expectRefused(undefined, 'missing');
    expect(error.wwwAuthenticate).toBe('Bearer realm="tokenvend"');
    await expectRefused('', 'missing');
    await expectRefused('   ', 'missing');
  });

  it('malformed headers and tokens', async () => {
    const good = await signToken(keyA, claimsFor(issuerA, audienceA));
    await expectRefused(`Basic ${Buffer.from('a:b').toString('base64')}`, 'malformed');
    await expectRefused(good, 'malformed'); // no scheme
    await expectRefused('Bearer', 'malformed');
    await expectRefused('Bearer not-a-jwt', 'malformed');
    await expectRefused('Bearer a.b.c', 'malformed');
    await expectRefused(`Bearer ${good} extra`, 'malformed');
    await expectRefused(`Bearer ${'a'.repeat(20_000)}.b.c`, 'malformed');
    const [h, , s] = good.split('.');
    await expectRefused(`Bearer ${h}.${Buffer.from('[1,2]').toString('base64url')}.${s}`, 'malformed');
  });

  it('expired one second ago', async () => {
    const token = await signToken(keyA, claimsFor(issuerA, audienceA, { exp: nowSeconds() - 1 }));
    await expectRefused(`Bearer ${token}`, 'expired');
  });

  it('not valid until one second from now', async () => {
    const token = await signToken(keyA, claimsFor(issuerA, audienceA, { nbf: nowSeconds() + 1 }));
    await expectRefused(`Bearer ${token}`, 'not_yet_valid');
  });

  it('without exp (would never expire)', async () => {
    const { exp: _, ...claims } = claimsFor(issuerA, audienceA);
    await expectRefused(`Bearer ${await signToken(keyA, claims)}`, 'missing_exp');
  });

  it('unsigned (alg none) with a known kid, for both issuers, with and without a dummy signature', async () => {
    const none = (claims: Parameters<typeof unsignedToken>[0], kid: string, sig?: string) =>
      `Bearer ${unsignedToken(claims, kid, sig)}`;
    await expectRefused(none(claimsFor(issuerA, audienceA), keyA.kid), 'malformed');
    await expectRefused(none(claimsFor(issuerA, audienceA), keyA.kid, 'AAAA'), 'unsupported_algorithm');
    await expectRefused(none(claimsFor(issuerB, audienceB), keyB.kid, 'AAAA'), 'unsupported_algorithm');
  });

  it('HS256 signed with the RSA public key (key confusion), JWK with and without alg', async () => {
    const forgedA = await hs256WithPublicKey(keyA, claimsFor(issuerA, audienceA));
    await expectRefused(`Bearer ${forgedA}`, 'unsupported_algorithm');
    const forgedB = await hs256WithPublicKey(keyB, claimsFor(issuerB, audienceB, { oid: 'x' }));
    await expectRefused(`Bearer ${forgedB}`, 'unsupported_algorithm');
  });

  it('signed by a key that is not published, reusing a published kid', async () => {
    const token = await signToken(outsider, claimsFor(issuerA, audienceA), { kid: keyA.kid });
    await expectRefused(`Bearer ${token}`, 'invalid_signature');
  });

  it('tampered payload keeps the original signature', async () => {
    const [h, , s] = (await signToken(keyA, claimsFor(issuerA, audienceA))).split('.');
    const forged = Buffer.from(JSON.stringify(claimsFor(issuerA, audienceA, { sub: 'mallory' }))).toString(
      'base64url',
    );
    await expectRefused(`Bearer ${h}.${forged}.${s}`, 'invalid_signature');
  });

  it('wrong issuer: untrusted iss, missing iss, non-string iss', async () => {
    await expectRefused(
      `Bearer ${await signToken(keyA, claimsFor('https://evil.example/', audienceA))}`,
      'untrusted_issuer',
    );
    const { iss: _, ...noIss } = claimsFor(issuerA, audienceA);
    await expectRefused(`Bearer ${await signToken(keyA, noIss)}`, 'untrusted_issuer');
    await expectRefused(
      `Bearer ${await signToken(keyA, { ...noIss, iss: 42 as unknown as string })}`,
      'malformed',
    );
  });

  it("wrong issuer: a token claiming issuer B but signed with A's key", async () => {
    const token = await signToken(keyA, claimsFor(issuerB, audienceB, { oid: 'x' }));
    await expectRefused(`Bearer ${token}`, 'unknown_kid');
  });

  it("wrong audience, including the other issuer's audience", async () => {
    await expectRefused(
      `Bearer ${await signToken(keyA, claimsFor(issuerA, 'someone-else'))}`,
      'wrong_audience',
    );
    await expectRefused(`Bearer ${await signToken(keyA, claimsFor(issuerA, audienceB))}`, 'wrong_audience');
    const { aud: _, ...noAud } = claimsFor(issuerA, audienceA);
    await expectRefused(`Bearer ${await signToken(keyA, noAud)}`, 'wrong_audience');
  });

  it('missing kid', async () => {
    const token = await signToken(keyA, claimsFor(issuerA, audienceA), { kid: null });
    await expectRefused(`Bearer ${token}`, 'missing_kid');
  });

  it('an algorithm outside allowedAlgorithms', async () => {
    const strict = createCallerVerifier(
      {
        callers: [
          { issuer: issuerB, audience: audienceB, jwksUri: serverB.jwksUri, allowedAlgorithms: ['ES256'] },
        ],
      },
      { allowInsecureLoopbackJwks: true },
    );
    const rsa = await signToken(keyB, claimsFor(issuerB, audienceB));
    const error = await rejectionOf(() => strict.verify(`Bearer ${rsa}`));
    expect((error as CallerAuthError).reason).toBe('unsupported_algorithm');
    const ec = await signToken(keyBec, claimsFor(issuerB, audienceB));
    expect((await strict.verify(`Bearer ${ec}`)).claim).toBe('alice');
  });

  it('unusable subjects: absent, not a string, empty, too long, control characters, padded', async () => {
    const bad: unknown[] = [
      undefined,
      42,
      ['a'],
      '',
      'x'.repeat(257),
      'ali\nce',
      'bob\u0000',
      ' carol',
      'dave\u007f',
    ];
    for (const oid of bad) {
      const token = await signToken(keyB, claimsFor(issuerB, audienceB, oid === undefined ? {} : { oid }));
      await expectRefused(`Bearer ${token}`, 'invalid_subject');
    }
  });

  it('never echoes the token or its subject in the message or WWW-Authenticate', async () => {
    const token = await signToken(keyA, claimsFor(issuerA, audienceA, { sub: 'secret-subject', exp: 1 }));
    const error = await expectRefused(`Bearer ${token}`, 'expired');
    for (const text of [error.message, error.wwwAuthenticate, JSON.stringify(error)]) {
      expect(text).not.toContain(token.split('.')[1]);
      expect(text).not.toContain('secret-subject');
    }
    expect(error.wwwAuthenticate).toMatch(
      /^Bearer realm="tokenvend", error="invalid_token", error_description="[^"]+"$/,
    );
  });

  /** Both tokens consist of base64url segments that decode to the same bytes. */
  function sameDecodedSegments(a: string, b: string): boolean {
    const as = a.split('.');
    const bs = b.split('.');
    const alphabet = /^[A-Za-z0-9_-]*$/;
    return (
      as.length === bs.length &&
      as.every(
        (seg, i) =>
          alphabet.test(seg) &&
          Buffer.from(seg, 'base64url').equals(Buffer.from(bs[i] as string, 'base64url')),
      )
    );
  }

  it('random headers and mutated valid tokens are always a typed 401', async () => {
    const good = await signToken(keyA, claimsFor(issuerA, audienceA));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }).map((s) => `Bearer ${s}`),
          fc.string({ maxLength: 300 }),
          fc
            .record({ at: fc.nat({ max: good.length - 1 }), ch: fc.constantFrom(...'AZaz09-_.=+/ ') })
            .map(({ at, ch }) => `${good.slice(0, at)}${ch}${good.slice(at + 1)}`)
            // The last character of a base64url segment carries unused bits: changing only those leaves the
            // decoded bytes (and so the signature) identical, which is the same token, not a forgery.
            .filter((mutated) => !sameDecodedSegments(mutated, good))
            .map((mutated) => `Bearer ${mutated}`),
        ),
        async (header) => {
          const error = await rejectionOf(() => verifier.verify(header));
          expect(error).toBeInstanceOf(CallerAuthError);
          expect((error as CallerAuthError).status).toBe(401);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('custom JWKS transport keeps https URIs in production shape', () => {
  it('fetches https JWKS through the given fetcher, and a valid token passes', async () => {
    const key = await makeKey();
    const calls: string[] = [];
    const fetcher: Fetcher = {
      fetch: async (uri) => {
        calls.push(uri);
        return new TextEncoder().encode(JSON.stringify({ keys: [key.jwk] })).buffer as ArrayBuffer;
      },
    };
    const jwksUri = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example/.well-known/jwks.json';
    const issuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example';
    const v = createCallerVerifier(
      { callers: [{ issuer, audience: 'client-1', jwksUri, subjectClaim: 'username' }] },
      { jwksFetcher: fetcher },
    );
    const token = await signToken(key, claimsFor(issuer, 'client-1', { username: 'agent-7' }));
    expect((await v.verify(`Bearer ${token}`)).claim).toBe('agent-7');
    expect((await v.verify(`Bearer ${token}`)).claim).toBe('agent-7');
    expect(calls).toEqual([jwksUri]);
  });
});
