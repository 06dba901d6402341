/**
 * Checks on the Response around the assertion, made before any signature work: one root Response, exactly
 * one Assertion in the whole document (the XSW defence: no second candidate anywhere, not even inside
 * Extensions or a ds:Object), no comments or processing instructions, allowed algorithms, Destination, Issuer
 * and Status. The Response's InResponseTo is only read here: it must agree with the signed assertion's
 * (validate.ts).
 * The Response may be unsigned (most IdPs sign only the assertion), so nothing here is trusted for identity;
 * these checks only ever reject.
 * https://docs.oasis-open.org/security/saml/v2.0/saml-profiles-2.0-os.pdf (4.1.4.2, 4.1.4.3);
 * https://docs.oasis-open.org/security/saml/v2.0/saml-core-2.0-os.pdf (3.2.2 Destination)
 */
import type { AlgorithmPolicy, CheckedSamlConfig } from './config.js';
import { SamlValidationError } from './errors.js';
import {
  attr,
  children,
  containsCommentOrPi,
  descendants,
  isElement,
  NS,
  optionalChild,
  pureText,
} from './xml.js';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

export interface ResponseEnvelope {
  readonly response: Element;
  /** The one Assertion element, a direct child of the Response. */
  readonly assertion: Element;
  readonly assertionId: string;
  /** The Response's `InResponseTo` (unsigned unless the Response is signed): never trusted on its own. */
  readonly inResponseTo: string | undefined;
}

/** Every SignatureMethod and DigestMethod below `root`, in any namespace, must be allowed by `policy`. */
export function checkAlgorithms(root: Element, policy: AlgorithmPolicy): void {
  const methods: [string, ReadonlySet<string>][] = [
    ['SignatureMethod', policy.signature],
    ['DigestMethod', policy.digest],
  ];
  for (const [name, allowed] of methods) {
    for (const el of descendants(root, null, name)) {
      if (!allowed.has(attr(el, 'Algorithm') ?? '')) throw new SamlValidationError('signature_algorithm');
    }
  }
}

function checkStatus(response: Element): void {
  const status = optionalChild(response, NS.protocol, 'Status', 'status');
  const code = status && optionalChild(status, NS.protocol, 'StatusCode', 'status');
  if (!code || attr(code, 'Value') !== SUCCESS) throw new SamlValidationError('status');
}

export function checkEnvelope(doc: Document, config: CheckedSamlConfig): ResponseEnvelope {
  const response = doc.documentElement;
  if (!isElement(response, NS.protocol, 'Response')) throw new SamlValidationError('structure');

  // By local name in any namespace: node-saml selects assertions with local-name() only.
  const candidates = [
    ...descendants(response, null, 'Assertion'),
    ...descendants(response, null, 'EncryptedAssertion'),
  ];
  const assertion = candidates[0];
  if (
    candidates.length !== 1 ||
    !isElement(assertion, NS.assertion, 'Assertion') ||
    assertion.parentNode !== response
  )
    throw new SamlValidationError('structure');
  const assertionId = attr(assertion, 'ID');
  if (!assertionId) throw new SamlValidationError('structure');

  // Comments and PIs vanish or change in canonicalisation, so they can split a signed NameID into a prefix
  // that a naive reader (ours, or the vendor's when we forward the Response) takes for the whole value
  // (`alice@corp.com<!---->.evil.com`). IdPs never emit them: reject rather than rely on every reader.
  if (containsCommentOrPi(response)) throw new SamlValidationError('markup');

  checkAlgorithms(response, config.algorithms);

  // saml-core 3.2.2: a signed message MUST carry Destination; when present it must be us.
  const signed = children(response, NS.dsig, 'Signature').length > 0;
  const destination = attr(response, 'Destination');
  if ((signed && destination === undefined) || (destination !== undefined && destination !== config.acsUrl))
    throw new SamlValidationError('destination');

  const issuer = optionalChild(response, NS.assertion, 'Issuer', 'issuer');
  if (issuer && pureText(issuer) !== config.idpIssuer) throw new SamlValidationError('issuer');

  checkStatus(response);
  return { response, assertion, assertionId, inResponseTo: attr(response, 'InResponseTo') };
}
