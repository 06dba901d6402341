/**
 * What a person's browser sees on the browser routes (the OAuth callback and the SAML ACS): HTML pages with the
 * right status, `Cache-Control: no-store` and a CSP that loads nothing, carrying our error code and our own
 * words only. Nothing the request or the vendor sends as free text (error_description, odd error values,
 * parameter names, a vendor's error message) reaches a page (security checklist 53, page part); the ACS answers
 * a browser like the callback does, never with JSON.
 */
import { SAML2_BEARER } from '../support/oidc-server.js';
import { type HttpAnswer, OIDC, RETURN_BASE, SSO, type Stack, startStack } from './support/stack.js';

/** Text an attacker (or a vendor echoing one) would like to see on our domain. */
const PHISH = 'Call 555-0100 to unlock your account';
const PHISH_TOKEN = 'Call_555-0100_to_unlock_your_account';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ saml: true });
});

afterAll(async () => {
  await stack?.close();
});

function expectPage(answer: HttpAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(answer.headers.get('content-security-policy')).toContain("default-src 'none'");
  expect(answer.text).toContain(`<p>${code}: `);
}

function expectNoPhish(answer: HttpAnswer): void {
  for (const text of [PHISH, PHISH_TOKEN, '555-0100', '555', 'unlock'])
    expect(answer.text).not.toContain(text);
}

async function startFlow(): Promise<{ state: string; authorizeUrl: string }> {
  const start = await stack.call('POST', `/connect/${OIDC}`, {
    token: await stack.token('alice'),
    json: { return_to: `${RETURN_BASE}x` },
  });
  expect(start.status).toBe(200);
  const authorizeUrl = String(start.json?.authorize_url);
  return { state: String(new URL(authorizeUrl).searchParams.get('state')), authorizeUrl };
}

const iss = () => encodeURIComponent(stack.vendor.issuer);

describe('checklist 53 (page part): the callback page shows our words and a short vendor code only', () => {
  it('error_description from the browser is never shown', async () => {
    const { state } = await startFlow();
    const answer = await stack.call(
      'GET',
      `/oauth/${OIDC}/callback?error=access_denied&error_description=${encodeURIComponent(PHISH)}&state=${state}&iss=${iss()}`,
    );
    expectPage(answer, 400, 'access_denied');
    expect(answer.text).toContain('Vendor error code: access_denied');
    expectNoPhish(answer);
  });

  it('an error value that is not a short code is not shown either', async () => {
    for (const error of [PHISH, `${'x'.repeat(50)}_${PHISH_TOKEN}`, 'a<b>c']) {
      const { state } = await startFlow();
      const answer = await stack.call(
        'GET',
        `/oauth/${OIDC}/callback?error=${encodeURIComponent(error)}&state=${state}&iss=${iss()}`,
      );
      expectPage(answer, 400, 'invalid_request');
      expectNoPhish(answer);
      expect(answer.text).not.toContain('<b>');
      expect(answer.text).not.toContain('x'.repeat(50));
    }
  });

  it('attacker-chosen parameter names are not quoted back', async () => {
    const { state } = await startFlow();
    const answer = await stack.call(
      'GET',
      `/oauth/${OIDC}/callback?code=abc&state=${state}&iss=${iss()}&${PHISH_TOKEN}=1&${PHISH_TOKEN}=2`,
    );
    expectPage(answer, 400, 'invalid_request');
    expectNoPhish(answer);
  });

  it("the vendor's error message at the token endpoint never reaches the page", async () => {
    const { authorizeUrl } = await startFlow();
    stack.spy.inject(
      'authorization_code',
      {
        status: 400,
        body: JSON.stringify({ error: 'invalid_grant', error_description: PHISH, message: PHISH }),
      },
      1,
    );
    const callback = await stack.vendor.authorize(authorizeUrl, 'alice');
    const answer = await stack.call('GET', `${callback.pathname}${callback.search}`);
    stack.spy.heal();
    expectPage(answer, 400, 'invalid_grant');
    expect(answer.text).toContain('Vendor error code: invalid_grant');
    expectNoPhish(answer);
  });

  it("a vendor 'error' that is free text is not shown as a code", async () => {
    const { authorizeUrl } = await startFlow();
    stack.spy.inject('authorization_code', { status: 400, body: JSON.stringify({ error: PHISH }) }, 1);
    const callback = await stack.vendor.authorize(authorizeUrl, 'alice');
    const answer = await stack.call('GET', `${callback.pathname}${callback.search}`);
    stack.spy.heal();
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expectNoPhish(answer);
  });
});

describe('the SAML ACS answers a browser with pages, never JSON', () => {
  const post = (form: Record<string, string>) => stack.call('POST', `/saml/${SSO}/acs`, { form });
  const signed = () => stack.idp?.buildResponse({ now: new Date(), nameId: 'alice' }) ?? '';

  it('a rejected response is a 400 page naming the failed check in our words', async () => {
    const unsigned =
      stack.idp?.buildResponse({ now: new Date(), nameId: 'alice', signAssertion: false }) ?? '';
    const answer = await post({ SAMLResponse: unsigned });
    expectPage(answer, 400, 'invalid_request');
    expect(answer.text).toContain('SAML response rejected: assertion signature is missing');
    expect(answer.json).toBeUndefined();
  });

  it("checklist 53 (page part): the vendor's refusal of the assertion shows its code, not its text", async () => {
    stack.spy.inject(
      SAML2_BEARER,
      { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: PHISH }) },
      1,
    );
    const answer = await post({ SAMLResponse: signed() });
    stack.spy.heal();
    expectPage(answer, 400, 'invalid_grant');
    expect(answer.text).toContain('Vendor error code: invalid_grant');
    expectNoPhish(answer);
  });

  it('vendor outages, unknown integrations, wrong media types and oversized bodies are pages too', async () => {
    stack.spy.inject(SAML2_BEARER, { status: 503, body: '{}' }, 1);
    const outage = await post({ SAMLResponse: signed() });
    stack.spy.heal();
    expectPage(outage, 502, 'temporarily_unavailable');

    expectPage(
      await stack.call('POST', '/saml/nope/acs', { form: { SAMLResponse: 'PHg+' } }),
      404,
      'unknown_integration',
    );
    expectPage(
      await stack.call('POST', `/saml/${OIDC}/acs`, { form: { SAMLResponse: 'PHg+' } }),
      404,
      'unknown_integration',
    );
    expectPage(
      await stack.call('POST', `/saml/${SSO}/acs`, { json: { SAMLResponse: 'PHg+' } }),
      415,
      'invalid_request',
    );
    const huge = await post({ SAMLResponse: 'A'.repeat(400 * 1024) });
    expectPage(huge, 413, 'invalid_request');
    expectPage(await post({ RelayState: RETURN_BASE }), 400, 'invalid_request');
  });

  it('a good response still redirects to the allow-listed RelayState', async () => {
    const answer = await post({ SAMLResponse: signed(), RelayState: `${RETURN_BASE}agent` });
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe(`${RETURN_BASE}agent?tokenvend=connected&integration=${SSO}`);
  });
});
