/**
 * SP metadata (`GET /saml/{integration}/metadata`): what an IdP imports. Checked two ways: the structure with
 * xmldom (entity ID, ACS, NameID formats, certificates, element order), and the whole document against the SAML
 * metadata XSD (saml-schema-metadata-2.0.xsd with its imports, as SimpleSAMLphp ships them in Debian) with
 * xmllint. No npm package here ships the XSD; scripts/test-prereqs.sh installs both.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { ConfigError } from '../../../../functions/core/errors.js';
import { buildSpMetadata, MD_NS } from '../../../../functions/core/saml/metadata.js';
import { spKeysOf } from '../../../../functions/core/saml/sp-keys.js';
import { generateSigningKey, type TestSigningKey } from '../../../support/saml-idp.js';

const SCHEMA = '/usr/share/simplesamlphp/schemas/saml-schema-metadata-2.0.xsd';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const ENTITY = 'https://tokens.example.com/saml/genesys-eu';
const ACS = 'https://tokens.example.com/saml/genesys-eu/acs';
const EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

let signing: TestSigningKey;
let encryption: TestSigningKey;
let dir: string;

beforeAll(() => {
  signing = generateSigningKey('tokenvend-sp-signing');
  encryption = generateSigningKey('tokenvend-sp-encryption');
  dir = mkdtempSync(join(tmpdir(), 'tokenvend-md-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const secret = (extra: Record<string, string> = {}) => ({ client_id: 'c', client_secret: 's', ...extra });
const withKeys = () =>
  secret({
    saml_signing_key: signing.privateKey,
    saml_signing_cert: signing.cert,
    saml_encryption_key: encryption.privateKey,
    saml_encryption_cert: encryption.certBase64,
  });

function parse(xml: string): Element {
  const doc = new DOMParser().parseFromString(xml, 'text/xml') as unknown as Document;
  return doc.documentElement;
}

const childElements = (el: Element) =>
  Array.from(el.childNodes).filter((n): n is Element => n.nodeType === 1);

/** Validates `xml` against the SAML metadata schema; returns xmllint's verdict. */
function xsdValidate(xml: string): string {
  if (!existsSync(SCHEMA)) {
    throw new Error(`${SCHEMA} is missing: apt-get install simplesamlphp (scripts/test-prereqs.sh)`);
  }
  const file = join(dir, `md-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  try {
    return execFileSync('xmllint', ['--noout', '--nonet', '--schema', SCHEMA, file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const e = error as { stderr?: string; code?: string };
    if (e.code === 'ENOENT') throw new Error('xmllint is missing: apt-get install libxml2-utils');
    throw new Error(`not valid against the SAML metadata schema: ${e.stderr}`);
  }
}

describe('SP metadata', () => {
  it('names the entity, the ACS (HTTP-POST), the NameID format and wants signed assertions', () => {
    const xml = buildSpMetadata({
      entityId: ENTITY,
      acsUrl: ACS,
      nameIdFormats: [EMAIL],
      keys: spKeysOf(secret(), 'genesys-eu'),
    });
    const root = parse(xml);
    expect([root.namespaceURI, root.localName, root.getAttribute('entityID')]).toEqual([
      MD_NS,
      'EntityDescriptor',
      ENTITY,
    ]);
    const [sp, ...others] = childElements(root);
    expect(others).toEqual([]);
    expect([sp?.namespaceURI, sp?.localName]).toEqual([MD_NS, 'SPSSODescriptor']);
    expect(sp?.getAttribute('protocolSupportEnumeration')).toBe('urn:oasis:names:tc:SAML:2.0:protocol');
    expect(sp?.getAttribute('WantAssertionsSigned')).toBe('true');
    expect(sp?.getAttribute('AuthnRequestsSigned')).toBe('false');
    expect(childElements(sp!).map((e) => e.localName)).toEqual(['NameIDFormat', 'AssertionConsumerService']);
    const acs = sp!.getElementsByTagNameNS(MD_NS, 'AssertionConsumerService')[0]!;
    expect({
      binding: acs.getAttribute('Binding'),
      location: acs.getAttribute('Location'),
      index: acs.getAttribute('index'),
    }).toEqual({ binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', location: ACS, index: '1' });
    expect(xsdValidate(xml)).toBe('');
  });

  it('publishes the signing and encryption certificates of the secret, and every NameID format in order', () => {
    const xml = buildSpMetadata({
      entityId: ENTITY,
      acsUrl: ACS,
      nameIdFormats: [PERSISTENT, EMAIL],
      keys: spKeysOf(withKeys(), 'genesys-eu'),
    });
    const sp = parse(xml).getElementsByTagNameNS(MD_NS, 'SPSSODescriptor')[0]!;
    expect(sp.getAttribute('AuthnRequestsSigned')).toBe('true');
    expect(childElements(sp).map((e) => e.localName)).toEqual([
      'KeyDescriptor',
      'KeyDescriptor',
      'NameIDFormat',
      'NameIDFormat',
      'AssertionConsumerService',
    ]);
    const certs = Object.fromEntries(
      Array.from(sp.getElementsByTagNameNS(MD_NS, 'KeyDescriptor')).map((kd) => [
        kd.getAttribute('use'),
        kd.getElementsByTagNameNS(DSIG, 'X509Certificate')[0]?.textContent?.replace(/\s+/g, ''),
      ]),
    );
    expect(certs).toEqual({ signing: signing.certBase64, encryption: encryption.certBase64 });
    expect(Array.from(sp.getElementsByTagNameNS(MD_NS, 'NameIDFormat')).map((e) => e.textContent)).toEqual([
      PERSISTENT,
      EMAIL,
    ]);
    // No private key material in the document, whatever its encoding.
    const keyBody = (pem: string) => pem.replace(/-----[^-]+-----|\s+/g, '').slice(20, 80);
    expect(xml).not.toContain(keyBody(signing.privateKey));
    expect(xml).not.toContain(keyBody(encryption.privateKey));
    expect(xsdValidate(xml)).toBe('');
  });

  it('escapes what the config holds', () => {
    const xml = buildSpMetadata({
      entityId: 'urn:x:a&b<c>"d"',
      acsUrl: `${ACS}?a=1&b=2`,
      nameIdFormats: [EMAIL, 'urn:x:<evil/>'],
      keys: {},
    });
    const root = parse(xml);
    expect(root.getAttribute('entityID')).toBe('urn:x:a&b<c>"d"');
    expect(root.getElementsByTagNameNS(MD_NS, 'NameIDFormat')[1]?.textContent).toBe('urn:x:<evil/>');
    expect(root.getElementsByTagName('evil')).toHaveLength(0);
    expect(xsdValidate(xml)).toBe('');
  });
});

describe('SP keys in the secret', () => {
  it('are optional', () => {
    expect(spKeysOf(secret(), 'x')).toEqual({ signing: undefined, encryption: undefined });
  });

  it.each([
    ['a key without its certificate', () => secret({ saml_signing_key: signing.privateKey }), /go together/],
    ['a certificate without its key', () => secret({ saml_encryption_cert: encryption.cert }), /go together/],
    [
      'a certificate of another key',
      () => secret({ saml_signing_key: signing.privateKey, saml_signing_cert: encryption.cert }),
      /saml_signing_cert is not the certificate of saml_signing_key/,
    ],
    [
      'a key that does not parse',
      () => secret({ saml_signing_key: signing.privateKey.slice(0, 120), saml_signing_cert: signing.cert }),
      /saml_signing_key: not a PEM private key/,
    ],
    [
      'a certificate that does not parse',
      () => secret({ saml_encryption_key: encryption.privateKey, saml_encryption_cert: 'MIIB' }),
      /saml_encryption_cert: not an X\.509 certificate/,
    ],
  ])('refuse %s with a ConfigError naming the field, never the value', (_name, make, message) => {
    const value = make();
    let error: unknown;
    try {
      spKeysOf(value, 'genesys-eu');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^integration genesys-eu: secret: /);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toMatch(/MII|BEGIN/);
  });
});
