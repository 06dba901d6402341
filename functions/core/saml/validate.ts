/**
 * Validation of a SAMLResponse posted to `POST /saml/{integration}/acs` (HTTP-POST binding, IdP-initiated
 * Web SSO) before it is exchanged at the vendor through the saml2-bearer grant (RFC 7522).
 *
 * Order: size (before any decoding), base64, strict XML without DTD, envelope (one Assertion anywhere,
 * algorithms, Destination, Issuer, Status), signature through node-saml with the pinned IdP certificate (also
 * Audience), then the signed assertion's Issuer, Recipient, time window and subject, InResponseTo (the
 * Response's agrees with the signed one), then the request it names is consumed (or, unsolicited, the
 * integration must allow IdP-initiated sign-in), and last the replay claim, so a response rejected for any
 * other reason never burns its assertion ID or its request.
 * https://www.rfc-editor.org/rfc/rfc7522#section-3;
 * https://docs.oasis-open.org/security/saml/v2.0/saml-profiles-2.0-os.pdf (4.1.4.5 replay)
 */
import { XMLSerializer } from '@xmldom/xmldom';
import { TokenvendError } from '../errors.js';
import type { AssertionReplayGuard } from '../ports.js';
import { readSignedAssertion, type SignedAssertion } from './assertion.js';
import {
  type CheckedSamlConfig,
  checkSamlConfig,
  resolveSamlConfig,
  type SamlIntegrationConfig,
  withIdpTrust,
} from './config.js';
import { decryptAssertion, encryptedAssertionOf } from './decrypt.js';
import { checkEnvelope, type ResponseEnvelope } from './envelope.js';
import { SamlTooLargeError, SamlValidationError } from './errors.js';
import type { IdpMetadataSource } from './idp-metadata.js';
import type { SamlRequestRecord, SamlRequestStore } from './requests.js';
import { verifySignedAssertion } from './signature.js';
import { containsCommentOrPi, parseStrict } from './xml.js';

/** Largest accepted SAMLResponse, counted in characters of the posted base64 (ASCII, so bytes). */
export const MAX_SAML_RESPONSE_BYTES = 256 * 1024;
/** Allowed clock difference with the IdP, applied to NotBefore and NotOnOrAfter. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;

/** Longest InResponseTo looked up (ours are 41 characters). */
const MAX_REQUEST_ID_LENGTH = 256;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface ValidateSamlOptions {
  now: Date;
  replay: AssertionReplayGuard;
  integration: string;
  clockSkewSeconds?: number;
  /**
   * The outstanding SP-initiated requests: a response whose signed InResponseTo names one of this integration
   * consumes it. Without a store every InResponseTo is refused.
   */
  requests?: SamlRequestStore | undefined;
  /**
   * The SP encryption key (PEM, `saml_encryption_key` of the integration's secret): an EncryptedAssertion is
   * decrypted with it and then checked like a plaintext one. Without it an EncryptedAssertion is refused.
   */
  decryptionKey?: string | undefined;
  /** Where an `idpMetadataUrl`'s document comes from (the per-container cache). */
  idpMetadata?: IdpMetadataSource | undefined;
}

export interface ValidatedAssertion {
  /** From NameID, or from the configured `subjectAttribute`; always read from signed content. */
  subject: string;
  assertionId: string;
  /** Epoch seconds: end of the assertion's validity (earliest of Conditions and bearer confirmation). */
  notOnOrAfter: number;
  issuer: string;
  sessionIndex?: string;
  attributes: Record<string, string[]>;
  /** The signed Assertion element (with its Signature) as XML, for RFC 7522 `base64`/`base64url` formats. */
  assertionXml: string;
  /**
   * The SAMLResponse as posted with whitespace removed: what Genesys Cloud takes as `assertion`. For an encrypted
   * assertion: the Response with the assertion decrypted in place and without a Response signature (base64).
   */
  samlResponse: string;
  /** Whether the assertion came encrypted (and was decrypted with the SP key). */
  encrypted: boolean;
  /** SP-initiated: the request the response answered (consumed); undefined for an IdP-initiated response. */
  request?: SamlRequestRecord;
}

function decode(posted: string): { samlResponse: string; xml: string } {
  const samlResponse = posted.replace(/\s+/g, '');
  if (samlResponse.length === 0 || !BASE64.test(samlResponse)) throw new SamlValidationError('encoding');
  return { samlResponse, xml: Buffer.from(samlResponse, 'base64').toString('utf8') };
}

/** Everything short of the replay claim; any non-typed failure (a parser or library bug) is a 400. */
async function check(
  posted: string,
  checked: CheckedSamlConfig,
  options: ValidateSamlOptions,
  skewSeconds: number,
): Promise<{
  samlResponse: string;
  envelope: ResponseEnvelope;
  assertion: SignedAssertion;
  checked: CheckedSamlConfig;
  encrypted: boolean;
}> {
  try {
    const decoded = decode(posted);
    let samlResponse = decoded.samlResponse;
    let doc = parseStrict(decoded.xml);
    const encrypted = encryptedAssertionOf(doc);
    if (encrypted) {
      // Nothing is decrypted from a document that fails the markup check (comments, PIs) as it was posted.
      if (containsCommentOrPi(doc)) throw new SamlValidationError('markup');
      const plaintext = await decryptAssertion(doc, encrypted, options.decryptionKey);
      // From here on the plaintext Response is what is checked and what is forwarded.
      samlResponse = Buffer.from(plaintext, 'utf8').toString('base64');
      doc = parseStrict(plaintext);
    }
    const envelope = checkEnvelope(doc, checked);
    const signedXml = await verifySignedAssertion(samlResponse, checked);
    const assertion = readSignedAssertion(signedXml, checked, {
      nowMs: options.now.getTime(),
      skewMs: skewSeconds * 1000,
    });
    // The element we forward must be the element whose signature was verified.
    if (assertion.id !== envelope.assertionId) throw new SamlValidationError('structure');
    // The Response's InResponseTo may be unsigned: it can only agree with the signed one, never stand alone.
    if (envelope.inResponseTo !== undefined && envelope.inResponseTo !== assertion.inResponseTo) {
      throw new SamlValidationError('in_response_to');
    }
    return { samlResponse, envelope, assertion, checked, encrypted: encrypted !== undefined };
  } catch (error) {
    if (error instanceof TokenvendError) throw error;
    throw new SamlValidationError('xml');
  }
}

/**
 * {@link check} with the IdP's trust: pinned, or from its metadata URL. When the signature fails against a
 * fetched document's certificates, the document is fetched again (rate-limited by the source) and, when it
 * changed (the IdP rolled over to a certificate published after our fetch), the response is checked once more.
 */
async function checkWithTrust(
  posted: string,
  base: CheckedSamlConfig,
  options: ValidateSamlOptions,
  skewSeconds: number,
): ReturnType<typeof check> {
  const checked = await resolveSamlConfig(base, options.idpMetadata, options.integration);
  try {
    return await check(posted, checked, options, skewSeconds);
  } catch (error) {
    const url = base.idpMetadataUrl;
    if (
      !(error instanceof SamlValidationError && error.check === 'signature' && url && options.idpMetadata)
    ) {
      throw error;
    }
    const renewed = await options.idpMetadata.renew(url, base.idpIssuer || undefined, options.integration);
    if (!renewed) throw error;
    return check(posted, withIdpTrust(base, renewed), options, skewSeconds);
  }
}

/**
 * Validates a posted SAMLResponse for one integration and records its assertion ID until it expires.
 * Throws {@link SamlTooLargeError} (413), {@link SamlValidationError} (400) or, for a bad integration config,
 * a ConfigError (500). Errors of the replay guard itself propagate unchanged.
 */
export async function validateSamlResponse(
  samlResponseBase64: string,
  config: SamlIntegrationConfig,
  options: ValidateSamlOptions,
): Promise<ValidatedAssertion> {
  if (samlResponseBase64.length > MAX_SAML_RESPONSE_BYTES)
    throw new SamlTooLargeError(MAX_SAML_RESPONSE_BYTES);
  const skewSeconds = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const { samlResponse, envelope, assertion, checked, encrypted } = await checkWithTrust(
    samlResponseBase64,
    checkSamlConfig(config, options.integration),
    options,
    skewSeconds,
  );

  const request = await solicitedBy(assertion.inResponseTo, checked, options);
  const notOnOrAfter = Math.ceil(assertion.notOnOrAfterMs / 1000);
  const fresh = await options.replay.claim(options.integration, assertion.id, notOnOrAfter + skewSeconds);
  if (!fresh) throw new SamlValidationError('replay');

  const validated: ValidatedAssertion = {
    subject: assertion.subject,
    assertionId: assertion.id,
    notOnOrAfter,
    issuer: assertion.issuer,
    attributes: assertion.attributes,
    assertionXml: new XMLSerializer().serializeToString(envelope.assertion),
    samlResponse,
    encrypted,
  };
  if (assertion.sessionIndex !== undefined) validated.sessionIndex = assertion.sessionIndex;
  if (request) validated.request = request;
  return validated;
}

/**
 * The request a response answers, consumed (single use, this integration, unexpired), or undefined for an
 * unsolicited response where the integration allows IdP-initiated sign-in. Checklist 21.
 */
async function solicitedBy(
  inResponseTo: string | undefined,
  config: CheckedSamlConfig,
  options: ValidateSamlOptions,
): Promise<SamlRequestRecord | undefined> {
  if (inResponseTo === undefined) {
    if (!config.allowIdpInitiated) throw new SamlValidationError('unsolicited');
    return undefined;
  }
  if (!options.requests || inResponseTo === '' || inResponseTo.length > MAX_REQUEST_ID_LENGTH) {
    throw new SamlValidationError('in_response_to');
  }
  const now = Math.floor(options.now.getTime() / 1000);
  const request = await options.requests.consume(inResponseTo, options.integration, now);
  if (!request || request.integration !== options.integration)
    throw new SamlValidationError('in_response_to');
  return request;
}
