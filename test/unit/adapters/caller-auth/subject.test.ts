/**
 * Stored subjects (core/subject.ts): users are `user:<namespace>:<claim>` with both parts percent-encoded,
 * service connections `service:<name>`; the two key spaces are disjoint whatever a caller puts in its claim,
 * and the namespaces of the SAML ACS and the callers agree (deployment schema).
 */
import fc from 'fast-check';
import { deploymentConfigSchema } from '../../../../functions/core/config/schema.js';
import { InvalidRequestError } from '../../../../functions/core/errors.js';
import {
  callerNamespace,
  LOCAL_NAMESPACE,
  maxStoredSubjectLength,
  maxSubjectLength,
  samlSubjectNamespace,
  serviceSubject,
  userSubject,
} from '../../../../functions/core/subject.js';

/** Splits a stored user subject back into its parts; undefined if it is not one. */
function parseUser(subject: string): { namespace: string; claim: string } | undefined {
  const parts = subject.split(':');
  if (parts.length !== 3 || parts[0] !== 'user') return undefined;
  return { namespace: decodeURIComponent(parts[1] as string), claim: decodeURIComponent(parts[2] as string) };
}

/** Strings the subject rules accept (no control characters, no surrounding spaces, well-formed). */
const usable = (max: number) =>
  fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(max, 40) })
    .filter((s) => s.trim() === s && !/\p{Cc}/u.test(s) && s.isWellFormed());

describe('user subjects', () => {
  it('are user:<namespace>:<claim>, each part percent-encoded', () => {
    expect(userSubject('local', 'alice')).toBe('user:local:alice');
    expect(userSubject('https://idp.example.com/', 'alice@corp.com')).toBe(
      'user:https%3A%2F%2Fidp.example.com%2F:alice%40corp.com',
    );
    expect(userSubject('local', 'service:demo')).toBe('user:local:service%3Ademo');
  });

  it('checklist 51: no claim or namespace value yields a service subject, another kind or another user', () => {
    fc.assert(
      fc.property(
        usable(256),
        usable(256),
        fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
        (ns, claim, name) => {
          const subject = userSubject(ns, claim);
          expect(subject.startsWith('user:')).toBe(true);
          expect(subject).not.toBe(serviceSubject(name));
          // Injective: the parts come back exactly, so two (namespace, claim) pairs never share a subject.
          expect(parseUser(subject)).toEqual({ namespace: ns, claim });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('checklist 51: the classic tricks stay in the user key space of their own namespace', () => {
    const tricks = [
      'service:demo',
      'service%3Ademo',
      'client:demo',
      'user:local:alice',
      'local:alice',
      'user:local:service:demo',
      '../service:demo',
    ];
    for (const claim of tricks) {
      const subject = userSubject('local', claim);
      expect(parseUser(subject)).toEqual({ namespace: 'local', claim });
      expect(subject).not.toBe(serviceSubject('demo'));
      expect(subject).not.toBe(userSubject('local', 'alice'));
    }
    // A separator in the namespace cannot move a part of it into the claim.
    expect(userSubject('a:b', 'c')).not.toBe(userSubject('a', 'b:c'));
  });

  it('checklist 52: the same claim in two namespaces is two subjects', () => {
    expect(userSubject('https://idp-a.example.com/', 'alice')).not.toBe(
      userSubject('https://idp-b.example.com/', 'alice'),
    );
  });

  it(`claims are 1..${maxSubjectLength} usable characters; the stored subject at most ${maxStoredSubjectLength}`, () => {
    expect(userSubject('local', 'x'.repeat(maxSubjectLength))).toHaveLength(11 + maxSubjectLength);
    for (const bad of [
      '',
      ' alice',
      'alice ',
      'a\u0000b',
      'a\nb',
      '\ud800',
      'x'.repeat(maxSubjectLength + 1),
    ]) {
      expect(() => userSubject('local', bad)).toThrow(InvalidRequestError);
    }
    expect(() => userSubject('', 'alice')).toThrow(InvalidRequestError);
    // 256 characters of CJK encode to 9 characters each: too long for a storage key, refused up front.
    expect(() => userSubject('local', '漢'.repeat(maxSubjectLength))).toThrow('too long');
    expect(userSubject('local', '漢'.repeat(100)).length).toBeLessThanOrEqual(maxStoredSubjectLength);
  });

  it('service subjects are service:<name>', () => {
    expect(serviceSubject('demo')).toBe('service:demo');
  });
});

describe('namespaces', () => {
  it('a caller entry defaults to its issuer', () => {
    expect(callerNamespace({ issuer: 'https://idp.example.com/' })).toBe('https://idp.example.com/');
    expect(callerNamespace({ issuer: 'https://idp.example.com/', namespace: 'corp' })).toBe('corp');
  });

  it("SAML: explicit subjectNamespace, else the callers' single namespace, else local", () => {
    const a = { issuer: 'https://a.example.com/' };
    const b = { issuer: 'https://b.example.com/' };
    expect(samlSubjectNamespace({ subjectNamespace: 'corp' }, [a, b])).toBe('corp');
    expect(samlSubjectNamespace({}, [a])).toBe(a.issuer);
    expect(
      samlSubjectNamespace({}, [
        { ...a, namespace: 'corp' },
        { ...b, namespace: 'corp' },
      ]),
    ).toBe('corp');
    expect(samlSubjectNamespace({}, [])).toBe(LOCAL_NAMESPACE);
    expect(() => samlSubjectNamespace({}, [a, b])).toThrow('subjectNamespace');
  });
});

describe('the deployment schema: callers and SAML subject namespaces', () => {
  const saml = { idpCert: 'MIIB', idpIssuer: 'https://idp.example.com', spEntityId: 'urn:sp' };
  const caller = (issuer: string, extra: object = {}) => ({
    issuer,
    audience: 'api',
    jwksUri: `${issuer}/jwks.json`,
    ...extra,
  });
  const config = (callers: object[], samlExtra: object = {}) => ({
    integrations: { sso: { provider: 'genesys-cloud', saml: { ...saml, ...samlExtra } } },
    callers,
  });
  const problems = (input: unknown) => {
    const parsed = deploymentConfigSchema.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('without subjectNamespace, the callers must share one namespace', () => {
    expect(problems(config([caller('https://a.example.com')]))).toEqual([]);
    expect(problems(config([]))).toEqual([]);
    expect(problems(config([caller('https://a.example.com'), caller('https://b.example.com')]))).toEqual([
      expect.stringMatching(
        /^integrations\.sso\.saml\.subjectNamespace: required when the callers have more/,
      ),
    ]);
    const shared = [
      caller('https://a.example.com', { namespace: 'corp' }),
      caller('https://b.example.com', { namespace: 'corp' }),
    ];
    expect(problems(config(shared))).toEqual([]);
  });

  it("an explicit subjectNamespace must be a caller's (or local)", () => {
    const two = [caller('https://a.example.com'), caller('https://b.example.com', { namespace: 'corp' })];
    expect(problems(config(two, { subjectNamespace: 'corp' }))).toEqual([]);
    expect(problems(config(two, { subjectNamespace: 'https://a.example.com' }))).toEqual([]);
    expect(problems(config(two, { subjectNamespace: LOCAL_NAMESPACE }))).toEqual([]);
    expect(problems(config(two, { subjectNamespace: 'crop' }))).toEqual([
      "integrations.sso.saml.subjectNamespace: names no caller's namespace",
    ]);
  });

  it('namespaces are usable strings; an issuer too long to be one needs an explicit namespace', () => {
    expect(problems(config([caller('https://a.example.com', { namespace: ' corp' })]))[0]).toMatch(
      /^callers\.0\.namespace: /,
    );
    const long = `https://a.example.com/${'x'.repeat(300)}`;
    expect(problems({ integrations: {}, callers: [caller(long)] })[0]).toMatch(
      /^callers\.0\.namespace: required/,
    );
    expect(problems({ integrations: {}, callers: [caller(long, { namespace: 'long' })] })).toEqual([]);
  });
});
