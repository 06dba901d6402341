/**
 * private_key_jwt client authentication (RFC 7523 §2.2, RFC 7521 §4.2) and the JWT-bearer assertion sources
 * (RFC 7523 §2.1), with real keys: every JWT is verified against the generated public key with jose.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  decodeJwt,
  decodeProtectedHeader,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importSPKI,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import { ConfigError, TemplateError } from '../../../../functions/core/errors.js';
import { serviceGrantInput } from '../../../../functions/core/flows/service-vend.js';
import {
  signClientAssertion,
  signedClient,
  signedRevokeClient,
  signGrantAssertion,
} from '../../../../functions/core/oauth/client-assertion.js';
import {
  applyClientAuth,
  type ClientSecret,
  isPublicClient,
  JWT_CLIENT_ASSERTION_TYPE,
} from '../../../../functions/core/oauth/client-auth.js';
import { buildRevokeRequest } from '../../../../functions/core/oauth/engine.js';
import { buildTokenRequest, type GrantInput } from '../../../../functions/core/oauth/token-request.js';
import { loadProviderTemplate } from '../../../../functions/core/provider/load.js';
import type { ResolvedProvider } from '../../../../functions/core/provider/resolve.js';
import { tok } from '../../providers/support.js';
import { baseTemplate, errorText, provider, thrown } from '../fixtures.js';

const NOW = 1_900_000_000;
const TOKEN_URL = 'https://login.eu.acme.com/token';
const CODE: GrantInput = { grant: 'authorization_code', code: 'c-1', redirectUri: 'https://tv.example/cb' };

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
let rsa: KeyPair;
let rsaPem: string;
let ec: KeyPair;
let ecPem: string;

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  rsaPem = await exportPKCS8(rsa.privateKey);
  ec = await generateKeyPair('ES256', { extractable: true });
  ecPem = await exportPKCS8(ec.privateKey);
});

const keyClient = (extra: Record<string, string> = {}): ClientSecret => ({
  client_id: tok('cid'),
  private_key: rsaPem,
  ...extra,
});

const form = (body: string | undefined) => Object.fromEntries(new URLSearchParams(body ?? ''));

const keyJwtProvider = (extra: Record<string, unknown> = {}) =>
  provider({
    grants: {
      authorization_code: { clientAuth: 'private_key_jwt' },
      refresh_token: { clientAuth: 'private_key_jwt' },
    },
    ...extra,
  });

async function verified(
  jwt: string,
  key: CryptoKey = rsa.publicKey,
  options: JWTVerifyOptions = {},
): Promise<JWTPayload> {
  const { payload } = await jwtVerify(jwt, key, { currentDate: new Date(NOW * 1000), ...options });
  return payload;
}

/** The client assertion of a token request built the way requestToken builds it. */
async function tokenRequestFor(p: ResolvedProvider, input: GrantInput, client: ClientSecret) {
  const request = buildTokenRequest(p, input, await signedClient(p, input, client, NOW));
  return { request, params: form(request.body) };
}

describe('private_key_jwt client assertion', () => {
  it('sends client_id, the assertion type and a JWT with iss = sub = client_id, aud = the token endpoint', async () => {
    const client = keyClient();
    const { request, params } = await tokenRequestFor(keyJwtProvider(), CODE, client);
    expect(request.headers.authorization).toBeUndefined();
    expect(params).toEqual({
      grant_type: 'authorization_code',
      code: 'c-1',
      redirect_uri: 'https://tv.example/cb',
      client_id: client.client_id,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: expect.any(String),
    });
    const claims = await verified(params.client_assertion as string, rsa.publicKey, {
      issuer: client.client_id,
      subject: client.client_id,
      audience: TOKEN_URL,
      algorithms: ['RS256'],
    });
    expect(claims).toEqual({
      iss: client.client_id,
      sub: client.client_id,
      aud: TOKEN_URL,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      iat: NOW,
      exp: NOW + 300,
    });
    expect(decodeProtectedHeader(params.client_assertion as string)).toEqual({ alg: 'RS256' });
  });

  it('uses a grant endpoint of its own as the default audience', async () => {
    const p = provider({
      grants: {
        authorization_code: {},
        refresh_token: {},
        client_credentials: { clientAuth: 'private_key_jwt', endpoint: 'https://api.${region}/oauth2/token' },
      },
    });
    const { params } = await tokenRequestFor(p, { grant: 'client_credentials' }, keyClient());
    expect((await verified(params.client_assertion as string)).aud).toBe(
      'https://api.eu.acme.com/oauth2/token',
    );
  });

  it('takes aud from clientAssertion.audience over the variables, and lifetimeSeconds for exp', async () => {
    const p = keyJwtProvider({
      clientAssertion: { audience: 'https://login.${region}/', lifetimeSeconds: 120 },
    });
    const { params } = await tokenRequestFor(p, CODE, keyClient());
    const claims = await verified(params.client_assertion as string);
    expect(claims.aud).toBe('https://login.eu.acme.com/');
    expect(claims.exp).toBe(NOW + 120);
    // The verifier's own expiry check agrees: valid just before exp, refused after.
    await expect(
      verified(params.client_assertion as string, rsa.publicKey, {
        currentDate: new Date((NOW + 121) * 1000),
      }),
    ).rejects.toThrow(/exp/);
  });

  it('names the key in the header kid when the secret has key_id', async () => {
    const kid = tok('kid');
    const { params } = await tokenRequestFor(keyJwtProvider(), CODE, keyClient({ key_id: kid }));
    expect(decodeProtectedHeader(params.client_assertion as string)).toEqual({ alg: 'RS256', kid });
  });

  it('signs with clientAssertion.alg: ES256 with an EC key, PS256 with an RSA key', async () => {
    const es = await tokenRequestFor(keyJwtProvider({ clientAssertion: { alg: 'ES256' } }), CODE, {
      client_id: 'cid',
      private_key: ecPem,
    });
    expect(decodeProtectedHeader(es.params.client_assertion as string).alg).toBe('ES256');
    await verified(es.params.client_assertion as string, ec.publicKey, { algorithms: ['ES256'] });

    const ps = await tokenRequestFor(
      keyJwtProvider({ clientAssertion: { alg: 'PS256' } }),
      CODE,
      keyClient(),
    );
    expect(decodeProtectedHeader(ps.params.client_assertion as string).alg).toBe('PS256');
    const pss = await importSPKI(await exportSPKI(rsa.publicKey), 'PS256');
    await verified(ps.params.client_assertion as string, pss, { algorithms: ['PS256'] });
    // Not some other key's signature: the RSA key does not verify the EC-signed assertion.
    await expect(verified(es.params.client_assertion as string, rsa.publicKey)).rejects.toThrow();
  });

  it('signs a fresh JWT (new jti) for every request from the same secret object', async () => {
    const client = keyClient();
    const p = keyJwtProvider();
    const a = await tokenRequestFor(p, CODE, client);
    const b = await tokenRequestFor(p, CODE, client);
    const c = await tokenRequestFor(p, { grant: 'refresh_token', refreshToken: 'rt' }, client);
    const jtis = [a, b, c].map((r) => decodeJwt(r.params.client_assertion as string).jti);
    expect(new Set(jtis).size).toBe(3);
    // The secret object is left alone: the assertion travels on a copy.
    expect(Object.getOwnPropertySymbols(client)).toEqual([]);
    expect(JSON.stringify(await signedClient(p, CODE, client, NOW))).not.toContain('eyJ');
  });

  it('reads a PEM whose line breaks were pasted into JSON as \\n', async () => {
    for (const escaped of ['\\n', '\\r\\n']) {
      const client = keyClient({ private_key: rsaPem.replace(/\n/g, escaped) });
      const { params } = await tokenRequestFor(keyJwtProvider(), CODE, client);
      await verified(params.client_assertion as string);
    }
  });

  describe('an unusable key is a ConfigError that never shows the key', () => {
    const pkcs1 = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;

    it.each([
      [
        'garbage',
        () => `-----BEGIN PRIVATE KEY-----\nNOT-A-KEY-${tok('x')}\n-----END PRIVATE KEY-----\n`,
        'RS256',
      ],
      ['a PKCS#1 key', () => pkcs1, 'RS256'],
      ['an RSA key for ES256', () => rsaPem, 'ES256'],
      ['an EC key for RS256', () => ecPem, 'RS256'],
    ] as const)('%s', async (_, pem, alg) => {
      const key = pem();
      const p = keyJwtProvider({ clientAssertion: { alg } });
      const e = await signedClient(p, CODE, { client_id: 'cid', private_key: key }, NOW).catch((x) => x);
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toMatch(
        /secret\.private_key of client cid is not a PKCS#8 PEM private key/,
      );
      const text = errorText(e);
      const body = key.split('\n')[1] as string;
      expect(body.length).toBeGreaterThan(8);
      expect(text).not.toContain(body);
      expect(text).not.toContain(body.slice(0, 16));
    });

    it('no private_key at all', async () => {
      const e = await signedClient(
        keyJwtProvider(),
        CODE,
        { client_id: 'cid', client_secret: 's' },
        NOW,
      ).catch((x) => x);
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toMatch(/needs secret\.private_key/);
    });

    it('a later good key on a new secret object works (nothing broken is cached)', async () => {
      const p = keyJwtProvider();
      await expect(signedClient(p, CODE, { client_id: 'cid', private_key: 'nope' }, NOW)).rejects.toThrow(
        ConfigError,
      );
      const { params } = await tokenRequestFor(p, CODE, { client_id: 'cid', private_key: rsaPem });
      await verified(params.client_assertion as string);
    });
  });

  it('never goes out unsigned: building the request without a signed assertion is a ConfigError', () => {
    const e = thrown(() => buildTokenRequest(keyJwtProvider(), CODE, keyClient()));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/private_key_jwt/);
    const r = { headers: {}, params: {} };
    expect(thrown(() => applyClientAuth('private_key_jwt', keyClient(), r))).toBeInstanceOf(ConfigError);
    expect(r.params).toEqual({});
  });

  it('a client with a private key is confidential; one with neither key nor secret stays public', async () => {
    expect(isPublicClient({ client_id: 'a', private_key: rsaPem })).toBe(false);
    expect(isPublicClient({ client_id: 'a', private_key: '' })).toBe(true);
    const pub = { client_id: tok('pub') };
    const p = keyJwtProvider();
    expect(await signedClient(p, CODE, pub, NOW)).toBe(pub);
    const { params } = await tokenRequestFor(p, CODE, pub);
    expect(params).toEqual({
      grant_type: 'authorization_code',
      code: 'c-1',
      redirect_uri: 'https://tv.example/cb',
      client_id: pub.client_id,
    });
  });

  it('leaves requests that need no JWT alone (same client object, no signing)', async () => {
    const client = { client_id: 'cid', client_secret: 's', private_key: 'not even a key' };
    expect(await signedClient(provider(), CODE, client, NOW)).toBe(client);
  });

  it('the exported signer stamps exactly the claims RFC 7523 §3 asks for', async () => {
    const jwt = await signClientAssertion(
      keyJwtProvider(),
      keyClient({ client_id: 'me' }),
      'https://as.example',
      NOW,
    );
    expect(Object.keys(decodeJwt(jwt)).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sub']);
  });
});

describe('revocation with private_key_jwt', () => {
  const revoking = () =>
    keyJwtProvider({
      endpoints: {
        ...baseTemplate.endpoints,
        revoke: { url: 'https://login.${region}/revoke', clientAuth: 'private_key_jwt' },
      },
    });
  const tokens = { accessToken: 'at', refreshToken: 'rt', tokenType: 'Bearer', issuedAt: NOW };

  it('posts a client assertion whose aud is the token endpoint', async () => {
    const p = revoking();
    const client = keyClient();
    const request = buildRevokeRequest(p, tokens, await signedRevokeClient(p, client, NOW));
    const params = form(request?.body);
    expect(params).toMatchObject({
      token: 'rt',
      token_type_hint: 'refresh_token',
      client_id: client.client_id,
      client_assertion_type: JWT_CLIENT_ASSERTION_TYPE,
    });
    const claims = await verified(params.client_assertion as string, rsa.publicKey, { audience: TOKEN_URL });
    expect(claims.iss).toBe(client.client_id);
  });

  it('refuses to build an unsigned one, and revokes as a public client without a key', async () => {
    const p = revoking();
    expect(thrown(() => buildRevokeRequest(p, tokens, keyClient()))).toBeInstanceOf(ConfigError);
    const pub = { client_id: 'pub' };
    expect(await signedRevokeClient(p, pub, NOW)).toBe(pub);
    expect(form(buildRevokeRequest(p, tokens, pub)?.body)).toEqual({
      token: 'rt',
      token_type_hint: 'refresh_token',
      client_id: 'pub',
    });
  });
});

describe('jwt_bearer assertion sources', () => {
  const jwtBearer = (assertion: unknown, extra: Record<string, unknown> = {}) =>
    provider(
      {
        variables: {
          ...baseTemplate.variables,
          account: { description: 'account', pattern: '[0-9]{1,12}', required: true },
        },
        grants: { jwt_bearer: { clientAuth: 'none', ...(assertion ? { assertion } : {}) } },
        ...extra,
      },
      { account: '4711' },
    );

  it('caller (the default): the caller assertion, and a ConfigError without one', async () => {
    const p = jwtBearer(undefined);
    const assertion = tok('jwt');
    const { params } = await tokenRequestFor(p, { grant: 'jwt_bearer', assertion }, { client_id: 'cid' });
    expect(params.assertion).toBe(assertion);
    const e = thrown(() => buildTokenRequest(p, { grant: 'jwt_bearer' }, { client_id: 'cid' }));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/caller's assertion/);
  });

  it('secret: the named field of the client secret, whatever the caller sends', async () => {
    const p = jwtBearer({ source: 'secret', field: 'console_jwt' });
    const client = { client_id: 'cid', console_jwt: tok('console') };
    for (const input of [
      { grant: 'jwt_bearer' },
      { grant: 'jwt_bearer', assertion: 'caller-jwt' },
    ] as const) {
      const { params } = await tokenRequestFor(p, input, client);
      expect(params.assertion).toBe(client.console_jwt);
    }
    expect(jwtBearer({ source: 'secret' }).template.grants.jwt_bearer?.assertion).toEqual({
      source: 'secret',
      field: 'jwt',
    });
  });

  it('secret: a missing field is a ConfigError naming the field, prototype names included', () => {
    for (const field of ['console_jwt', 'constructor']) {
      const p = jwtBearer({ source: 'secret', field });
      const e = thrown(() =>
        buildTokenRequest(p, { grant: 'jwt_bearer' }, { client_id: 'cid', other: 'x-secret' }),
      );
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toContain(`secret.${field}`);
      expect(errorText(e)).not.toContain('x-secret');
    }
  });

  it('signed: the claims over variables, client_id and secrets, plus iat, exp and a fresh jti', async () => {
    const p = jwtBearer(
      {
        source: 'signed',
        claims: {
          iss: '${client_id}',
          sub: '${secret.user_id}',
          aud: 'https://login.${region}/token',
          account: 'acct-${account}',
          exp: 'ignored: tokenvend sets exp',
        },
        lifetimeSeconds: 90,
      },
      { clientAssertion: { alg: 'ES256' } },
    );
    const client = { client_id: tok('cid'), user_id: tok('user'), private_key: ecPem, key_id: 'k1' };
    const first = await tokenRequestFor(p, { grant: 'jwt_bearer' }, client);
    const second = await tokenRequestFor(p, { grant: 'jwt_bearer' }, client);
    expect(first.params).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: expect.any(String),
      client_id: client.client_id,
    });
    const claims = await verified(first.params.assertion as string, ec.publicKey, { algorithms: ['ES256'] });
    expect(claims).toEqual({
      iss: client.client_id,
      sub: client.user_id,
      aud: TOKEN_URL,
      account: 'acct-4711',
      iat: NOW,
      exp: NOW + 90,
      jti: expect.any(String),
    });
    expect(decodeProtectedHeader(first.params.assertion as string)).toEqual({ alg: 'ES256', kid: 'k1' });
    expect(decodeJwt(second.params.assertion as string).jti).not.toBe(claims.jti);
  });

  it('signed with private_key_jwt client auth: two JWTs, each with its own jti', async () => {
    const p = provider({
      grants: {
        jwt_bearer: {
          clientAuth: 'private_key_jwt',
          assertion: {
            source: 'signed',
            claims: { iss: '${client_id}', sub: 'svc', aud: 'https://as.example' },
          },
        },
      },
    });
    const { params } = await tokenRequestFor(p, { grant: 'jwt_bearer' }, keyClient());
    const grant = await verified(params.assertion as string, rsa.publicKey, {
      audience: 'https://as.example',
    });
    const auth = await verified(params.client_assertion as string, rsa.publicKey, { audience: TOKEN_URL });
    expect(grant.sub).toBe('svc');
    expect(grant.exp).toBe(NOW + 300);
    expect(grant.jti).not.toBe(auth.jti);
  });

  it('signed: a claim whose secret is missing is a ConfigError naming the placeholder', async () => {
    const p = jwtBearer({ source: 'signed', claims: { sub: '${secret.user_id}' } });
    const e = await signGrantAssertion(p, keyClient(), NOW).catch((x) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain('${secret.user_id}');
    expect(thrown(() => buildTokenRequest(p, { grant: 'jwt_bearer' }, keyClient()))).toBeInstanceOf(
      ConfigError,
    );
  });

  it('service connections supply an assertion only for the caller source', () => {
    const caller = { id: 'ring', provider: jwtBearer(undefined) };
    const jwt = tok('jwt');
    expect(
      serviceGrantInput(caller, 'jwt_bearer', { client_id: 'c', jwt_assertion: jwt }, undefined),
    ).toEqual({
      grant: 'jwt_bearer',
      assertion: jwt,
      scopes: undefined,
    });
    expect(
      thrown(() => serviceGrantInput(caller, 'jwt_bearer', { client_id: 'c' }, undefined)),
    ).toBeInstanceOf(ConfigError);
    for (const source of [{ source: 'secret' }, { source: 'signed', claims: { sub: 'x' } }]) {
      const integration = { id: 'ring', provider: jwtBearer(source) };
      expect(serviceGrantInput(integration, 'jwt_bearer', { client_id: 'c' }, ['a'])).toEqual({
        grant: 'jwt_bearer',
        scopes: ['a'],
      });
    }
  });
});

describe('loading templates with private_key_jwt', () => {
  const loadError = (overrides: Record<string, unknown>): TemplateError => {
    const e = thrown(() => loadProviderTemplate({ ...baseTemplate, ...overrides }, 'acme.json'));
    expect(e).toBeInstanceOf(TemplateError);
    return e as TemplateError;
  };

  it('refuses private_key_jwt with paramsIn query (the assertion would sit in the URL), POST included', () => {
    expect(
      loadError({ grants: { client_credentials: { paramsIn: 'query', clientAuth: 'private_key_jwt' } } })
        .path,
    ).toBe('$.grants.client_credentials.clientAuth');
    expect(
      loadError({
        grants: {
          authorization_code: { paramsIn: 'query', clientAuth: 'none', publicClientAuth: 'private_key_jwt' },
        },
      }).path,
    ).toBe('$.grants.authorization_code.publicClientAuth');
  });

  it('accepts it on revocation, with a clientAssertion block and its defaults', () => {
    const t = loadProviderTemplate(
      {
        ...baseTemplate,
        endpoints: {
          ...baseTemplate.endpoints,
          revoke: { url: 'https://login.${region}/revoke', clientAuth: 'private_key_jwt' },
        },
        clientAssertion: {},
      },
      'acme.json',
    );
    expect(t.endpoints.revoke?.clientAuth).toBe('private_key_jwt');
    expect(t.clientAssertion).toEqual({ alg: 'RS256', lifetimeSeconds: 300 });
  });

  it('refuses other algorithms, lifetimes out of range and secrets in the audience', () => {
    expect(loadError({ clientAssertion: { alg: 'HS256' } }).path).toBe('$.clientAssertion.alg');
    expect(loadError({ clientAssertion: { lifetimeSeconds: 3600 } }).path).toBe(
      '$.clientAssertion.lifetimeSeconds',
    );
    expect(loadError({ clientAssertion: { audience: 'https://${secret.host}/token' } }).path).toBe(
      '$.clientAssertion.audience',
    );
  });

  it('checks the placeholders of signed claims', () => {
    const e = loadError({
      grants: { jwt_bearer: { assertion: { source: 'signed', claims: { sub: '${user}' } } } },
    });
    expect(e.path).toBe('$.grants.jwt_bearer.assertion.claims.sub');
  });
});
