/**
 * Errors of the SAML ACS. Messages name the check that failed and nothing else: no assertion, NameID,
 * attribute, signature or certificate value ever reaches a message (they may be logged or shown).
 * Library errors are deliberately not attached as `cause`: node-saml and xml-crypto messages can echo
 * audiences, signature values or parts of the document.
 */
import { TokenvendError } from '../errors.js';

/** The check a SAML response failed; stable identifiers, safe for metrics and logs. */
export type SamlCheck =
  | 'encoding'
  | 'xml'
  | 'markup'
  | 'structure'
  | 'signature'
  | 'decryption'
  | 'signature_algorithm'
  | 'issuer'
  | 'destination'
  | 'audience'
  | 'recipient'
  | 'time_window'
  | 'status'
  | 'in_response_to'
  | 'unsolicited'
  | 'subject'
  | 'replay';

const DESCRIPTIONS: Record<SamlCheck, string> = {
  encoding: 'SAMLResponse is not valid base64',
  xml: 'SAMLResponse is not well-formed XML within the limits (no DTD, bounded nesting and size)',
  markup: 'SAMLResponse must not contain comments or processing instructions',
  structure: 'SAMLResponse must be a Response with exactly one Assertion',
  signature: 'assertion signature is missing or not made by the pinned IdP certificate',
  decryption: 'the encrypted assertion could not be decrypted with this service provider key',
  signature_algorithm: 'signature or digest algorithm is not allowed',
  issuer: 'issuer does not match the configured IdP',
  destination: 'Destination does not match this ACS',
  audience: 'audience does not name this service provider',
  recipient: 'no bearer subject confirmation for this ACS',
  time_window: 'assertion is not yet valid or has expired',
  status: 'status is not Success',
  in_response_to: 'InResponseTo does not name an outstanding sign-in request of this service',
  unsolicited: 'sign-in must start at this service: unsolicited responses are not accepted',
  subject: 'subject is missing or ambiguous',
  replay: 'assertion was already used',
};

/**
 * A SAML response was rejected. Always 400 `invalid_request`; `check` says which rule failed.
 * https://docs.oasis-open.org/security/saml/v2.0/saml-profiles-2.0-os.pdf (4.1.4.3 Response usage)
 */
export class SamlValidationError extends TokenvendError {
  readonly check: SamlCheck;

  constructor(check: SamlCheck) {
    super(`SAML response rejected: ${DESCRIPTIONS[check]}`, { error: 'invalid_request', status: 400 });
    this.check = check;
  }
}

/** The posted SAMLResponse exceeds the size limit; refused before any parsing. */
export class SamlTooLargeError extends TokenvendError {
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super(`SAMLResponse exceeds ${limitBytes} bytes`, { error: 'invalid_request', status: 413 });
    this.limitBytes = limitBytes;
  }
}
