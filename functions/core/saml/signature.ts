/**
 * Signature verification through node-saml: the IdP certificate is pinned (KeyInfo certificates are ignored
 * by xml-crypto 6), the assertion must be signed, exactly one reference to its parent, and what comes back
 * is the canonical XML of the signed reference only, the sole source we read identity from.
 * node-saml's own time checks are switched off (`acceptedClockSkewMs: -1`) because it reads the wall clock;
 * the assertion checks redo them against the injected `now` with exact boundaries.
 */
import { SAML, SamlStatusError, ValidateInResponseTo } from '@node-saml/node-saml';
import { ConfigError } from '../errors.js';
import type { CheckedSamlConfig } from './config.js';
import { type SamlCheck, SamlValidationError } from './errors.js';

const instances = new WeakMap<CheckedSamlConfig, SAML>();

function samlFor(config: CheckedSamlConfig): SAML {
  let saml = instances.get(config);
  if (!saml) {
    // Never verify against nothing: an unresolved metadata URL is a bug of the caller, not a 400.
    if (config.idpCerts.length === 0) throw new ConfigError('SAML config without IdP certificates');
    saml = new SAML({
      idpCert: [...config.idpCerts],
      issuer: config.spEntityId,
      audience: config.spEntityId,
      callbackUrl: config.acsUrl,
      wantAssertionsSigned: true,
      // Most IdPs sign only the assertion; a Response signature alone never suffices (above).
      wantAuthnResponseSigned: false,
      acceptedClockSkewMs: -1,
      // IdP-initiated only for now. SP-initiated binding (InResponseTo against a request cache) is future work;
      // until then the envelope check rejects any InResponseTo.
      validateInResponseTo: ValidateInResponseTo.never,
    });
    instances.set(config, saml);
  }
  return saml;
}

/** Maps a node-saml failure to the check it reports, never copying its message (it can echo values). */
function classify(error: unknown): SamlCheck {
  if (error instanceof SamlStatusError) return 'status';
  const message = error instanceof Error ? error.message : '';
  if (/audience/i.test(message)) return 'audience';
  if (/expired|not yet valid|NotOnOrAfter|NotBefore|IssueInstant/i.test(message)) return 'time_window';
  if (/multiple assertions|missing saml assertion/i.test(message)) return 'structure';
  if (/signature|signed/i.test(message)) return 'signature';
  return 'structure';
}

/** Verifies `samlResponse` (base64) against the pinned certificates; returns the signed assertion's canonical XML. */
export async function verifySignedAssertion(
  samlResponse: string,
  config: CheckedSamlConfig,
): Promise<string> {
  let assertionXml: string | undefined;
  const saml = samlFor(config);
  try {
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse });
    assertionXml = profile?.getAssertionXml?.();
  } catch (error) {
    throw new SamlValidationError(classify(error));
  }
  if (!assertionXml) throw new SamlValidationError('signature');
  return assertionXml;
}
