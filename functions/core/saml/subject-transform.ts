/**
 * The subject mapping of a SAML integration, declared as data (`saml.subjectTransform`): the asserted value
 * (NameID or `subjectAttribute`) -> the subject the connection is stored under. `stripDomain` removes
 * `@<domain>` when the domain is one of the listed ones (case-insensitively) and refuses any other value, so
 * that `alice@corp.example` and `alice@partner.example` can never both become `alice`; `lowercase` then
 * lowercases the result (String.prototype.toLowerCase: Unicode, locale-independent). Pure and checked by hand
 * (the request path carries no schema library).
 */
import { SamlValidationError } from './errors.js';

/** A DNS domain name (labels of letters, digits and inner dashes), as in `alice@corp.example.com`. */
export const SUBJECT_DOMAIN =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export interface SubjectTransform {
  readonly lowercase?: boolean | undefined;
  readonly stripDomain?: readonly string[] | undefined;
}

/** The first problem of a `subjectTransform` value as `[key, problem]`, or undefined. */
export function subjectTransformProblem(value: unknown): [string, string] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return ['subjectTransform', 'an object with lowercase and/or stripDomain'];
  }
  const v = value as Record<string, unknown>;
  const unknown = Object.keys(v).find((key) => key !== 'lowercase' && key !== 'stripDomain');
  if (unknown !== undefined) return [`subjectTransform.${unknown}`, 'unknown key'];
  if (v.lowercase !== undefined && typeof v.lowercase !== 'boolean') {
    return ['subjectTransform.lowercase', 'true or false'];
  }
  const domains = v.stripDomain;
  if (
    domains !== undefined &&
    !(
      Array.isArray(domains) &&
      domains.length > 0 &&
      domains.length <= 20 &&
      domains.every((d) => typeof d === 'string' && SUBJECT_DOMAIN.test(d))
    )
  ) {
    return ['subjectTransform.stripDomain', 'a list of 1 to 20 domain names such as corp.example.com'];
  }
  return undefined;
}

/** Applies `transform` to an asserted value; a value outside the listed domains is a `subject` refusal. */
export function transformSubject(value: string, transform: SubjectTransform | undefined): string {
  if (!transform) return value;
  let subject = value;
  if (transform.stripDomain) {
    const at = subject.lastIndexOf('@');
    const domain = at > 0 ? subject.slice(at + 1).toLowerCase() : undefined;
    if (domain === undefined || !transform.stripDomain.some((d) => d.toLowerCase() === domain)) {
      throw new SamlValidationError('subject');
    }
    subject = subject.slice(0, at);
  }
  if (transform.lowercase) subject = subject.toLowerCase();
  if (subject === '') throw new SamlValidationError('subject');
  return subject;
}
