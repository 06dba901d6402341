/**
 * Reads the signed assertion (the canonical XML node-saml returns from the verified reference) and makes the
 * checks node-saml does not: Issuer, bearer SubjectConfirmation Recipient, the time window against the
 * injected clock, and the subject. https://docs.oasis-open.org/security/saml/v2.0/saml-profiles-2.0-os.pdf
 * (4.1.4.2: bearer SubjectConfirmationData MUST carry Recipient = ACS URL and NotOnOrAfter);
 * https://www.rfc-editor.org/rfc/rfc7522#section-3 (Recipient, NotOnOrAfter, Audience, one assertion).
 */
import type { CheckedSamlConfig } from './config.js';
import { SamlValidationError } from './errors.js';
import { transformSubject } from './subject-transform.js';
import { attr, children, NS, optionalChild, parseStrict, pureText } from './xml.js';

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
/** xs:dateTime as SAML requires it: UTC with `Z` (saml-core 1.3.3). */
const DATE_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$/;

export interface SignedAssertion {
  readonly id: string;
  readonly issuer: string;
  readonly subject: string;
  /** Epoch milliseconds: the earliest of the bearer confirmation's and the Conditions' NotOnOrAfter. */
  readonly notOnOrAfterMs: number;
  readonly sessionIndex: string | undefined;
  readonly attributes: Record<string, string[]>;
  /** The bearer confirmation's `InResponseTo` (signed): the request this answers; undefined when unsolicited. */
  readonly inResponseTo: string | undefined;
}

export interface TimeWindow {
  readonly nowMs: number;
  readonly skewMs: number;
}

function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = DATE_TIME.exec(value);
  // Fractions beyond milliseconds are truncated: Date.parse accepts at most three digits everywhere.
  const ms = match ? Date.parse(`${match[1]}${(match[2] ?? '').slice(0, 4)}Z`) : Number.NaN;
  if (Number.isNaN(ms)) throw new SamlValidationError('time_window');
  return ms;
}

/** NotBefore inclusive, NotOnOrAfter exclusive, each widened by the skew (saml-core 2.5.1.2). */
function within(
  window: TimeWindow,
  notBefore: number | undefined,
  notOnOrAfter: number | undefined,
): boolean {
  if (notBefore !== undefined && window.nowMs < notBefore - window.skewMs) return false;
  if (notOnOrAfter !== undefined && window.nowMs >= notOnOrAfter + window.skewMs) return false;
  return true;
}

/**
 * The bearer confirmation for our ACS that is valid now: its NotOnOrAfter bounds the replay record, its
 * InResponseTo names the request the response answers (SAML profiles 4.1.4.2).
 */
function bearerConfirmation(
  subject: Element,
  config: CheckedSamlConfig,
  window: TimeWindow,
): { notOnOrAfter: number; inResponseTo: string | undefined } {
  let forUs = false;
  for (const confirmation of children(subject, NS.assertion, 'SubjectConfirmation')) {
    if (attr(confirmation, 'Method') !== BEARER) continue;
    const data = optionalChild(confirmation, NS.assertion, 'SubjectConfirmationData', 'recipient');
    if (!data || attr(data, 'Recipient') !== config.acsUrl) continue;
    forUs = true;
    const notOnOrAfter = parseTime(attr(data, 'NotOnOrAfter'));
    if (notOnOrAfter === undefined) continue;
    if (within(window, parseTime(attr(data, 'NotBefore')), notOnOrAfter)) {
      return { notOnOrAfter, inResponseTo: attr(data, 'InResponseTo') };
    }
  }
  throw new SamlValidationError(forUs ? 'time_window' : 'recipient');
}

function readAttributes(assertion: Element): Map<string, (string | undefined)[]> {
  const values = new Map<string, (string | undefined)[]>();
  for (const statement of children(assertion, NS.assertion, 'AttributeStatement')) {
    for (const attribute of children(statement, NS.assertion, 'Attribute')) {
      const name = attr(attribute, 'Name');
      if (!name) continue;
      const list = values.get(name) ?? [];
      for (const value of children(attribute, NS.assertion, 'AttributeValue')) list.push(pureText(value));
      values.set(name, list);
    }
  }
  return values;
}

function readSubject(
  subject: Element,
  attributes: Map<string, (string | undefined)[]>,
  config: CheckedSamlConfig,
): string {
  let value: string | undefined;
  if (config.subjectAttribute !== undefined) {
    const values = attributes.get(config.subjectAttribute) ?? [];
    value = values.length === 1 ? values[0] : undefined;
  } else {
    const nameId = optionalChild(subject, NS.assertion, 'NameID', 'subject');
    value = nameId && pureText(nameId);
  }
  if (!value) throw new SamlValidationError('subject');
  return transformSubject(value, config.subjectTransform);
}

/** Parses and checks the signed assertion XML. */
export function readSignedAssertion(
  signedXml: string,
  config: CheckedSamlConfig,
  window: TimeWindow,
): SignedAssertion {
  const assertion = parseStrict(signedXml).documentElement;
  if (assertion.namespaceURI !== NS.assertion || assertion.localName !== 'Assertion')
    throw new SamlValidationError('structure');
  const id = attr(assertion, 'ID');
  if (!id) throw new SamlValidationError('structure');

  const issuerElement = optionalChild(assertion, NS.assertion, 'Issuer', 'issuer');
  const issuer = issuerElement && pureText(issuerElement);
  if (issuer !== config.idpIssuer) throw new SamlValidationError('issuer');

  const conditions = optionalChild(assertion, NS.assertion, 'Conditions', 'time_window');
  const conditionsEnd = conditions && parseTime(attr(conditions, 'NotOnOrAfter'));
  if (conditions && !within(window, parseTime(attr(conditions, 'NotBefore')), conditionsEnd))
    throw new SamlValidationError('time_window');

  const subject = optionalChild(assertion, NS.assertion, 'Subject', 'subject');
  if (!subject) throw new SamlValidationError('subject');
  const bearer = bearerConfirmation(subject, config, window);
  const bearerEnd = bearer.notOnOrAfter;

  const rawAttributes = readAttributes(assertion);
  // fromEntries defines own properties, so an attribute named `__proto__` cannot touch the prototype.
  const attributes: Record<string, string[]> = Object.fromEntries(
    [...rawAttributes].map(([name, values]) => [name, values.filter((v): v is string => v !== undefined)]),
  );
  const authn = children(assertion, NS.assertion, 'AuthnStatement')[0];
  return {
    id,
    issuer,
    subject: readSubject(subject, rawAttributes, config),
    notOnOrAfterMs: conditionsEnd === undefined ? bearerEnd : Math.min(bearerEnd, conditionsEnd),
    sessionIndex: authn && attr(authn, 'SessionIndex'),
    attributes,
    inResponseTo: bearer.inResponseTo,
  };
}
