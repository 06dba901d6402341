/**
 * Encrypted assertions (saml-core 2.3.4, 6): an integration whose secret holds an SP encryption key
 * (`saml_encryption_key`) accepts a Response whose one assertion is an `EncryptedAssertion`. It is decrypted
 * with node-saml (`decryptXml`, xml-encryption underneath) and put back in place of the `EncryptedAssertion`;
 * the Response then goes through every check a plaintext one does (structure, markup, algorithms, the
 * assertion's own signature by the pinned IdP certificate, ...). The Response's own signature, if any, covered
 * the ciphertext and cannot be verified on the plaintext: it is removed (the assertion signature is required
 * anyway). Anything wrong (no key, another key, an algorithm off the list, content that is not exactly one
 * SAML Assertion) is one refusal, `decryption`, with the same words whatever failed, so the answer is no
 * padding or key-transport oracle.
 *
 * Algorithms: RSA-OAEP key transport (never RSA PKCS#1 v1.5, https://www.w3.org/TR/xmlenc-core1/#rsav15note),
 * AES-128/256 in GCM or CBC for the data (never 3DES).
 */

import { decryptXml } from '@node-saml/node-saml/lib/xml.js';
import { XMLSerializer } from '@xmldom/xmldom';
import { SamlValidationError } from './errors.js';
import { children, descendants, isElement, NS, parseStrict } from './xml.js';

const ALLOWED_ENCRYPTION = new Set([
  'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
  'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
  'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
]);

/** The Response's one EncryptedAssertion (a direct child), or undefined when it has none. */
export function encryptedAssertionOf(doc: Document): Element | undefined {
  const response = doc.documentElement;
  if (!isElement(response, NS.protocol, 'Response')) return undefined;
  // Only when it is the one assertion candidate of the whole document; anything else fails the structure check.
  const found = descendants(response, null, 'EncryptedAssertion');
  const candidate = found[0];
  if (found.length !== 1 || descendants(response, null, 'Assertion').length > 0) return undefined;
  if (!isElement(candidate, NS.assertion, 'EncryptedAssertion')) return undefined;
  return candidate.parentNode === response ? candidate : undefined;
}

/**
 * Replaces `encrypted` (in `doc`) by its decrypted Assertion and drops the Response's own signature; returns
 * the plaintext Response as XML. Throws `decryption` for every failure.
 */
export async function decryptAssertion(
  doc: Document,
  encrypted: Element,
  privateKey: string | undefined,
): Promise<string> {
  if (!privateKey) throw new SamlValidationError('decryption');
  for (const method of descendants(encrypted, null, 'EncryptionMethod')) {
    if (!ALLOWED_ENCRYPTION.has(method.getAttribute('Algorithm') ?? '')) {
      throw new SamlValidationError('decryption');
    }
  }
  let plaintext: string;
  try {
    plaintext = await decryptXml(new XMLSerializer().serializeToString(encrypted), privateKey);
  } catch {
    throw new SamlValidationError('decryption');
  }
  let assertion: Element;
  try {
    assertion = parseStrict(plaintext).documentElement;
  } catch {
    throw new SamlValidationError('decryption');
  }
  if (!isElement(assertion, NS.assertion, 'Assertion')) throw new SamlValidationError('decryption');
  const response = doc.documentElement;
  response.replaceChild(doc.importNode(assertion, true), encrypted);
  for (const signature of children(response, NS.dsig, 'Signature')) response.removeChild(signature);
  return new XMLSerializer().serializeToString(doc);
}
