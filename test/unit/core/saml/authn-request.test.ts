/**
 * SP-initiated login (`GET /saml/{integration}/login`): the AuthnRequest node-saml builds for the HTTP-Redirect
 * binding (schema-valid, naming our entity ID, the ACS, the NameID format and the stored ID; no RelayState, no
 * RequestedAuthnContext), signed with the SP key when the secret holds one (SAML bindings 3.4.4.1: the
 * signature covers the query string), and the request stored single use with a short TTL.
 */
import { execFileSync } from 'node:child_process';
import { createVerify } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { DOMParser } from '@xmldom/xmldom';
import { loadDeployment } from '../../../../functions/core/config/deployment.js';
import { DiscoveredProviders } from '../../../../functions/core/config/discovered-providers.js';
import { type SamlFlowDeps, startSamlLogin } from '../../../../functions/core/flows/saml-login.js';
import { SAML_REQUEST_TTL_SECONDS } from '../../../../functions/core/saml/requests.js';
import { MemorySamlRequestStore } from '../../../support/memory-saml-requests.js';
import { generateSigningKey, idpMetadataXml, type TestSigningKey } from '../../../support/saml-idp.js';

const PROTOCOL_SCHEMA = '/usr/share/simplesamlphp/schemas/saml-schema-protocol-2.0.xsd';
const BASE = 'https://tokens.example.com';
const SSO_URL = 'https://idp.corp.example/sso/saml?tenant=acme';
const SP = 'https://tokens.example.com/saml/genesys-eu';
const NOW = 1_770_000_000;

let idpKey: TestSigningKey;
let spKey: TestSigningKey;
let dir: string;

beforeAll(() => {
  idpKey = generateSigningKey('corp-idp');
  spKey = generateSigningKey('tokenvend-sp');
  dir = mkdtempSync(join(tmpdir(), 'tokenvend-authn-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function deps(options: { signing?: boolean; saml?: object } = {}) {
  const secret: Record<string, string> = { client_id: 'c', client_secret: 's' };
  if (options.signing) {
    secret.saml_signing_key = spKey.privateKey;
    secret.saml_signing_cert = spKey.cert;
  }
  const config = {
    returnUrls: ['https://agent.example.com/'],
    integrations: {
      'genesys-eu': {
        provider: {
          id: 'genesys-like',
          name: 'SAML bearer vendor',
          endpoints: { token: 'https://login.vendor.example/oauth/token' },
          grants: { saml2_bearer: { assertionFormat: 'response-base64' } },
        },
        secret,
        saml: {
          idpCert: idpKey.cert,
          idpIssuer: 'https://idp.corp.example',
          idpSsoUrl: SSO_URL,
          spEntityId: SP,
          nameIdFormats: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
          ...options.saml,
        },
      },
    },
  };
  const samlRequests = new MemorySamlRequestStore();
  const deployment = loadDeployment(config, { builtins: new Map(), local: true });
  const flowDeps = {
    deployment,
    providers: new DiscoveredProviders({ fetch, timeoutMs: 1000, allowInsecureLoopback: false }),
    secrets: { getClientSecret: async () => secret },
    samlRequests,
    now: () => NOW,
  } as unknown as SamlFlowDeps;
  return { flowDeps, samlRequests };
}

function decode(redirectUrl: string) {
  const url = new URL(redirectUrl);
  const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest') ?? '', 'base64')).toString();
  const request = (new DOMParser().parseFromString(xml, 'text/xml') as unknown as Document).documentElement;
  return { url, xml, request };
}

function xsdValidate(xml: string): void {
  if (!existsSync(PROTOCOL_SCHEMA))
    throw new Error(`${PROTOCOL_SCHEMA} is missing: apt-get install simplesamlphp`);
  const file = join(dir, `req-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  execFileSync('xmllint', ['--noout', '--nonet', '--schema', PROTOCOL_SCHEMA, file], { stdio: 'pipe' });
}

describe('GET /saml/{integration}/login', () => {
  it('sends an unsigned AuthnRequest to the IdP SSO URL and keeps its ID for ten minutes', async () => {
    const { flowDeps, samlRequests } = deps();
    const result = await startSamlLogin(flowDeps, { integration: 'genesys-eu', baseUrl: BASE });
    const { url, xml, request } = decode(result.redirectUrl);
    expect(`${url.origin}${url.pathname}`).toBe('https://idp.corp.example/sso/saml');
    expect(url.searchParams.get('tenant')).toBe('acme');
    expect([...url.searchParams.keys()].sort()).toEqual(['SAMLRequest', 'tenant']);
    expect(request.localName).toBe('AuthnRequest');
    expect(request.getAttribute('ID')).toBe(result.requestId);
    expect(result.requestId).toMatch(/^_[0-9a-f]{40}$/);
    expect(request.getAttribute('Destination')).toBe(SSO_URL);
    expect(request.getAttribute('AssertionConsumerServiceURL')).toBe(`${BASE}/saml/genesys-eu/acs`);
    expect(request.getAttribute('ProtocolBinding')).toBe('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    expect(
      request.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Issuer')[0]?.textContent,
    ).toBe(SP);
    const policy = request.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:protocol', 'NameIDPolicy')[0];
    expect(policy?.getAttribute('Format')).toBe('urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress');
    expect(xml).not.toContain('RequestedAuthnContext');
    xsdValidate(xml);
    expect(result.expiresAt).toBe(NOW + SAML_REQUEST_TTL_SECONDS);
    expect(SAML_REQUEST_TTL_SECONDS).toBeLessThanOrEqual(600);
    expect(await samlRequests.consume(result.requestId, 'genesys-eu', NOW)).toEqual({
      integration: 'genesys-eu',
      returnTo: undefined,
      createdAt: NOW,
    });
  });

  it('signs the redirect with the SP key of the secret (RSA-SHA256 over the query string)', async () => {
    const { flowDeps } = deps({ signing: true });
    const result = await startSamlLogin(flowDeps, { integration: 'genesys-eu', baseUrl: BASE });
    const { url, xml } = decode(result.redirectUrl);
    expect(url.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    // The signed octets: SAMLRequest=...&SigAlg=... exactly as they appear in the query (bindings 3.4.4.1).
    const query = url.search.slice(1).split('&');
    const signed = ['SAMLRequest', 'SigAlg']
      .map((name) => query.find((part) => part.startsWith(`${name}=`)))
      .join('&');
    const verifier = createVerify('RSA-SHA256');
    verifier.update(signed);
    expect(verifier.verify(spKey.cert, url.searchParams.get('Signature') ?? '', 'base64')).toBe(true);
    xsdValidate(xml);
  });

  it('keeps an allow-listed return_to with the request, and refuses one off the list before storing', async () => {
    const { flowDeps, samlRequests } = deps();
    const returnTo = 'https://agent.example.com/connected';
    const result = await startSamlLogin(flowDeps, { integration: 'genesys-eu', baseUrl: BASE, returnTo });
    expect(new URL(result.redirectUrl).searchParams.has('RelayState')).toBe(false);
    expect(await samlRequests.consume(result.requestId, 'genesys-eu', NOW)).toMatchObject({ returnTo });
    await expect(
      startSamlLogin(flowDeps, {
        integration: 'genesys-eu',
        baseUrl: BASE,
        returnTo: 'https://evil.example/',
      }),
    ).rejects.toMatchObject({ status: 400, error: 'invalid_request' });
    expect(samlRequests.consumed).toHaveLength(1);
  });

  it("takes the IdP's HTTP-Redirect SSO URL from its metadata", async () => {
    const metadata = idpMetadataXml({
      entityId: 'https://idp.corp.example',
      signing: [idpKey],
      ssoUrl: 'https://idp.corp.example/from-metadata',
    });
    const { flowDeps } = deps({
      saml: { idpCert: undefined, idpIssuer: undefined, idpSsoUrl: undefined, idpMetadataXml: metadata },
    });
    const result = await startSamlLogin(flowDeps, { integration: 'genesys-eu', baseUrl: BASE });
    const { url, request } = decode(result.redirectUrl);
    expect(`${url.origin}${url.pathname}`).toBe('https://idp.corp.example/from-metadata');
    expect(request.getAttribute('Destination')).toBe('https://idp.corp.example/from-metadata');
  });

  it('is a 404 for an integration without an IdP sign-in URL, or without SAML', async () => {
    const { flowDeps } = deps({ saml: { idpSsoUrl: undefined } });
    await expect(
      startSamlLogin(flowDeps, { integration: 'genesys-eu', baseUrl: BASE }),
    ).rejects.toMatchObject({
      status: 404,
      error: 'unknown_integration',
    });
    await expect(startSamlLogin(flowDeps, { integration: 'nope', baseUrl: BASE })).rejects.toMatchObject({
      status: 404,
    });
  });
});
