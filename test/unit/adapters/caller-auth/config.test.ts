/** The trusted-callers configuration and the bearer header parsing: no network involved. */
import {
  bearerToken,
  CallerAuthError,
  createCallerVerifier,
  parseCallerAuthConfig,
} from '../../../../functions/adapters/caller-auth/index.js';
import { deploymentConfigSchema } from '../../../../functions/core/config/schema.js';
import { ConfigError } from '../../../../functions/core/errors.js';

const cognito = {
  issuer: 'https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AbCdEf123',
  audience: '3n4b5urk1ft4fl3mg5e62d9ado',
  jwksUri: 'https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AbCdEf123/.well-known/jwks.json',
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseCallerAuthConfig', () => {
  it('defaults the subject claim to sub and keeps several issuers', () => {
    const config = parseCallerAuthConfig({
      callers: [cognito, { ...cognito, issuer: 'https://acme.eu.auth0.com/', audience: ['a', 'b'] }],
    });
    expect(config.callers.map((c) => c.subjectClaim)).toEqual(['sub', 'sub']);
    expect(config.callers[1]?.audience).toEqual(['a', 'b']);
  });

  it.each([
    [{ callers: [] }, '$.callers'],
    [{ callers: [{ ...cognito, audience: null }] }, '$.callers[0].audience'],
    [{ callers: [{ ...cognito, issuer: null }] }, '$.callers[0].issuer'],
    [{ callers: [{ ...cognito, audience: [] }] }, '$.callers[0].audience'],
    [{ callers: [{ ...cognito, audience: '' }] }, '$.callers[0].audience'],
    [{ callers: [{ ...cognito, jwksUri: 'http://idp.example.com/jwks' }] }, 'must be an https:// URL'],
    [{ callers: [{ ...cognito, jwksUri: 'http://localhost:3000/jwks' }] }, 'must be an https:// URL'],
    [{ callers: [{ ...cognito, jwksUri: 'file:///etc/jwks.json' }] }, 'must be an https:// URL'],
    [{ callers: [{ ...cognito, allowedAlgorithms: ['HS256'] }] }, '$.callers[0].allowedAlgorithms[0]'],
    [{ callers: [{ ...cognito, allowedAlgorithms: ['none'] }] }, '$.callers[0].allowedAlgorithms[0]'],
    [{ callers: [{ ...cognito, subjectClaim: '' }] }, '$.callers[0].subjectClaim'],
    [{ callers: [{ ...cognito, graceSeconds: 3600 }] }, 'unknown key "graceSeconds"'],
    [{ callers: [cognito, { ...cognito, audience: 'x' }] }, 'duplicate issuer'],
  ])('rejects %j', (input, message) => {
    expect(configError(() => parseCallerAuthConfig(input)).message).toContain(message);
  });

  it('accepts http:// JWKS only on 127.0.0.1 / [::1], and createCallerVerifier only with the local flag', () => {
    for (const host of ['127.0.0.1:8080', '[::1]:8080']) {
      const input = { callers: [{ ...cognito, jwksUri: `http://${host}/local/jwks.json` }] };
      expect(parseCallerAuthConfig(input).callers).toHaveLength(1);
      expect(configError(() => createCallerVerifier(input)).message).toContain('must use https');
      expect(createCallerVerifier(input, { allowInsecureLoopbackJwks: true })).toBeDefined();
    }
  });
});

describe('the deployment configuration callers section', () => {
  it('is accepted as it is, and its allowedAlgorithms are checked against the supported set', () => {
    const deployment = deploymentConfigSchema.parse({
      integrations: {},
      callers: [{ ...cognito, allowedAlgorithms: ['RS256'] }],
    });
    expect(createCallerVerifier({ callers: deployment.callers })).toBeDefined();
    const weak = deploymentConfigSchema.parse({
      integrations: {},
      callers: [{ ...cognito, allowedAlgorithms: ['HS256'] }],
    });
    expect(configError(() => createCallerVerifier({ callers: weak.callers })).message).toContain(
      'allowedAlgorithms',
    );
  });
});

describe('bearerToken', () => {
  const jwtish = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';

  it('extracts the token, with any case of the scheme', () => {
    expect(bearerToken(`Bearer ${jwtish}`)).toBe(jwtish);
    expect(bearerToken(`BEARER ${jwtish}`)).toBe(jwtish);
    expect(bearerToken(`bearer  ${jwtish} `)).toBe(jwtish);
  });

  it.each([
    [undefined, 'missing'],
    ['', 'missing'],
    ['Bearer', 'malformed'],
    ['Bearer ', 'malformed'],
    [jwtish, 'malformed'],
    [`Basic ${jwtish}`, 'malformed'],
    [`Bearer ${jwtish}, Bearer ${jwtish}`, 'malformed'],
    [`Bearer ${jwtish}\u0000`, 'malformed'],
    [`Bearer ${'a'.repeat(16 * 1024)}`, 'malformed'],
  ])('refuses %j as %s', (header, reason) => {
    try {
      bearerToken(header);
      throw new Error('expected a CallerAuthError');
    } catch (e) {
      expect(e).toBeInstanceOf(CallerAuthError);
      expect((e as CallerAuthError).reason).toBe(reason);
    }
  });
});
