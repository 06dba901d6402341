/**
 * SP-initiated SAML sign-in end to end through the local runtime (without a browser; the SimpleSAMLphp test
 * drives one): `GET /saml/{integration}/login` -> AuthnRequest -> a signed response answering it -> the ACS ->
 * saml2-bearer at the vendor. A frontend-started sign-in (`return_to`) ends like the OAuth callback: the tokens
 * are parked and only the asserted user's JWT can claim them. Checklist 21: replayed, reused, foreign, expired
 * and unsolicited-where-refused responses are 400 with no vendor call and nothing stored.
 */
import { inflateRawSync } from 'node:zlib';
import {
  generateSigningKey,
  type SamlResponseOptions,
  TestIdp,
  type TestSigningKey,
} from '../support/saml-idp.js';
import {
  type HttpAnswer,
  observe,
  RETURN_BASE,
  type Stack,
  samlBearerProvider,
  startStack,
} from './support/stack.js';

const SP_SSO = 'sp-sso';
const SP_ONLY = 'sp-only';
const OTHER = 'other-sso';
const ENCRYPTED = 'enc-sso';
const IDP_ISSUER = 'https://idp.sp.e2e.test/metadata';
const IDP_SSO_URL = 'https://idp.sp.e2e.test/sso';
const RETURN_TO = `${RETURN_BASE}connected`;
const SUBJECTS = ['dora', 'eve', 'fred'];

let stack: Stack;
let idpKey: TestSigningKey;
let spEncryption: TestSigningKey;
const idps: Record<string, TestIdp> = {};

beforeAll(async () => {
  idpKey = generateSigningKey('sp-e2e-idp');
  stack = await startStack({
    extraIntegrations: ({ spy, secret }) => {
      const integration = (id: string, saml: object = {}) => ({
        provider: samlBearerProvider(`${id}-vendor`, spy.url),
        vars: { orgName: 'acme-e2e' },
        secret,
        saml: {
          idpCert: idpKey.cert,
          idpIssuer: IDP_ISSUER,
          idpSsoUrl: IDP_SSO_URL,
          spEntityId: `https://tokenvend.e2e.test/${id}`,
          ...saml,
        },
      });
      spEncryption = generateSigningKey('sp-e2e-encryption');
      return {
        [ENCRYPTED]: {
          ...integration(ENCRYPTED),
          secret: {
            ...secret,
            saml_encryption_key: spEncryption.privateKey,
            saml_encryption_cert: spEncryption.cert,
          },
        },
        [SP_SSO]: integration(SP_SSO),
        [SP_ONLY]: integration(SP_ONLY, { allowIdpInitiated: false }),
        [OTHER]: integration(OTHER),
      };
    },
  });
  for (const id of [SP_SSO, SP_ONLY, OTHER, ENCRYPTED]) {
    idps[id] = new TestIdp({
      key: idpKey,
      issuer: IDP_ISSUER,
      audience: `https://tokenvend.e2e.test/${id}`,
      acsUrl: `${stack.url}/saml/${id}/acs`,
    });
  }
});

afterAll(async () => {
  await stack?.close();
});

/** `GET /saml/{id}/login`: the IdP redirect and the AuthnRequest ID in it. */
async function login(
  integration: string,
  returnTo?: string,
): Promise<{ answer: HttpAnswer; requestId: string }> {
  const query = returnTo === undefined ? '' : `?return_to=${encodeURIComponent(returnTo)}`;
  const answer = await stack.call('GET', `/saml/${integration}/login${query}`);
  expect(answer.status).toBe(302);
  const location = new URL(String(answer.headers.get('location')));
  expect(`${location.origin}${location.pathname}`).toBe(IDP_SSO_URL);
  const xml = inflateRawSync(
    Buffer.from(String(location.searchParams.get('SAMLRequest')), 'base64'),
  ).toString();
  const requestId = /\bID="([^"]+)"/.exec(xml)?.[1];
  if (!requestId) throw new Error('no AuthnRequest ID');
  return { answer, requestId };
}

function response(integration: string, options: Partial<SamlResponseOptions>): string {
  return idps[integration]!.buildResponse({ now: new Date(), ...options });
}

function post(integration: string, samlResponse: string, relayState?: string) {
  const form: Record<string, string> = { SAMLResponse: samlResponse };
  if (relayState !== undefined) form.RelayState = relayState;
  return stack.call('POST', `/saml/${integration}/acs`, { form });
}

function claimOf(answer: HttpAnswer) {
  const location = new URL(String(answer.headers.get('location')));
  return { location, claim: String(location.searchParams.get('claim')) };
}

describe('SP-initiated sign-in', () => {
  it('from a frontend: login -> IdP -> ACS parks the tokens -> the asserted user claims them -> vend', async () => {
    const { requestId } = await login(SP_SSO, RETURN_TO);
    const before = stack.spy.count('/token');
    const answer = await post(SP_SSO, response(SP_SSO, { nameId: 'dora', inResponseTo: requestId }));
    expect(answer.status).toBe(302);
    const { location, claim } = claimOf(answer);
    expect(`${location.origin}${location.pathname}`).toBe(RETURN_TO);
    expect(location.searchParams.get('integration')).toBe(SP_SSO);
    expect(claim).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(stack.spy.count('/token') - before).toBe(1);
    const dora = await stack.token('dora');
    // Parked, not stored, until the claim.
    expect((await stack.call('GET', `/vend/${SP_SSO}`, { token: dora })).status).toBe(404);
    const claimed = await stack.call('POST', `/connect/${SP_SSO}/claim`, { token: dora, json: { claim } });
    expect([claimed.status, claimed.json?.status]).toEqual([200, 'connected']);
    const vend = await stack.call('GET', `/vend/${SP_SSO}`, { token: dora });
    expect(vend.status).toBe(200);
    const me = await fetch(stack.vendor.userinfoEndpoint, {
      headers: { authorization: `Bearer ${vend.json?.access_token}` },
    });
    expect(((await me.json()) as { sub: string }).sub).toBe('dora');
  });

  it("checklist 50: another user's JWT cannot claim a frontend-started SAML sign-in; nothing is stored", async () => {
    const { requestId } = await login(SP_SSO, RETURN_TO);
    const answer = await post(SP_SSO, response(SP_SSO, { nameId: 'fred', inResponseTo: requestId }));
    const { claim } = claimOf(answer);
    const eve = await stack.token('eve');
    const refused = await stack.call('POST', `/connect/${SP_SSO}/claim`, { token: eve, json: { claim } });
    expect([refused.status, refused.json?.error]).toEqual([403, 'access_denied']);
    for (const sub of ['eve', 'fred']) {
      const vend = await stack.call('GET', `/vend/${SP_SSO}`, { token: await stack.token(sub) });
      expect([sub, vend.status]).toEqual([sub, 404]);
    }
    // The code is gone: fred's own JWT cannot claim it afterwards either.
    const late = await stack.call('POST', `/connect/${SP_SSO}/claim`, {
      token: await stack.token('fred'),
      json: { claim },
    });
    expect([late.status, late.json?.error]).toEqual([400, 'invalid_grant']);
  });

  it('without return_to: the connection is stored at the ACS, a posted RelayState is ignored', async () => {
    const { requestId } = await login(SP_ONLY);
    const answer = await post(
      SP_ONLY,
      response(SP_ONLY, { nameId: 'dora', inResponseTo: requestId }),
      RETURN_TO,
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('location')).toBeNull();
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await stack.call('GET', `/vend/${SP_ONLY}`, { token: await stack.token('dora') })).status).toBe(
      200,
    );
  });

  it('login refuses a return_to off the allow-list, twice given, and an integration without SAML', async () => {
    const refused = await stack.call(
      'GET',
      `/saml/${SP_SSO}/login?return_to=${encodeURIComponent('https://evil.example/')}`,
    );
    expect([refused.status, refused.headers.get('location')]).toEqual([400, null]);
    expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
    const twice = await stack.call(
      'GET',
      `/saml/${SP_SSO}/login?return_to=${encodeURIComponent(RETURN_TO)}&return_to=x`,
    );
    expect(twice.status).toBe(400);
    expect((await stack.call('GET', '/saml/oidc/login')).status).toBe(404);
  });
});

describe('checklist 21: InResponseTo refusals are 400, with no vendor call and nothing stored', () => {
  let baseline: Awaited<ReturnType<typeof observe>>;

  beforeAll(async () => {
    baseline = await observe(stack, SUBJECTS, SP_SSO);
  });

  async function expectRefused(integration: string, samlResponse: string, words: RegExp): Promise<void> {
    const spied = stack.spy.requests.length;
    const vendorCalls = stack.vendor.tokenRequests();
    const answer = await post(integration, samlResponse, RETURN_TO);
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(/<p>([^<]*)<\/p>/.exec(answer.text)?.[1]).toMatch(words);
    expect(stack.spy.requests.length).toBe(spied);
    expect(stack.vendor.tokenRequests()).toBe(vendorCalls);
    expect(await observe(stack, SUBJECTS, SP_SSO)).toEqual(baseline);
  }

  it('checklist 21: a replayed response (same bytes) is refused', async () => {
    const { requestId } = await login(SP_SSO);
    const posted = response(SP_SSO, { nameId: 'eve', inResponseTo: requestId });
    expect((await post(SP_SSO, posted)).status).toBe(200);
    baseline = await observe(stack, SUBJECTS, SP_SSO);
    await expectRefused(SP_SSO, posted, /InResponseTo/);
  });

  it('checklist 21: a second response to a used request is refused', async () => {
    const { requestId } = await login(SP_SSO);
    expect((await post(SP_SSO, response(SP_SSO, { nameId: 'fred', inResponseTo: requestId }))).status).toBe(
      200,
    );
    baseline = await observe(stack, SUBJECTS, SP_SSO);
    await expectRefused(
      SP_SSO,
      response(SP_SSO, { nameId: 'dora', inResponseTo: requestId }),
      /InResponseTo/,
    );
  });

  it('checklist 21: a request of another integration (foreign) is refused, and still works at its own', async () => {
    const { requestId } = await login(OTHER);
    await expectRefused(
      SP_SSO,
      response(SP_SSO, { nameId: 'dora', inResponseTo: requestId }),
      /InResponseTo/,
    );
    const own = await post(OTHER, response(OTHER, { nameId: 'dora', inResponseTo: requestId }));
    expect(own.status).toBe(200);
    baseline = await observe(stack, SUBJECTS, SP_SSO);
  });

  it('checklist 21: an expired request is refused', async () => {
    const requests = stack.server.local.app.samlRequests;
    if (!requests) throw new Error('the local app has no SAML request store');
    const now = Math.floor(Date.now() / 1000);
    const requestId = `_${'e'.repeat(40)}`;
    await requests.put(requestId, { integration: SP_SSO, createdAt: now - 601 }, now - 1);
    await expectRefused(
      SP_SSO,
      response(SP_SSO, { nameId: 'dora', inResponseTo: requestId }),
      /InResponseTo/,
    );
  });

  it('checklist 21: an unknown request ID, and an InResponseTo only on the unsigned Response, are refused', async () => {
    await expectRefused(
      SP_SSO,
      response(SP_SSO, { nameId: 'dora', inResponseTo: '_unknown-request' }),
      /InResponseTo/,
    );
    const { requestId } = await login(SP_SSO);
    await expectRefused(
      SP_SSO,
      response(SP_SSO, { nameId: 'dora', responseInResponseTo: requestId }),
      /InResponseTo/,
    );
  });

  it('checklist 21: an unsolicited response where allowIdpInitiated is false is refused', async () => {
    await expectRefused(SP_ONLY, response(SP_ONLY, { nameId: 'fred' }), /unsolicited/);
  });
});

describe('encrypted assertions (SP encryption key in the secret)', () => {
  it('the metadata publishes the encryption certificate; an encrypted assertion is decrypted, checked and exchanged', async () => {
    const metadata = await stack.call('GET', `/saml/${ENCRYPTED}/metadata`);
    expect(metadata.text).toContain('<KeyDescriptor use="encryption">');
    expect(metadata.text.replace(/\s+/g, '')).toContain(spEncryption.certBase64);
    expect(metadata.text).not.toContain(spEncryption.privateKey.split('\n')[1]);

    const posted = await idps[ENCRYPTED]!.buildEncryptedResponse({
      now: new Date(),
      nameId: 'gina',
      to: spEncryption,
    });
    expect(Buffer.from(posted, 'base64').toString()).not.toContain('gina');
    const before = stack.spy.count('/token');
    const answer = await post(ENCRYPTED, posted);
    expect(answer.status).toBe(200);
    expect(stack.spy.count('/token') - before).toBe(1);
    // The vendor got the Response with the assertion decrypted (it has no key of ours) and took its NameID.
    const forwarded = Buffer.from(
      String(stack.spy.requests.at(-1)?.form.get('assertion')),
      'base64',
    ).toString();
    expect(forwarded).not.toContain('EncryptedAssertion');
    expect(forwarded).toContain('>gina</saml:NameID>');
    const vend = await stack.call('GET', `/vend/${ENCRYPTED}`, { token: await stack.token('gina') });
    expect(vend.status).toBe(200);
  });

  it('an undecryptable assertion (encrypted to another key) is a 400 without a vendor call', async () => {
    const posted = await idps[ENCRYPTED]!.buildEncryptedResponse({
      now: new Date(),
      nameId: 'hank',
      to: generateSigningKey('someone-else'),
    });
    const vendorCalls = stack.vendor.tokenRequests();
    const answer = await post(ENCRYPTED, posted);
    expect(answer.status).toBe(400);
    expect(/<p>([^<]*)<\/p>/.exec(answer.text)?.[1]).toMatch(/could not be decrypted/);
    expect(stack.vendor.tokenRequests()).toBe(vendorCalls);
    expect((await stack.call('GET', `/vend/${ENCRYPTED}`, { token: await stack.token('hank') })).status).toBe(
      404,
    );
  });

  it('an integration without an encryption key refuses an encrypted assertion', async () => {
    const posted = await idps[SP_SSO]!.buildEncryptedResponse({
      now: new Date(),
      nameId: 'hank',
      to: spEncryption,
    });
    const answer = await post(SP_SSO, posted);
    expect(answer.status).toBe(400);
    expect(/<p>([^<]*)<\/p>/.exec(answer.text)?.[1]).toMatch(/could not be decrypted/);
  });
});
