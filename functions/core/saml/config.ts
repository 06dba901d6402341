/**
 * What one integration's SAML routes trust and use: the IdP (pinned certificate(s) and entity ID, typed in or read
 * from its metadata; a metadata URL is resolved at run time by {@link resolveSamlConfig}), our SP entity ID (the
 * Audience), the ACS URL (Destination and Recipient), the IdP's SSO URL, the algorithm policy, the subject
 * mapping, and whether unsolicited responses are accepted. Validated once per config object; a bad value is a
 * {@link ConfigError} naming the key, never a 400 to the poster.
 */
import type { SamlConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { isUsableNamespace } from '../subject.js';
import { IdpMetadataError, type IdpMetadataSource, type IdpTrust, readIdpMetadata } from './idp-metadata.js';
import { isSecureUrl, parseCertificate } from './pki.js';
import { type SubjectTransform, subjectTransformProblem } from './subject-transform.js';

/** The per-integration settings (from the deployment config) plus the ACS URL the handler serves. */
export type SamlIntegrationConfig = SamlConfig & {
  /** Expected Destination of the Response and Recipient of the bearer SubjectConfirmationData. */
  acsUrl: string;
};

const KEYS = new Set([
  'idpCert',
  'idpIssuer',
  'idpMetadataUrl',
  'idpMetadataXml',
  'idpSsoUrl',
  'spEntityId',
  'subjectAttribute',
  'subjectTransform',
  'subjectNamespace',
  'allowSha1',
  'allowIdpInitiated',
  'nameIdFormats',
  'acsUrl',
]);

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/**
 * The first problem of `config` as `[key, problem]`, checked by hand (the deployment config's schema checked
 * the same fields at synth; the request path carries no schema library), or undefined.
 */
function shapeProblem(config: unknown): [string, string] | undefined {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    return ['$', 'expected an object'];
  const c = config as Record<string, unknown>;
  const unknown = Object.keys(c).find((key) => !KEYS.has(key));
  if (unknown !== undefined) return [unknown, 'unknown key'];
  const sources = ['idpCert', 'idpMetadataXml', 'idpMetadataUrl'].filter((key) => c[key] !== undefined);
  if (sources.length !== 1) {
    return [
      sources.length === 0 ? 'idpCert' : sources.join('/'),
      'exactly one of idpCert (with idpIssuer), idpMetadataXml or idpMetadataUrl',
    ];
  }
  const certs = c.idpCert;
  if (
    certs !== undefined &&
    !(nonEmpty(certs) || (Array.isArray(certs) && certs.length > 0 && certs.every(nonEmpty)))
  ) {
    return ['idpCert', 'a certificate (PEM or base64 DER) or a non-empty list of them'];
  }
  if (c.idpMetadataXml !== undefined && !nonEmpty(c.idpMetadataXml)) {
    return ['idpMetadataXml', 'the IdP metadata document (XML)'];
  }
  if (c.idpMetadataUrl !== undefined && !isSecureUrl(c.idpMetadataUrl)) {
    return ['idpMetadataUrl', 'an https URL (http only on loopback)'];
  }
  if (certs !== undefined ? !nonEmpty(c.idpIssuer) : c.idpIssuer !== undefined && !nonEmpty(c.idpIssuer)) {
    return ['idpIssuer', 'a non-empty string'];
  }
  if (!nonEmpty(c.spEntityId)) return ['spEntityId', 'a non-empty string'];
  if (c.subjectAttribute !== undefined && !nonEmpty(c.subjectAttribute)) {
    return ['subjectAttribute', 'a non-empty string'];
  }
  if (c.subjectTransform !== undefined) {
    const problem = subjectTransformProblem(c.subjectTransform);
    if (problem) return problem;
  }
  if (c.allowSha1 !== undefined && typeof c.allowSha1 !== 'boolean') return ['allowSha1', 'true or false'];
  if (c.allowIdpInitiated !== undefined && typeof c.allowIdpInitiated !== 'boolean') {
    return ['allowIdpInitiated', 'true or false'];
  }
  if (c.idpSsoUrl !== undefined && !isSecureUrl(c.idpSsoUrl)) {
    return ['idpSsoUrl', 'an https URL (http only on loopback)'];
  }
  const formats = c.nameIdFormats;
  if (
    formats !== undefined &&
    !(
      Array.isArray(formats) &&
      formats.length > 0 &&
      formats.length <= 8 &&
      formats.every((f) => nonEmpty(f) && f.length <= 256)
    )
  ) {
    return ['nameIdFormats', 'a list of 1 to 8 NameID format URIs'];
  }
  if (c.subjectNamespace !== undefined && !isUsableNamespace(c.subjectNamespace)) {
    return ['subjectNamespace', '1 to 256 characters, no control characters or surrounding spaces'];
  }
  if (!(typeof c.acsUrl === 'string' && URL.canParse(c.acsUrl))) return ['acsUrl', 'a URL'];
  if (!isSecureUrl(c.acsUrl)) return ['acsUrl', 'https (http only on loopback)'];
  return undefined;
}

/** A config whose certificates parsed, each normalised to PEM. */
export interface CheckedSamlConfig {
  /** The pinned IdP certificates (PEM); empty until an `idpMetadataUrl` is resolved ({@link resolveSamlConfig}). */
  readonly idpCerts: readonly string[];
  /** The IdP's entity ID; with `idpMetadataUrl`, the configured one (may be '') until resolved. */
  readonly idpIssuer: string;
  /** Set when the IdP's trust comes from a metadata URL, fetched at run time. */
  readonly idpMetadataUrl: string | undefined;
  readonly spEntityId: string;
  readonly acsUrl: string;
  readonly subjectAttribute: string | undefined;
  readonly subjectTransform: SubjectTransform | undefined;
  /** The IdP's HTTP-Redirect SSO endpoint for SP-initiated sign-in, when known. */
  readonly idpSsoUrl: string | undefined;
  /** Whether responses without InResponseTo (IdP-initiated) are accepted. */
  readonly allowIdpInitiated: boolean;
  /** NameID formats for the SP metadata; the first is requested in AuthnRequests. */
  readonly nameIdFormats: readonly string[];
  /** The signature and digest algorithm URIs accepted (SHA-256/512; SHA-1 too with `allowSha1`). */
  readonly algorithms: AlgorithmPolicy;
}

/** Accepted `SignatureMethod` and `DigestMethod` algorithm URIs. */
export interface AlgorithmPolicy {
  readonly signature: ReadonlySet<string>;
  readonly digest: ReadonlySet<string>;
}

/** RSA with SHA-256/512 only: no SHA-1 (collisions), no HMAC (key confusion with a public certificate). */
export const DEFAULT_ALGORITHMS: AlgorithmPolicy = {
  signature: new Set([
    'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  ]),
  digest: new Set(['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmlenc#sha512']),
};

/** `allowSha1: true` (legacy IdPs): RSA-SHA1 and SHA-1 digests as well. Never HMAC. */
export const LEGACY_SHA1_ALGORITHMS: AlgorithmPolicy = {
  signature: new Set([...DEFAULT_ALGORITHMS.signature, 'http://www.w3.org/2000/09/xmldsig#rsa-sha1']),
  digest: new Set([...DEFAULT_ALGORITHMS.digest, 'http://www.w3.org/2000/09/xmldsig#sha1']),
};

export { isSecureUrl, parseCertificate };

/** The IdP chooses the NameID (saml-core 8.3.1). */
export const UNSPECIFIED_NAME_ID_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';

/** PEM or base64 DER -> PEM, through node's X.509 parser so a truncated or non-certificate value fails here. */
function certificateToPem(value: string, index: number, integration: string): string {
  try {
    return parseCertificate(value).toString();
  } catch (error) {
    throw new ConfigError(
      `integration ${integration}: saml.idpCert[${index}]: not an X.509 certificate (PEM or base64 DER)`,
      error,
    );
  }
}

/**
 * Checked configs by value (callers build a fresh object per request, adding the ACS URL), so a warm Lambda
 * parses certificates and builds its node-saml instance once. Bounded: a deployment has few integrations.
 */
const checked = new Map<string, CheckedSamlConfig>();
const CACHE_LIMIT = 64;

/** Validates `config`; a {@link ConfigError} names the integration and the offending key. */
export function checkSamlConfig(config: SamlIntegrationConfig, integration: string): CheckedSamlConfig {
  const key = JSON.stringify([integration, config]);
  const cached = checked.get(key);
  if (cached) return cached;
  const problem = shapeProblem(config);
  if (problem) throw new ConfigError(`integration ${integration}: saml.${problem[0]}: ${problem[1]}`);
  const idp = staticTrust(config, integration);
  const result: CheckedSamlConfig = {
    idpCerts: idp?.certs ?? [],
    idpIssuer: idp?.issuer ?? config.idpIssuer ?? '',
    idpMetadataUrl: config.idpMetadataUrl,
    spEntityId: config.spEntityId,
    acsUrl: config.acsUrl,
    subjectAttribute: config.subjectAttribute,
    subjectTransform: config.subjectTransform,
    idpSsoUrl: config.idpSsoUrl ?? idp?.ssoUrl,
    allowIdpInitiated: config.allowIdpInitiated ?? true,
    nameIdFormats: config.nameIdFormats ?? [UNSPECIFIED_NAME_ID_FORMAT],
    algorithms: config.allowSha1 === true ? LEGACY_SHA1_ALGORITHMS : DEFAULT_ALGORITHMS,
  };
  if (checked.size >= CACHE_LIMIT) checked.clear();
  checked.set(key, result);
  return result;
}

/** The IdP's trust known without fetching: `idpCert` + `idpIssuer`, or the inline metadata document. */
function staticTrust(config: SamlIntegrationConfig, integration: string): IdpTrust | undefined {
  if (config.idpCert !== undefined) {
    const certs = Array.isArray(config.idpCert) ? config.idpCert : [config.idpCert];
    return {
      certs: certs.map((cert, index) => certificateToPem(cert, index, integration)),
      issuer: config.idpIssuer ?? '',
      ssoUrl: undefined,
    };
  }
  if (config.idpMetadataXml !== undefined) {
    try {
      return readIdpMetadata(config.idpMetadataXml, config.idpIssuer);
    } catch (error) {
      if (error instanceof IdpMetadataError) {
        throw new ConfigError(
          `integration ${integration}: saml.idpMetadataXml: the document ${error.message}`,
        );
      }
      throw error;
    }
  }
  return undefined;
}

const resolved = new WeakMap<CheckedSamlConfig, WeakMap<IdpTrust, CheckedSamlConfig>>();

/** `checked` with the IdP's trust from its metadata (the same object for the same trust, so caches hold). */
export function withIdpTrust(checked: CheckedSamlConfig, trust: IdpTrust): CheckedSamlConfig {
  let byTrust = resolved.get(checked);
  if (!byTrust) {
    byTrust = new WeakMap();
    resolved.set(checked, byTrust);
  }
  let config = byTrust.get(trust);
  if (!config) {
    config = {
      ...checked,
      idpCerts: trust.certs,
      idpIssuer: trust.issuer,
      idpSsoUrl: checked.idpSsoUrl ?? trust.ssoUrl,
    };
    byTrust.set(trust, config);
  }
  return config;
}

/**
 * The config ready to validate with: as checked, or with the trust of its `idpMetadataUrl` from `source` (the
 * per-container cache). Throws IdpMetadataUnavailableError (502) when the document cannot be had.
 */
export async function resolveSamlConfig(
  checked: CheckedSamlConfig,
  source: IdpMetadataSource | undefined,
  integration: string,
): Promise<CheckedSamlConfig> {
  const url = checked.idpMetadataUrl;
  if (url === undefined) return checked;
  if (!source)
    throw new ConfigError(`integration ${integration}: saml.idpMetadataUrl needs an IdP metadata source`);
  return withIdpTrust(checked, await source.trust(url, checked.idpIssuer || undefined, integration));
}
