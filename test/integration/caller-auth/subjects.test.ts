/**
 * What a verified caller JWT becomes: the stored subject `user:<namespace>:<claim>`, where the namespace is the
 * caller entry's (default its issuer), so equal `sub` values from two trusted issuers are two users unless the
 * configuration maps both issuers to one namespace; and tokens carrying a `crit` header are refused (we
 * understand no JWS extension). Real signed tokens, real JWKS endpoints on loopback.
 */
import { KeyObject, sign } from 'node:crypto';
import type { JWTPayload } from 'jose';
import {
  CallerAuthError,
  type CallerVerifier,
  createCallerVerifier,
} from '../../../functions/adapters/caller-auth/index.js';
import { userSubject } from '../../../functions/core/subject.js';
import {
  claimsFor,
  type JwksServer,
  makeKey,
  rejectionOf,
  signToken,
  startJwksServer,
  type TestKey,
} from './support.js';

const audience = 'tokenvend-api';
const issuerA = 'https://idp-a.example.com/';
const issuerB = 'https://idp-b.example.com/';
const issuerC = 'https://login.corp-c.example.com/v2.0';
const issuerD = 'https://sso.corp-d.example.com';

let keys: Record<'a' | 'b' | 'c' | 'd', TestKey>;
let servers: JwksServer[];
let verifier: CallerVerifier;

beforeAll(async () => {
  const [a, b, c, d] = await Promise.all([makeKey(), makeKey(), makeKey('ES256'), makeKey()]);
  keys = { a: a as TestKey, b: b as TestKey, c: c as TestKey, d: d as TestKey };
  servers = await Promise.all([a, b, c, d].map((k) => startJwksServer([(k as TestKey).jwk])));
  const [sa, sb, sc, sd] = servers as [JwksServer, JwksServer, JwksServer, JwksServer];
  verifier = createCallerVerifier(
    {
      callers: [
        { issuer: issuerA, audience, jwksUri: sa.jwksUri },
        { issuer: issuerB, audience, jwksUri: sb.jwksUri },
        // Two IdPs of one company, mapped explicitly to one namespace: their users are the same people.
        { issuer: issuerC, audience, jwksUri: sc.jwksUri, namespace: 'corp' },
        { issuer: issuerD, audience, jwksUri: sd.jwksUri, namespace: 'corp', subjectClaim: 'employee_id' },
      ],
    },
    { allowInsecureLoopbackJwks: true },
  );
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const bearer = async (key: TestKey, claims: JWTPayload) => `Bearer ${await signToken(key, claims)}`;

describe('stored subjects: (namespace, claim)', () => {
  it('checklist 52: the same sub from two trusted issuers is two subjects', async () => {
    const fromA = await verifier.verify(await bearer(keys.a, claimsFor(issuerA, audience, { sub: 'alice' })));
    const fromB = await verifier.verify(await bearer(keys.b, claimsFor(issuerB, audience, { sub: 'alice' })));
    expect(fromA).toMatchObject({
      claim: 'alice',
      namespace: issuerA,
      subject: userSubject(issuerA, 'alice'),
    });
    expect(fromB).toMatchObject({
      claim: 'alice',
      namespace: issuerB,
      subject: userSubject(issuerB, 'alice'),
    });
    expect(fromA.subject).not.toBe(fromB.subject);
    expect(fromA.subject).toBe('user:https%3A%2F%2Fidp-a.example.com%2F:alice');
  });

  it('two issuers mapped to one namespace share their subjects (each with its own subject claim)', async () => {
    const fromC = await verifier.verify(
      await bearer(keys.c, claimsFor(issuerC, audience, { sub: 'E-1234' })),
    );
    const fromD = await verifier.verify(
      await bearer(keys.d, claimsFor(issuerD, audience, { sub: 'pairwise-9', employee_id: 'E-1234' })),
    );
    expect(fromC.subject).toBe('user:corp:E-1234');
    expect(fromD.subject).toBe(fromC.subject);
    expect(fromD).toMatchObject({ namespace: 'corp', issuer: issuerD, claim: 'E-1234' });
  });

  it('checklist 51: a sub naming a service connection or another user stays in its own user key space', async () => {
    for (const sub of [
      'service:demo',
      'client:demo',
      `user:${encodeURIComponent(issuerB)}:alice`,
      'user:corp:E-1234',
    ]) {
      const identity = await verifier.verify(await bearer(keys.a, claimsFor(issuerA, audience, { sub })));
      expect(identity.subject).toBe(userSubject(issuerA, sub));
      expect(identity.subject.startsWith(`user:${encodeURIComponent(issuerA)}:`)).toBe(true);
      expect(identity.subject).not.toBe('service:demo');
      expect(identity.subject).not.toBe('user:corp:E-1234');
    }
  });

  it('a claim too long once encoded for the storage key is a 401, not a storage error', async () => {
    const error = await rejectionOf(async () =>
      verifier.verify(await bearer(keys.a, claimsFor(issuerA, audience, { sub: '漢'.repeat(200) }))),
    );
    expect(error).toBeInstanceOf(CallerAuthError);
    expect((error as CallerAuthError).reason).toBe('invalid_subject');
    expect((error as CallerAuthError).status).toBe(401);
  });
});

/** A JWS with exactly this protected header, signed by `key` (jose refuses to sign unknown `crit` values). */
function signRaw(key: TestKey, header: Record<string, unknown>, claims: JWTPayload): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64(header)}.${b64(claims)}`;
  const privateKey = KeyObject.from(key.privateKey as unknown as Parameters<typeof KeyObject.from>[0]);
  const signature =
    key.alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', Buffer.from(input), privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

describe('crit header (RFC 7515 §4.1.11): we understand no extension', () => {
  const base = (key: TestKey) => ({ alg: key.alg, kid: key.kid, typ: 'JWT' });

  it('a correctly signed token without crit is accepted (the cases below differ only in crit)', async () => {
    const token = signRaw(keys.a, base(keys.a), claimsFor(issuerA, audience));
    expect((await verifier.verify(`Bearer ${token}`)).claim).toBe('alice');
  });

  it.each<[string, Record<string, unknown>]>([
    ['naming an unknown extension', { crit: ['x-tokenvend-ext'], 'x-tokenvend-ext': true }],
    ['naming a registered claim (exp)', { crit: ['exp'], exp: 1 }],
    ['b64: false (RFC 7797 unencoded payload)', { crit: ['b64'], b64: false }],
    ['naming several', { crit: ['a', 'b'], a: 1, b: 2 }],
    ['naming a parameter that is absent', { crit: ['missing'] }],
    ['empty (forbidden by the RFC)', { crit: [] }],
    ['not an array', { crit: 'x' }],
    ['null', { crit: null }],
  ])('checklist 55: a signed token with crit %s -> 401, never 500', async (_what, extra) => {
    const token = signRaw(keys.a, { ...base(keys.a), ...extra }, claimsFor(issuerA, audience));
    const error = await rejectionOf(() => verifier.verify(`Bearer ${token}`));
    expect(error).toBeInstanceOf(CallerAuthError);
    expect({ reason: (error as CallerAuthError).reason, status: (error as CallerAuthError).status }).toEqual({
      reason: 'unsupported_critical_header',
      status: 401,
    });
    expect(error.message).not.toContain(token);
  });

  it('checklist 55: refused before any key lookup (an unknown issuer key set is not fetched for it)', async () => {
    const fetches = servers[1]?.fetches;
    const token = signRaw(
      keys.b,
      { ...base(keys.b), kid: 'never-seen', crit: ['x'], x: 1 },
      claimsFor(issuerB, audience),
    );
    const error = await rejectionOf(() => verifier.verify(`Bearer ${token}`));
    expect((error as CallerAuthError).reason).toBe('unsupported_critical_header');
    expect(servers[1]?.fetches).toBe(fetches);
  });
});
