/**
 * IdP metadata instead of a typed-in certificate and issuer (`saml.idpMetadataXml` inline, or
 * `saml.idpMetadataUrl` fetched over https): the IdP's entity ID, every signing certificate of its
 * IDPSSODescriptor (all of them are trusted, which is how IdPs announce a certificate rollover: the next
 * certificate is published next to the current one), and its HTTP-Redirect SingleSignOnService.
 * https://docs.oasis-open.org/security/saml/v2.0/saml-metadata-2.0-os.pdf (2.4.3 IDPSSODescriptor, 2.4.1.1
 * KeyDescriptor: no `use` means signing and encryption).
 *
 * A fetched document is cached per container ({@link IdpMetadataCache}): fresh for an hour, then fetched again
 * on the next use; a failed fetch keeps the last good document for up to a day (then sign-ins fail closed);
 * and when a response's signature fails against the cached certificates, the document is fetched again (at
 * most every five minutes) in case the IdP switched to a certificate it published after our fetch.
 * The metadata's own signature and `validUntil` are not checked: the document comes from the IdP over https.
 */
import { ConfigError, TokenvendError } from '../errors.js';
import type { FetchLike } from '../oauth/http.js';
import { send } from '../oauth/send.js';
import { isSecureUrl, parseCertificate } from './pki.js';
import { NS, parseHardened, pureText } from './xml.js';

const MD_NS = 'urn:oasis:names:tc:SAML:2.0:metadata';
const SAML2_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
/** Metadata is larger than a response (Entra's has WS-Federation role descriptors), still bounded. */
const METADATA_LIMITS = { depth: 64, elements: 10_000, attributes: 20_000 } as const;
const MAX_METADATA_CHARS = 1024 * 1024;

/** What an integration trusts of its IdP. */
export interface IdpTrust {
  /** entityID of the EntityDescriptor: the expected Issuer. */
  readonly issuer: string;
  /** PEM certificates of every signing KeyDescriptor (rollover: current and next). */
  readonly certs: readonly string[];
  /** The HTTP-Redirect SingleSignOnService Location, if the IdP has one. */
  readonly ssoUrl: string | undefined;
}

/** The IdP metadata could not be read; `problem` is our words (never the document). */
export class IdpMetadataError extends Error {}

/** The IdP metadata URL gave no usable document: 502 `server_error`, the sign-in cannot be checked. */
export class IdpMetadataUnavailableError extends TokenvendError {
  constructor(integration: string, problem: string) {
    super(`integration ${integration}: IdP metadata unavailable: ${problem}`, {
      error: 'server_error',
      status: 502,
    });
  }
}

function elementChildren(parent: Element, ns: string, name: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === name) {
      out.push(n as Element);
    }
  }
  return out;
}

function parse(xml: string): Document {
  if (xml.length > MAX_METADATA_CHARS) throw new IdpMetadataError('larger than 1 MB');
  const doc = parseHardened(xml, METADATA_LIMITS);
  if (doc === 'dtd-or-limits') {
    throw new IdpMetadataError('has a DTD or is nested or sized beyond the limits');
  }
  if (doc === 'malformed') throw new IdpMetadataError('is not well-formed XML');
  return doc;
}

/** The EntityDescriptors with a SAML 2.0 IDPSSODescriptor, at the root or in an EntitiesDescriptor (nested). */
function idpEntities(root: Element): { entity: Element; idp: Element }[] {
  const found: { entity: Element; idp: Element }[] = [];
  const stack: Element[] = [root];
  while (stack.length > 0) {
    const el = stack.pop()!;
    if (el.namespaceURI !== MD_NS) continue;
    if (el.localName === 'EntitiesDescriptor') {
      stack.push(
        ...elementChildren(el, MD_NS, 'EntitiesDescriptor'),
        ...elementChildren(el, MD_NS, 'EntityDescriptor'),
      );
    } else if (el.localName === 'EntityDescriptor') {
      const idp = elementChildren(el, MD_NS, 'IDPSSODescriptor').find((d) =>
        (d.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML2_PROTOCOL),
      );
      if (idp) found.push({ entity: el, idp });
    }
  }
  return found;
}

/**
 * Reads the IdP's trust from a metadata document. With `issuer`, the EntityDescriptor of that entityID (and it
 * must exist); without, the document must describe exactly one SAML 2.0 IdP.
 */
export function readIdpMetadata(
  xml: string,
  issuer: string | undefined,
  options: { allowInsecureLoopback?: boolean } = {},
): IdpTrust {
  const doc = parse(xml);
  const entities = idpEntities(doc.documentElement);
  const chosen =
    issuer === undefined ? entities : entities.filter((e) => e.entity.getAttribute('entityID') === issuer);
  if (chosen.length === 0) {
    throw new IdpMetadataError(
      issuer === undefined
        ? 'describes no SAML 2.0 IdP (IDPSSODescriptor)'
        : 'has no IdP with the configured idpIssuer',
    );
  }
  if (chosen.length > 1) throw new IdpMetadataError('describes several IdPs: set idpIssuer to choose one');
  const { entity, idp } = chosen[0]!;
  const entityId = entity.getAttribute('entityID') ?? '';
  if (!entityId) throw new IdpMetadataError('has an EntityDescriptor without entityID');

  const certs: string[] = [];
  for (const descriptor of elementChildren(idp, MD_NS, 'KeyDescriptor')) {
    const use = descriptor.getAttribute('use');
    if (use && use !== 'signing') continue;
    for (const keyInfo of elementChildren(descriptor, NS.dsig, 'KeyInfo')) {
      for (const data of elementChildren(keyInfo, NS.dsig, 'X509Data')) {
        for (const certificate of elementChildren(data, NS.dsig, 'X509Certificate')) {
          const text = pureText(certificate);
          let pem: string;
          try {
            if (!text) throw new Error('empty');
            pem = parseCertificate(text).toString();
          } catch {
            throw new IdpMetadataError('has a signing X509Certificate that does not parse');
          }
          if (!certs.includes(pem)) certs.push(pem);
        }
      }
    }
  }
  if (certs.length === 0) throw new IdpMetadataError('has no signing certificate in its IDPSSODescriptor');

  const sso = elementChildren(idp, MD_NS, 'SingleSignOnService').find(
    (s) => s.getAttribute('Binding') === HTTP_REDIRECT,
  );
  const location = sso?.getAttribute('Location') || undefined;
  if (location !== undefined && !isSecureUrl(location, options.allowInsecureLoopback ?? true)) {
    throw new IdpMetadataError('has an HTTP-Redirect SingleSignOnService that is not https');
  }
  return { issuer: entityId, certs, ssoUrl: location };
}

/** Where validation and the login get a metadata URL's trust from (the per-container cache in production). */
export interface IdpMetadataSource {
  /** The trust of `url` (cached; fetched when absent or stale). Throws {@link IdpMetadataUnavailableError}. */
  trust(url: string, issuer: string | undefined, integration: string): Promise<IdpTrust>;
  /**
   * After a signature failed against the cached certificates: fetches the document again unless it was fetched
   * in the last few minutes; the new trust when it changed, else undefined.
   */
  renew(url: string, issuer: string | undefined, integration: string): Promise<IdpTrust | undefined>;
}

export interface IdpMetadataCacheOptions {
  fetch: FetchLike;
  timeoutMs: number;
  /** Epoch milliseconds. */
  nowMs?: () => number;
  /** How long a fetched document is used without asking again (default one hour). */
  freshMs?: number;
  /** How long the last good document is used while fetches fail (default one day). */
  staleMs?: number;
  /** Least time between a renewal and the previous fetch (default five minutes). */
  renewAfterMs?: number;
  /** Local mode: http metadata URLs on loopback. */
  allowInsecureLoopback?: boolean;
}

interface Entry {
  trust?: IdpTrust;
  fetchedAtMs: number;
  pending?: Promise<IdpTrust>;
}

/** Per-container cache of fetched IdP metadata, keyed by URL and issuer. */
export class IdpMetadataCache implements IdpMetadataSource {
  readonly #options: Required<Omit<IdpMetadataCacheOptions, 'allowInsecureLoopback'>> & {
    allowInsecureLoopback: boolean;
  };
  readonly #entries = new Map<string, Entry>();
  /** Number of document fetches started (tests, logs). */
  fetches = 0;

  constructor(options: IdpMetadataCacheOptions) {
    this.#options = {
      nowMs: Date.now,
      freshMs: 3_600_000,
      staleMs: 86_400_000,
      renewAfterMs: 300_000,
      allowInsecureLoopback: false,
      ...options,
    };
  }

  async trust(url: string, issuer: string | undefined, integration: string): Promise<IdpTrust> {
    const key = JSON.stringify([url, issuer ?? null]);
    const entry = this.#entries.get(key);
    const now = this.#options.nowMs();
    if (entry?.trust && now - entry.fetchedAtMs < this.#options.freshMs) return entry.trust;
    try {
      return await this.#fetch(key, url, issuer, integration);
    } catch (error) {
      // Keep signing users in with the last good document for a while; then fail closed.
      if (entry?.trust && now - entry.fetchedAtMs < this.#options.staleMs) return entry.trust;
      throw error;
    }
  }

  async renew(url: string, issuer: string | undefined, integration: string): Promise<IdpTrust | undefined> {
    const key = JSON.stringify([url, issuer ?? null]);
    const entry = this.#entries.get(key);
    if (entry && this.#options.nowMs() - entry.fetchedAtMs < this.#options.renewAfterMs) return undefined;
    const before = entry?.trust;
    try {
      const trust = await this.#fetch(key, url, issuer, integration);
      return trust !== before ? trust : undefined;
    } catch {
      return undefined;
    }
  }

  /** Single flight per key; a failure is not cached as a document (the entry keeps its last good trust). */
  #fetch(key: string, url: string, issuer: string | undefined, integration: string): Promise<IdpTrust> {
    const entry = this.#entries.get(key) ?? { fetchedAtMs: 0 };
    this.#entries.set(key, entry);
    if (entry.pending) return entry.pending;
    this.fetches += 1;
    const pending = this.#load(url, issuer, integration).then(
      (trust) => {
        const same = entry.trust && sameTrust(entry.trust, trust);
        entry.trust = same ? entry.trust : trust;
        entry.fetchedAtMs = this.#options.nowMs();
        entry.pending = undefined;
        return entry.trust!;
      },
      (error: unknown) => {
        // A failed fetch counts as a fetch for renewals: an attacker's bad signatures cannot make us hammer the IdP.
        entry.fetchedAtMs = entry.trust ? entry.fetchedAtMs : this.#options.nowMs();
        entry.pending = undefined;
        throw error;
      },
    );
    entry.pending = pending;
    return pending;
  }

  async #load(url: string, issuer: string | undefined, integration: string): Promise<IdpTrust> {
    if (!isSecureUrl(url, this.#options.allowInsecureLoopback)) {
      throw new ConfigError(`integration ${integration}: saml.idpMetadataUrl: an https URL`);
    }
    let response: Awaited<ReturnType<typeof send>>;
    try {
      response = await send(
        {
          method: 'GET',
          url,
          headers: { accept: 'application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8' },
        },
        { fetch: this.#options.fetch, timeoutMs: this.#options.timeoutMs },
      );
    } catch {
      throw new IdpMetadataUnavailableError(integration, 'the metadata URL could not be reached');
    }
    if (response.status !== 200 || response.body === '') {
      throw new IdpMetadataUnavailableError(integration, `the metadata URL answered ${response.status}`);
    }
    try {
      return readIdpMetadata(response.body, issuer, {
        allowInsecureLoopback: this.#options.allowInsecureLoopback,
      });
    } catch (error) {
      if (error instanceof IdpMetadataError) {
        throw new IdpMetadataUnavailableError(integration, `the document ${error.message}`);
      }
      throw error;
    }
  }
}

function sameTrust(a: IdpTrust, b: IdpTrust): boolean {
  return (
    a.issuer === b.issuer &&
    a.ssoUrl === b.ssoUrl &&
    a.certs.length === b.certs.length &&
    a.certs.every((c, i) => c === b.certs[i])
  );
}
