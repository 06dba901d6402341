/**
 * Stored subjects: the key space of connections. There are two kinds, and no value a caller controls can
 * produce the other kind, another namespace or another user:
 *
 * - a user: `user:<namespace>:<claim>`, where `namespace` names the identity provider the user comes from (a
 *   caller entry's `namespace`, by default its issuer; a SAML integration's `subjectNamespace`) and `claim` is
 *   the value of the verified token's subject claim (or the SAML NameID). Both parts are percent-encoded
 *   (`encodeURIComponent`), so neither can contain the `:` separator;
 * - a service connection: `service:<name>` (names are `[a-z0-9-]`), reached only through the IAM route.
 *
 * Every user subject is built by {@link userSubject}: the caller verifier (user JWTs) and the SAML ACS use it.
 */
import { ConfigError, InvalidRequestError } from './errors.js';

/** Longest subject claim value (or SAML NameID) accepted, in UTF-16 code units, before encoding. */
export const maxSubjectLength = 256;
/** Longest namespace (explicit, or the issuer it defaults to). */
export const maxNamespaceLength = 256;
/**
 * Longest stored subject (after encoding). The storage key encodes it once more (a DynamoDB partition key holds
 * 2048 bytes) and a refresh message carries it (at most 1024 characters), so a claim of non-ASCII characters
 * may be refused below {@link maxSubjectLength}.
 */
export const maxStoredSubjectLength = 1024;

/** The namespace of the local issuer (`POST /local/token`), stable across ports and restarts. */
export const LOCAL_NAMESPACE = 'local';

const USER = 'user';
const SERVICE = 'service';

/** Non-empty, at most `max` characters, well-formed Unicode, no control characters or surrounding spaces. */
function isUsable(value: unknown, max: number): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= max &&
    value.isWellFormed() &&
    value.trim() === value &&
    !/\p{Cc}/u.test(value)
  );
}

/** A usable subject claim value (or NameID): see {@link maxSubjectLength}. */
export function isUsableSubject(value: unknown): value is string {
  return isUsable(value, maxSubjectLength);
}

/** A usable namespace: see {@link maxNamespaceLength}. */
export function isUsableNamespace(value: unknown): value is string {
  return isUsable(value, maxNamespaceLength);
}

/**
 * The stored subject of the user `claim` from `namespace`. Refuses (400 `invalid_request`; the caller verifier
 * turns it into its 401) a claim or namespace that is not usable, or a result longer than
 * {@link maxStoredSubjectLength}.
 */
export function userSubject(namespace: string, claim: string): string {
  if (!isUsableNamespace(namespace) || !isUsableSubject(claim)) {
    throw new InvalidRequestError('the subject is not usable');
  }
  const subject = `${USER}:${encodeURIComponent(namespace)}:${encodeURIComponent(claim)}`;
  if (subject.length > maxStoredSubjectLength) throw new InvalidRequestError('the subject is too long');
  return subject;
}

/** The stored subject of the service connection `name` (an own key of the integration's `serviceConnections`). */
export function serviceSubject(name: string): string {
  return `${SERVICE}:${encodeURIComponent(name)}`;
}

/** The namespace of a trusted caller entry: its `namespace`, else its issuer. */
export function callerNamespace(caller: { issuer: string; namespace?: string | undefined }): string {
  return caller.namespace ?? caller.issuer;
}

/**
 * The namespace SAML-created connections of an integration are stored in, so that a caller of that namespace
 * vends them: `saml.subjectNamespace`; else the callers' namespace when they all share one; else, with no
 * callers configured, the local issuer's (in AWS no caller could vend them then anyway). With callers of more
 * than one namespace, `subjectNamespace` is required (the deployment schema refuses the config without it).
 */
export function samlSubjectNamespace(
  saml: { subjectNamespace?: string | undefined },
  callers: readonly { issuer: string; namespace?: string | undefined }[],
): string {
  if (saml.subjectNamespace !== undefined) return saml.subjectNamespace;
  const namespaces = new Set(callers.map(callerNamespace));
  if (namespaces.size === 0) return LOCAL_NAMESPACE;
  if (namespaces.size === 1) return [...namespaces][0] as string;
  throw new ConfigError('saml.subjectNamespace is required with callers of several namespaces');
}
