/**
 * SAML ACS -> saml2-bearer end to end: a real signed SAMLResponse posted to the local runtime, exchanged at a
 * real vendor through a Genesys-shaped template; then every attack on the ACS, each refused before any
 * vendor call and without touching what is stored.
 */
import { generateSigningKey, type SamlResponseOptions, type TestSigningKey } from '../support/saml-idp.js';
import {
  ORG_NAME,
  observe,
  RETURN_BASE,
  SP_ENTITY_ID,
  SSO,
  type Stack,
  startStack,
} from './support/stack.js';

let stack: Stack;
let attacker: TestSigningKey;
const SUBJECTS = ['alice', 'bob', 'admin@corp.com'];

beforeAll(async () => {
  stack = await startStack({ saml: true });
  attacker = generateSigningKey('attacker');
});

afterAll(async () => {
  await stack?.close();
});

function response(options: Partial<SamlResponseOptions> = {}): string {
  if (!stack.idp) throw new Error('the stack has no IdP');
  return stack.idp.buildResponse({ now: new Date(), nameId: 'alice', ...options });
}

function post(samlResponse: string, relayState?: string) {
  const form: Record<string, string> = { SAMLResponse: samlResponse };
  if (relayState !== undefined) form.RelayState = relayState;
  return stack.call('POST', `/saml/${SSO}/acs`, { form });
}

describe('SAML ACS -> saml2-bearer', () => {
  it('exchanges a signed response at the vendor and vends for the asserted subject', async () => {
    const posted = response({ nameId: 'alice' });
    const before = stack.spy.count('/token');
    const answer = await post(posted, `${RETURN_BASE}agent`);
    expect(answer.status).toBe(302);
    const location = new URL(String(answer.headers.get('location')));
    expect(`${location.origin}${location.pathname}`).toBe(`${RETURN_BASE}agent`);
    expect(location.searchParams.get('tokenvend')).toBe('connected');
    expect(location.searchParams.get('integration')).toBe(SSO);

    expect(stack.spy.count('/token') - before).toBe(1);
    const seen = stack.spy.requests.at(-1);
    const basic = `Basic ${Buffer.from(`${stack.clientId}:${stack.clientSecret}`).toString('base64')}`;
    expect(seen?.headers.authorization).toBe(basic);
    expect(seen?.form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:saml2-bearer');
    expect(seen?.form.get('orgName')).toBe(ORG_NAME);
    // The whole SAMLResponse, byte for byte as posted (only the IdP's line wrapping removed).
    const assertion = String(seen?.form.get('assertion'));
    expect(assertion).toBe(posted.replace(/\s+/g, ''));
    expect(Buffer.from(assertion, 'base64')).toEqual(Buffer.from(posted, 'base64'));

    const vend = await stack.call('GET', `/vend/${SSO}`, { token: await stack.token('alice') });
    expect(vend.status).toBe(200);
    const me = await fetch(stack.vendor.userinfoEndpoint, {
      headers: { authorization: `Bearer ${vend.json?.access_token}` },
    });
    expect(((await me.json()) as { sub: string }).sub).toBe('alice');
    // Nobody else got a connection from it.
    const bob = await stack.call('GET', `/vend/${SSO}`, { token: await stack.token('bob') });
    expect(bob.status).toBe(404);
  });

  it('without an allowed RelayState shows a result page instead of redirecting', async () => {
    const answer = await post(response({ nameId: 'bob' }), 'https://evil.example/');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('location')).toBeNull();
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await stack.call('GET', `/vend/${SSO}`, { token: await stack.token('bob') })).status).toBe(200);
  });
});

describe('SAML attacks: 400/413, no vendor call, nothing stored changes', () => {
  let baseline: Awaited<ReturnType<typeof observe>>;

  beforeAll(async () => {
    baseline = await observe(stack, SUBJECTS, SSO);
    expect(baseline.alice?.vendStatus).toBe(200);
    expect(baseline.bob?.vendStatus).toBe(200);
    expect(baseline['admin@corp.com']?.vendStatus).toBe(404);
  });

  async function expectRefused(samlResponse: string, status = 400): Promise<string> {
    const calls = stack.spy.requests.length;
    const vendorCalls = stack.vendor.tokenRequests();
    const answer = await post(samlResponse, RETURN_BASE);
    expect(answer.status).toBe(status);
    expect(answer.headers.get('location')).toBeNull();
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(stack.spy.requests.length).toBe(calls);
    expect(stack.vendor.tokenRequests()).toBe(vendorCalls);
    expect(await observe(stack, SUBJECTS, SSO)).toEqual(baseline);
    // The ACS answers a browser: an HTML page naming the code and the failed check in our own words.
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    return String(/<p>([^<]*)<\/p>/.exec(answer.text)?.[1]);
  }

  const other = () => attacker;
  const cases: [string, () => Partial<SamlResponseOptions>, RegExp][] = [
    ['unsigned', () => ({ signAssertion: false }), /signature/],
    [
      'signed by another certificate (no KeyInfo)',
      () => ({ signer: other(), keyInfoCert: null }),
      /signature/,
    ],
    [
      'signed by another key whose certificate is smuggled in KeyInfo',
      () => ({ signer: other() }),
      /signature/,
    ],
    [
      'signed by another key, KeyInfo naming the pinned certificate',
      () => ({ signer: other(), keyInfoCert: stack.idpKey ?? null }),
      /signature/,
    ],
    ['wrong audience', () => ({ audience: 'https://someone-else.example/sp' }), /audience/],
    ['wrong destination', () => ({ destination: 'https://someone-else.example/acs' }), /Destination/],
    ['wrong issuer', () => ({ issuer: 'https://evil-idp.example/' }), /issuer/],
    ['wrong recipient', () => ({ recipient: 'https://someone-else.example/acs' }), /subject confirmation/],
    ['expired', () => ({ now: new Date(Date.now() - 2 * 3600_000) }), /expired/],
    ['not yet valid', () => ({ now: new Date(Date.now() + 2 * 3600_000) }), /not yet valid/],
    ['non-Success status', () => ({ status: 'urn:oasis:names:tc:SAML:2.0:status:Requester' }), /status/],
    [
      'comment-truncated NameID (comment inserted after signing)',
      () => ({
        nameId: 'alice.evil.example',
        mutate: (xml: string) => xml.replace('>alice.evil.example<', '>alice<!---->.evil.example<'),
      }),
      /comments/,
    ],
    [
      'comment-truncated NameID (signed with comments)',
      () => ({ nameIdXml: 'alice<!---->.evil.example', withComments: true }),
      /comments/,
    ],
    ['XSW: signed assertion in Extensions', () => ({ wrap: 'extensions' }), /./],
    ['XSW: signed assertion inside the Signature Object', () => ({ wrap: 'signature-object' }), /./],
    ['XSW: evil sibling after the signed assertion', () => ({ wrap: 'sibling-after' }), /./],
    ['XSW: evil sibling before the signed assertion', () => ({ wrap: 'sibling-before' }), /./],
    ['XSW: evil assertion reusing the signed ID', () => ({ wrap: 'same-id' }), /./],
    ['SHA-1 signature', () => ({ algorithm: 'rsa-sha1' }), /algorithm/],
    [
      'tampered NameID after signing',
      () => ({ mutate: (xml: string) => xml.replace('>alice</saml:NameID>', '>bob</saml:NameID>') }),
      /signature/,
    ],
    [
      'DOCTYPE injection',
      () => ({ mutate: (xml: string) => `<!DOCTYPE r [<!ENTITY e "bob">]>${xml}` }),
      /XML/,
    ],
  ];

  it.each(cases)('%s', async (_name, options, message) => {
    expect(await expectRefused(response(options()))).toMatch(message);
  });

  it('a replayed response works once: exactly one vendor call', async () => {
    const posted = response({ nameId: 'carol' });
    const before = stack.spy.count('/token');
    expect((await post(posted)).status).toBe(200);
    const carol = await stack.token('carol');
    const first = await stack.call('GET', `/vend/${SSO}`, { token: carol });
    expect(first.status).toBe(200);
    expect(await expectRefused(posted)).toMatch(/already used/);
    expect(stack.spy.count('/token') - before).toBe(1);
    const second = await stack.call('GET', `/vend/${SSO}`, { token: carol });
    expect(second.json?.access_token).toBe(first.json?.access_token);
  });

  it('a SAMLResponse over 256 KB is refused with 413', async () => {
    const padded = response({
      mutate: (xml) => xml.replace('</samlp:Response>', `<!--${'x'.repeat(260 * 1024)}--></samlp:Response>`),
    });
    expect(padded.length).toBeGreaterThan(256 * 1024);
    await expectRefused(padded, 413);
  });

  it('a body over the handler limit is refused with 413', async () => {
    await expectRefused('A'.repeat(400 * 1024), 413);
  });

  it('malformed posts are 400/415 without a vendor call', async () => {
    const calls = stack.spy.requests.length;
    expect((await post('not base64 at all!')).status).toBe(400);
    expect((await stack.call('POST', `/saml/${SSO}/acs`, { form: {} })).status).toBe(400);
    const json = await stack.call('POST', `/saml/${SSO}/acs`, { json: { SAMLResponse: response() } });
    expect(json.status).toBe(415);
    const twice = await stack.call('POST', `/saml/${SSO}/acs`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `SAMLResponse=${encodeURIComponent(response())}&SAMLResponse=${encodeURIComponent(response())}`,
    });
    expect(twice.status).toBe(400);
    expect(stack.spy.requests.length).toBe(calls);
    expect(await observe(stack, SUBJECTS, SSO)).toEqual(baseline);
  });

  it('the ACS of an integration without SAML is a 404', async () => {
    const answer = await stack.call('POST', '/saml/oidc/acs', { form: { SAMLResponse: response() } });
    expect(answer.status).toBe(404);
    expect(answer.text).toContain('<p>unknown_integration: ');
  });
});

describe('SP metadata', () => {
  it('GET /saml/{integration}/metadata names our entity ID and this ACS, no-store', async () => {
    const answer = await stack.call('GET', `/saml/${SSO}/metadata`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/samlmetadata+xml; charset=utf-8');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.text).toContain(`entityID="${SP_ENTITY_ID}"`);
    expect(answer.text).toContain(`Location="${stack.url}/saml/${SSO}/acs"`);
  });

  it('answers 404 (JSON, for tools) for an integration without SAML and an unknown one', async () => {
    for (const id of ['oidc', 'nope']) {
      const answer = await stack.call('GET', `/saml/${id}/metadata`);
      expect([answer.status, answer.json?.error]).toEqual([404, 'unknown_integration']);
    }
  });
});
