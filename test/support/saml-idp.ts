/**
 * A throwaway SAML IdP for tests: an RSA key and self-signed certificate made at test time with the openssl
 * CLI (node:crypto cannot issue X.509 certificates), and SAML Responses signed with xml-crypto's SignedXml
 * (enveloped, exclusive c14n, rsa-sha256), with a knob for every attack the ACS must reject.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SignedXml } from 'xml-crypto';
import xmlenc from 'xml-encryption';

export interface TestSigningKey {
  /** PKCS#8 PEM. */
  readonly privateKey: string;
  /** Self-signed certificate, PEM. */
  readonly cert: string;
  /** The same certificate as bare base64 DER (how IdP metadata carries it). */
  readonly certBase64: string;
}

/** A fresh 2048-bit RSA key and a one-day self-signed certificate. */
export function generateSigningKey(commonName = 'tokenvend-test-idp'): TestSigningKey {
  const dir = mkdtempSync(join(tmpdir(), 'tokenvend-saml-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1'];
    args.push('-subj', `/CN=${commonName}`, '-keyout', keyFile, '-out', certFile);
    try {
      execFileSync('openssl', args, { stdio: 'ignore' });
    } catch (error) {
      throw new Error('the test SAML IdP needs the openssl CLI (Debian: apt-get install openssl)', {
        cause: error,
      });
    }
    const cert = readFileSync(certFile, 'utf8');
    const certBase64 = cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
    return { privateKey: readFileSync(keyFile, 'utf8'), cert, certBase64 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const NS_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const NS_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const ALGORITHMS = {
  'rsa-sha256': {
    signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    digest: 'http://www.w3.org/2001/04/xmlenc#sha256',
  },
  'rsa-sha512': {
    signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
    digest: 'http://www.w3.org/2001/04/xmlenc#sha512',
  },
  'rsa-sha1': {
    signature: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    digest: 'http://www.w3.org/2000/09/xmldsig#sha1',
  },
} as const;
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const EXC_C14N_COMMENTS = 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** How a test attacker wraps the signed assertion next to an unsigned evil one (XML Signature Wrapping). */
export type WrapAttack =
  /** Signed assertion moved into samlp:Extensions; the evil assertion is the Response's child. */
  | 'extensions'
  /** Evil assertion carries the original Signature, the signed assertion sits in that Signature's ds:Object. */
  | 'signature-object'
  /** Signed assertion first, evil second, as siblings. */
  | 'sibling-after'
  /** Evil assertion first, signed second, as siblings. */
  | 'sibling-before'
  /** Evil assertion reuses the signed assertion's ID, placed first. */
  | 'same-id';

export interface SamlResponseOptions {
  /** Reference time for the default validity window (NotBefore now-60 s, NotOnOrAfter now+300 s). */
  now: Date;
  issuer?: string;
  /** Issuer of the Response element; `null` omits it. Defaults to `issuer`. */
  responseIssuer?: string | null;
  /** `null` omits Destination. */
  destination?: string | null;
  audience?: string;
  /** `null` omits the bearer SubjectConfirmation entirely. */
  recipient?: string | null;
  subjectConfirmationMethod?: string;
  nameId?: string;
  /** Raw XML placed inside NameID (not escaped): comments, processing instructions. */
  nameIdXml?: string;
  attributes?: Record<string, string[]>;
  /** `null` omits the attribute. */
  notBefore?: Date | null;
  notOnOrAfter?: Date | null;
  subjectNotOnOrAfter?: Date | null;
  status?: string;
  assertionId?: string;
  /** InResponseTo of the bearer SubjectConfirmationData (signed) and, unless overridden, of the Response. */
  inResponseTo?: string;
  /** InResponseTo of the Response element only (unsigned unless `signResponse`); `null` omits it. */
  responseInResponseTo?: string | null;
  signAssertion?: boolean;
  signResponse?: boolean;
  /** Who signs; defaults to the IdP's key. */
  signer?: TestSigningKey;
  /** Certificate published in KeyInfo; defaults to the signer's; `null` leaves KeyInfo out. */
  keyInfoCert?: TestSigningKey | null;
  algorithm?: keyof typeof ALGORITHMS;
  /** Sign with the comment-preserving exclusive c14n. */
  withComments?: boolean;
  wrap?: WrapAttack;
  /** Edits the final XML after signing (tampering, DOCTYPE injection, comment insertion). */
  mutate?: (xml: string) => string;
}

export interface EncryptionOptions {
  /** The SP's encryption key pair: the assertion is encrypted to its certificate. */
  to: TestSigningKey;
  dataAlgorithm?: xmlenc.EncryptionAlgorithm;
  keyAlgorithm?: xmlenc.KeyEncryptionAlgorithm;
}

function escapeXml(value: string): string {
  return value.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function iso(date: Date): string {
  return date.toISOString();
}

function timeAttr(name: string, value: Date | null): string {
  return value === null ? '' : ` ${name}="${iso(value)}"`;
}

export function newId(): string {
  return `_${randomBytes(16).toString('hex')}`;
}

export interface TestIdpSettings {
  key: TestSigningKey;
  issuer: string;
  /** SP entity ID: the Audience. */
  audience: string;
  /** ACS URL: Destination and Recipient. */
  acsUrl: string;
}

export class TestIdp {
  constructor(readonly settings: TestIdpSettings) {}

  /** A base64 SAMLResponse as an IdP posts it (the base64 is wrapped at 76 characters, as many IdPs do). */
  buildResponse(options: SamlResponseOptions): string {
    const b64 = Buffer.from(this.buildResponseXml(options), 'utf8').toString('base64');
    return b64.replace(/.{76}/g, '$&\r\n');
  }

  buildResponseXml(o: SamlResponseOptions): string {
    const s = this.settings;
    const issuer = o.issuer ?? s.issuer;
    const assertionId = o.assertionId ?? newId();
    let signed = this.assertionXml(o, assertionId, o.nameIdXml ?? escapeXml(o.nameId ?? 'alice@corp.com'));
    if (o.signAssertion ?? true) signed = this.sign(signed, 'Assertion', o);
    let assertion: { body: string; extensions?: string } = { body: signed };
    if (o.wrap) {
      const evil = this.assertionXml(o, o.wrap === 'same-id' ? assertionId : newId(), 'admin@corp.com');
      assertion = wrapAssertion(o.wrap, signed, evil);
    }
    const responseIssuer = o.responseIssuer === undefined ? issuer : o.responseIssuer;
    const destination = o.destination === undefined ? s.acsUrl : o.destination;
    const extensions = assertion.extensions ?? '';
    const responseInResponseTo =
      o.responseInResponseTo === undefined ? o.inResponseTo : o.responseInResponseTo;
    let xml =
      `<samlp:Response xmlns:samlp="${NS_PROTOCOL}" xmlns:saml="${NS_ASSERTION}" ID="${newId()}" Version="2.0"` +
      ` IssueInstant="${iso(o.now)}"${destination === null ? '' : ` Destination="${escapeXml(destination)}"`}` +
      `${typeof responseInResponseTo === 'string' ? ` InResponseTo="${escapeXml(responseInResponseTo)}"` : ''}>` +
      `${responseIssuer === null ? '' : `<saml:Issuer>${escapeXml(responseIssuer)}</saml:Issuer>`}` +
      `${extensions}` +
      `<samlp:Status><samlp:StatusCode Value="${o.status ?? SUCCESS}"/></samlp:Status>` +
      `${assertion.body}</samlp:Response>`;
    if (o.signResponse) xml = this.sign(xml, 'Response', o);
    return o.mutate ? o.mutate(xml) : xml;
  }

  /**
   * A response whose signed assertion is encrypted to `to` (an SP encryption certificate) as an
   * `EncryptedAssertion`, the way an IdP encrypts to the certificate of the SP's metadata (xml-encryption).
   * With `signResponse`, the Response is signed after encryption, over the ciphertext.
   */
  async buildEncryptedResponse(options: SamlResponseOptions & EncryptionOptions): Promise<string> {
    const { to, dataAlgorithm, keyAlgorithm, signResponse, mutate, ...rest } = options;
    const plain = this.buildResponseXml({ ...rest, signResponse: false });
    const assertion = /<saml:Assertion [\s\S]*<\/saml:Assertion>/.exec(plain)?.[0];
    if (!assertion) throw new Error('no assertion to encrypt');
    const encrypt = promisify(xmlenc.encrypt) as (
      content: string,
      o: xmlenc.EncryptOptions,
    ) => Promise<string>;
    const encrypted = await encrypt(assertion, {
      rsa_pub: createPublicKey(to.cert).export({ type: 'spki', format: 'pem' }).toString(),
      pem: to.cert,
      encryptionAlgorithm: dataAlgorithm ?? 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
      keyEncryptionAlgorithm: keyAlgorithm ?? 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
      warnInsecureAlgorithm: false,
    });
    let xml = plain.replace(assertion, `<saml:EncryptedAssertion>${encrypted}</saml:EncryptedAssertion>`);
    if (signResponse) xml = this.sign(xml, 'Response', options);
    if (mutate) xml = mutate(xml);
    const b64 = Buffer.from(xml, 'utf8').toString('base64');
    return b64.replace(/.{76}/g, '$&\r\n');
  }

  private assertionXml(o: SamlResponseOptions, id: string, nameIdContent: string): string {
    const s = this.settings;
    const notBefore = o.notBefore === undefined ? new Date(o.now.getTime() - 60_000) : o.notBefore;
    const notOnOrAfter = o.notOnOrAfter === undefined ? new Date(o.now.getTime() + 300_000) : o.notOnOrAfter;
    const subjectEnd = o.subjectNotOnOrAfter === undefined ? notOnOrAfter : o.subjectNotOnOrAfter;
    const recipient = o.recipient === undefined ? s.acsUrl : o.recipient;
    const method = o.subjectConfirmationMethod ?? 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
    const confirmation =
      recipient === null
        ? ''
        : `<saml:SubjectConfirmation Method="${method}"><saml:SubjectConfirmationData` +
          `${timeAttr('NotOnOrAfter', subjectEnd)} Recipient="${escapeXml(recipient)}"` +
          `${o.inResponseTo !== undefined ? ` InResponseTo="${escapeXml(o.inResponseTo)}"` : ''}/></saml:SubjectConfirmation>`;
    const attributes = Object.entries(o.attributes ?? {})
      .map(
        ([name, values]) =>
          `<saml:Attribute Name="${escapeXml(name)}">` +
          values.map((v) => `<saml:AttributeValue>${escapeXml(v)}</saml:AttributeValue>`).join('') +
          '</saml:Attribute>',
      )
      .join('');
    return (
      `<saml:Assertion xmlns:saml="${NS_ASSERTION}" ID="${id}" Version="2.0" IssueInstant="${iso(o.now)}">` +
      `<saml:Issuer>${escapeXml(o.issuer ?? s.issuer)}</saml:Issuer>` +
      `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">` +
      `${nameIdContent}</saml:NameID>${confirmation}</saml:Subject>` +
      `<saml:Conditions${timeAttr('NotBefore', notBefore)}${timeAttr('NotOnOrAfter', notOnOrAfter)}>` +
      `<saml:AudienceRestriction><saml:Audience>${escapeXml(o.audience ?? s.audience)}</saml:Audience>` +
      `</saml:AudienceRestriction></saml:Conditions>` +
      `<saml:AuthnStatement AuthnInstant="${iso(o.now)}" SessionIndex="_session-1"><saml:AuthnContext>` +
      `<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport` +
      `</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
      `${attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : ''}` +
      `</saml:Assertion>`
    );
  }

  /** Enveloped signature over the root `element`, placed after its Issuer as the SAML schema requires. */
  private sign(xml: string, element: 'Assertion' | 'Response', o: SamlResponseOptions): string {
    const signer = o.signer ?? this.settings.key;
    const keyInfo = o.keyInfoCert === undefined ? signer : o.keyInfoCert;
    const algorithm = ALGORITHMS[o.algorithm ?? 'rsa-sha256'];
    const c14n = o.withComments ? EXC_C14N_COMMENTS : EXC_C14N;
    const sig = new SignedXml({
      privateKey: signer.privateKey,
      ...(keyInfo ? { publicCert: keyInfo.cert } : {}),
      signatureAlgorithm: algorithm.signature,
      canonicalizationAlgorithm: EXC_C14N,
    });
    sig.addReference({
      xpath: `/*[local-name(.)='${element}']`,
      digestAlgorithm: algorithm.digest,
      transforms: [ENVELOPED, c14n],
    });
    sig.computeSignature(xml, {
      prefix: 'ds',
      location: { reference: `/*/*[local-name(.)='Issuer']`, action: 'after' },
    });
    return sig.getSignedXml();
  }
}

function extractSignature(signedAssertion: string): { signature: string; rest: string } {
  const match = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signedAssertion);
  if (!match) throw new Error('wrap attacks need a signed assertion');
  return { signature: match[0], rest: signedAssertion.replace(match[0], '') };
}

function wrapAssertion(
  wrap: WrapAttack,
  signed: string,
  evil: string,
): { body: string; extensions?: string } {
  switch (wrap) {
    case 'extensions':
      return { body: evil, extensions: `<samlp:Extensions>${signed}</samlp:Extensions>` };
    case 'signature-object': {
      const { signature, rest } = extractSignature(signed);
      const carried = signature.replace('</ds:Signature>', `<ds:Object>${rest}</ds:Object></ds:Signature>`);
      return { body: evil.replace('</saml:Issuer>', `</saml:Issuer>${carried}`) };
    }
    case 'sibling-after':
      return { body: signed + evil };
    case 'sibling-before':
    case 'same-id':
      return { body: evil + signed };
  }
}

export interface IdpMetadataOptions {
  entityId: string;
  /** Signing certificates (KeyDescriptor use="signing"), in order. */
  signing: TestSigningKey[];
  /** A certificate published for encryption only (use="encryption"): never trusted for signatures. */
  encryption?: TestSigningKey;
  /** A certificate in a KeyDescriptor without `use` (signing and encryption, saml-metadata 2.4.1.1). */
  unspecified?: TestSigningKey;
  /** HTTP-Redirect SingleSignOnService Location. */
  ssoUrl?: string;
}

/** The IdP's SAML metadata as an IdP publishes it (an EntityDescriptor with one IDPSSODescriptor). */
export function idpMetadataXml(o: IdpMetadataOptions): string {
  return `<?xml version="1.0"?>${idpEntityDescriptor(o)}`;
}

/** One IdP's EntityDescriptor element (for EntitiesDescriptor aggregates). */
export function idpEntityDescriptor(o: IdpMetadataOptions): string {
  const key = (use: string | undefined, k: TestSigningKey) =>
    `<md:KeyDescriptor${use ? ` use="${use}"` : ''}><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">` +
    `<ds:X509Data><ds:X509Certificate>${k.certBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>` +
    `</md:KeyDescriptor>`;
  const keys = [
    ...o.signing.map((k) => key('signing', k)),
    ...(o.encryption ? [key('encryption', o.encryption)] : []),
    ...(o.unspecified ? [key(undefined, o.unspecified)] : []),
  ].join('');
  const sso = o.ssoUrl
    ? `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${escapeXml(o.ssoUrl)}/post"/>` +
      `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeXml(o.ssoUrl)}"/>`
    : '';
  return (
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${escapeXml(o.entityId)}">` +
    `<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
    `${keys}<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>${sso}` +
    `</md:IDPSSODescriptor></md:EntityDescriptor>`
  );
}
