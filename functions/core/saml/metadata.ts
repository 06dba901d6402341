/**
 * The SP metadata an IdP admin imports (`GET /saml/{integration}/metadata`): our entity ID, the ACS
 * (HTTP-POST binding), the NameID formats, `WantAssertionsSigned="true"`, and the SP's signing and encryption
 * certificates when the integration's secret holds them. Built by node-saml's
 * `generateServiceProviderMetadata`; only the extra NameID formats are added to its document (it takes one).
 * https://docs.oasis-open.org/security/saml/v2.0/saml-metadata-2.0-os.pdf (2.4.4 SPSSODescriptor)
 */
import { generateServiceProviderMetadata } from '@node-saml/node-saml';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import type { SpKeys } from './sp-keys.js';

export const MD_NS = 'urn:oasis:names:tc:SAML:2.0:metadata';

/** The media type of SAML metadata (saml-metadata-2.0 4.1.1). */
export const METADATA_MEDIA_TYPE = 'application/samlmetadata+xml';

export interface SpMetadataInput {
  entityId: string;
  acsUrl: string;
  nameIdFormats: readonly string[];
  keys: SpKeys;
}

export function buildSpMetadata(input: SpMetadataInput): string {
  const [first, ...more] = input.nameIdFormats;
  const { signing, encryption } = input.keys;
  const xml = generateServiceProviderMetadata({
    issuer: input.entityId,
    callbackUrl: input.acsUrl,
    identifierFormat: first ?? null,
    wantAssertionsSigned: true,
    signMetadata: false,
    ...(signing
      ? { privateKey: signing.privateKey, publicCerts: signing.certificate, signatureAlgorithm: 'sha256' }
      : {}),
    ...(encryption ? { decryptionPvk: encryption.privateKey, decryptionCert: encryption.certificate } : {}),
  });
  if (more.length === 0) return xml;
  // saml-metadata 2.4.2 orders NameIDFormat elements together, before the AssertionConsumerService.
  const doc = new DOMParser().parseFromString(xml, 'text/xml') as unknown as Document;
  const sp = doc.getElementsByTagNameNS(MD_NS, 'SPSSODescriptor')[0];
  const anchor = sp && doc.getElementsByTagNameNS(MD_NS, 'NameIDFormat')[0];
  if (!sp || !anchor) throw new Error('node-saml metadata without SPSSODescriptor/NameIDFormat');
  let after: Node = anchor;
  for (const format of more) {
    const element = doc.createElementNS(MD_NS, 'NameIDFormat');
    element.appendChild(doc.createTextNode(format));
    sp.insertBefore(element, after.nextSibling);
    after = element;
  }
  return new XMLSerializer().serializeToString(doc as unknown as Node);
}
