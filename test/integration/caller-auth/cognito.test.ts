/**
 * Cognito mode (`tokenUse` + `clientId` on a caller entry): tokens are checked by aws-jwt-verify's
 * CognitoJwtVerifier with Cognito's semantics: `token_use` must be the configured one, `client_id` (access
 * tokens) or `aud` (ID tokens) must name a configured app client. Generated keys; the user pool's https JWKS
 * URI is served by an in-process fetcher that counts its requests.
 */
import type { Fetcher } from 'aws-jwt-verify/https';
import type { JWTPayload } from 'jose';
import {
  CallerAuthError,
  type CallerAuthFailure,
  type CallerVerifier,
  createCallerVerifier,
  parseCallerAuthConfig,
} from '../../../functions/adapters/caller-auth/index.js';
import { deploymentConfigSchema } from '../../../functions/core/config/schema.js';
import { ConfigError } from '../../../functions/core/errors.js';
import { claimsFor, makeKey, nowSeconds, rejectionOf, signToken, type TestKey } from './support.js';

const REGION = 'eu-west-1';
const POOL = `${REGION}_TestPool1`;
const OTHER_POOL = `${REGION}_TestPool2`;
const ISSUER = `https://cognito-idp.${REGION}.amazonaws.com/${POOL}`;
const ID_ISSUER = `https://cognito-idp.${REGION}.amazonaws.com/${OTHER_POOL}`;
const GLOBAL_ISSUER = `https://issuer-cognito-idp.${REGION}.amazonaws.com/${POOL}`;
const AGENT_APP = '3n4b5urk1ft4fl3mg5e62d9ado';
const ADMIN_APP = '7h1s1s4n0th3rc113nt1d0000';
const GENERIC_ISSUER = 'https://idp.example.com/';

let key: TestKey;
let idKey: TestKey;
let genericKey: TestKey;
let verifier: CallerVerifier;
const fetched: string[] = [];

beforeAll(async () => {
  [key, idKey, genericKey] = await Promise.all([makeKey(), makeKey(), makeKey()]);
  const jwks: Record<string, unknown> = {
    [`${ISSUER}/.well-known/jwks.json`]: { keys: [key.jwk] },
    [`${GLOBAL_ISSUER}/.well-known/jwks.json`]: { keys: [key.jwk] },
    [`${ID_ISSUER}/.well-known/jwks.json`]: { keys: [idKey.jwk] },
    'https://idp.example.com/jwks.json': { keys: [genericKey.jwk] },
  };
  const jwksFetcher: Fetcher = {
    fetch: async (uri) => {
      fetched.push(uri);
      const body = jwks[uri];
      if (!body) throw new Error(`no JWKS at ${uri}`);
      return new TextEncoder().encode(JSON.stringify(body)).buffer as ArrayBuffer;
    },
  };
  verifier = createCallerVerifier(
    {
      callers: [
        // Access tokens of the agent desktop and the admin app.
        { issuer: ISSUER, tokenUse: 'access', clientId: [AGENT_APP, ADMIN_APP] },
        // ID tokens of another pool's agent app, its JWKS URI given explicitly.
        {
          issuer: ID_ISSUER,
          jwksUri: `${ID_ISSUER}/.well-known/jwks.json`,
          tokenUse: 'id',
          clientId: AGENT_APP,
          subjectClaim: 'cognito:username',
        },
        // A generic caller next to them.
        { issuer: GENERIC_ISSUER, audience: 'api', jwksUri: 'https://idp.example.com/jwks.json' },
      ],
    },
    { jwksFetcher },
  );
});

/** A Cognito access token: no `aud`, `client_id` and `token_use: access`. */
function accessClaims(extra: JWTPayload = {}): JWTPayload {
  const now = nowSeconds();
  return {
    iss: ISSUER,
    sub: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    client_id: AGENT_APP,
    token_use: 'access',
    scope: 'openid',
    username: 'agent7',
    auth_time: now,
    iat: now,
    exp: now + 300,
    jti: 'j-1',
    ...extra,
  };
}

/** A Cognito ID token: `aud` is the app client id, `token_use: id`. */
function idClaims(extra: JWTPayload = {}): JWTPayload {
  const now = nowSeconds();
  return {
    iss: ID_ISSUER,
    sub: '11111111-2222-3333-4444-555555555555',
    aud: AGENT_APP,
    token_use: 'id',
    'cognito:username': 'agent7',
    auth_time: now,
    iat: now,
    exp: now + 300,
    ...extra,
  };
}

async function expectRefused(token: string, reason: CallerAuthFailure): Promise<void> {
  const error = await rejectionOf(() => verifier.verify(`Bearer ${token}`));
  expect(error).toBeInstanceOf(CallerAuthError);
  expect({ reason: (error as CallerAuthError).reason, status: (error as CallerAuthError).status }).toEqual({
    reason,
    status: 401,
  });
  expect(error.message).not.toContain(token);
}

describe('Cognito access-token mode (tokenUse: access)', () => {
  it('accepts an access token of a configured app client; the subject is in the pool issuer namespace', async () => {
    for (const clientId of [AGENT_APP, ADMIN_APP]) {
      const identity = await verifier.verify(
        `Bearer ${await signToken(key, accessClaims({ client_id: clientId }))}`,
      );
      expect(identity).toMatchObject({
        issuer: ISSUER,
        namespace: ISSUER,
        claim: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
        subject: `user:${encodeURIComponent(ISSUER)}:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee`,
      });
    }
  });

  it("accepts the pool's global issuer format too, as the same user", async () => {
    const identity = await verifier.verify(
      `Bearer ${await signToken(key, accessClaims({ iss: GLOBAL_ISSUER }))}`,
    );
    expect(identity.subject).toBe(`user:${encodeURIComponent(ISSUER)}:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee`);
  });

  it('checklist 27: wrong client_id -> 401', async () => {
    await expectRefused(await signToken(key, accessClaims({ client_id: 'someone-else' })), 'wrong_client_id');
    await expectRefused(await signToken(key, accessClaims({ client_id: undefined })), 'wrong_client_id');
    // An `aud` naming the app does not stand in for client_id on an access token.
    await expectRefused(
      await signToken(key, accessClaims({ client_id: undefined, aud: AGENT_APP })),
      'wrong_client_id',
    );
    await expectRefused(
      await signToken(key, accessClaims({ client_id: [AGENT_APP] as unknown as string })),
      'wrong_client_id',
    );
  });

  it('checklist 27: wrong token_use -> 401 (an ID token of the same pool and app, or none)', async () => {
    await expectRefused(
      await signToken(key, { ...accessClaims(), token_use: 'id', aud: AGENT_APP }),
      'wrong_token_use',
    );
    await expectRefused(await signToken(key, accessClaims({ token_use: undefined })), 'wrong_token_use');
    await expectRefused(await signToken(key, accessClaims({ token_use: 'refresh' })), 'wrong_token_use');
  });

  it('checklist 27: wrong iss -> 401 (another pool, or the pool of the ID-token caller)', async () => {
    await expectRefused(
      await signToken(
        key,
        accessClaims({ iss: `https://cognito-idp.${REGION}.amazonaws.com/${REGION}_Evil` }),
      ),
      'untrusted_issuer',
    );
    await expectRefused(await signToken(key, accessClaims({ iss: ID_ISSUER })), 'unknown_kid');
  });

  it('expiry, signature and crit still apply', async () => {
    await expectRefused(await signToken(key, accessClaims({ exp: nowSeconds() - 1 })), 'expired');
    await expectRefused(await signToken(genericKey, accessClaims(), { kid: key.kid }), 'invalid_signature');
    await expectRefused(await signToken(key, accessClaims({ exp: undefined })), 'missing_exp');
  });
});

describe('Cognito ID-token mode (tokenUse: id)', () => {
  it('accepts an ID token whose aud is the app client; subject from cognito:username', async () => {
    const identity = await verifier.verify(`Bearer ${await signToken(idKey, idClaims())}`);
    expect(identity).toMatchObject({ claim: 'agent7', namespace: ID_ISSUER });
  });

  it('checklist 27: wrong aud (client id) or an access token -> 401', async () => {
    await expectRefused(await signToken(idKey, idClaims({ aud: ADMIN_APP })), 'wrong_client_id');
    await expectRefused(
      await signToken(idKey, idClaims({ aud: undefined, client_id: AGENT_APP })),
      'wrong_client_id',
    );
    await expectRefused(
      await signToken(idKey, { ...idClaims(), token_use: 'access', client_id: AGENT_APP }),
      'wrong_token_use',
    );
  });
});

describe('generic callers next to Cognito ones', () => {
  it('keep their audience check (a Cognito access token shape does not pass without aud)', async () => {
    const ok = await signToken(genericKey, claimsFor(GENERIC_ISSUER, 'api'));
    expect((await verifier.verify(`Bearer ${ok}`)).claim).toBe('alice');
    await expectRefused(
      await signToken(genericKey, { ...accessClaims(), iss: GENERIC_ISSUER }),
      'wrong_audience',
    );
  });
});

describe('checklist 27: no verifier option can be null or left out', () => {
  const cognito = { issuer: ISSUER, tokenUse: 'access', clientId: AGENT_APP };

  function problem(input: unknown): string {
    try {
      parseCallerAuthConfig(input);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('expected a ConfigError');
  }

  it.each<[string, object, string]>([
    ['clientId null', { ...cognito, clientId: null }, '$.callers[0].clientId'],
    [
      'clientId missing',
      { issuer: ISSUER, tokenUse: 'access' },
      '$.callers[0].clientId: required with tokenUse',
    ],
    ['clientId empty', { ...cognito, clientId: [] }, '$.callers[0].clientId'],
    ['tokenUse null', { ...cognito, tokenUse: null }, '$.callers[0].tokenUse'],
    ['tokenUse unknown', { ...cognito, tokenUse: 'refresh' }, '$.callers[0].tokenUse'],
    ['audience with tokenUse', { ...cognito, audience: 'x' }, '$.callers[0].audience: not with tokenUse'],
    ['tokenUse on a non-Cognito issuer', { ...cognito, issuer: GENERIC_ISSUER }, '$.callers[0].issuer'],
    [
      'a pool id of another region',
      { ...cognito, issuer: `https://cognito-idp.${REGION}.amazonaws.com/us-east-1_Pool` },
      '$.callers[0].issuer',
    ],
    [
      'another JWKS URI for a pool',
      { ...cognito, jwksUri: 'https://evil.example.com/jwks.json' },
      '$.callers[0].jwksUri',
    ],
    [
      'clientId on a generic caller',
      {
        issuer: GENERIC_ISSUER,
        audience: 'api',
        jwksUri: 'https://idp.example.com/jwks.json',
        clientId: 'x',
      },
      '$.callers[0].clientId: only with tokenUse',
    ],
    [
      'a generic caller without audience',
      { issuer: GENERIC_ISSUER, jwksUri: 'https://idp.example.com/jwks.json' },
      '$.callers[0].audience: required',
    ],
    ['a generic caller without jwksUri', { issuer: GENERIC_ISSUER, audience: 'api' }, '$.callers[0].jwksUri'],
  ])('%s is refused at start', (_what, caller, message) => {
    expect(problem({ callers: [caller] })).toContain(message);
  });

  it('the global issuer format of a configured pool cannot be configured again', () => {
    expect(
      problem({
        callers: [
          cognito,
          { issuer: GLOBAL_ISSUER, audience: 'x', jwksUri: `${GLOBAL_ISSUER}/.well-known/jwks.json` },
        ],
      }),
    ).toContain('duplicate issuer');
  });

  it('the deployment schema accepts the Cognito keys and applies the same rules', () => {
    const ok = deploymentConfigSchema.safeParse({ integrations: {}, callers: [cognito] });
    expect(ok.success).toBe(true);
    const bad = deploymentConfigSchema.safeParse({
      integrations: {},
      callers: [{ ...cognito, clientId: undefined }],
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['callers', 0, 'clientId']);
  });
});
