/**
 * Endpoint discovery for providers that declare `endpoints.discovery` (the generic `oauth2` provider):
 * OpenID Connect Discovery 1.0 (`/.well-known/openid-configuration`) or RFC 8414 authorization server
 * metadata (`/.well-known/oauth-authorization-server`).
 * https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfigurationValidation,
 * https://www.rfc-editor.org/rfc/rfc8414#section-3.3
 *
 * The document is authoritative for the endpoints it names; the template keeps everything else (and
 * the endpoints the document leaves out).
 */
import { MalformedResponseError, VendorRejectedError, VendorUnavailableError } from '../errors.js';
import type { EngineDeps } from '../oauth/engine.js';
import { send } from '../oauth/send.js';
import { checkEndpointUrl, type ResolvedProvider, type ResolveOptions } from './resolve.js';
import type { ProviderTemplate } from './schema.js';

const OIDC_SUFFIX = '/.well-known/openid-configuration';
const RFC8414_SEGMENT = '/.well-known/oauth-authorization-server';
const DEFAULT_TIMEOUT_MS = 10_000;

/** The fields we read; the rest of the document is ignored (it has dozens). */
interface DiscoveryDocument {
  issuer: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  revocation_endpoint?: string;
  userinfo_endpoint?: string;
  authorization_response_iss_parameter_supported?: boolean;
  revocation_endpoint_auth_methods_supported?: string[];
}

const OPTIONAL_STRINGS = [
  'authorization_endpoint',
  'token_endpoint',
  'revocation_endpoint',
  'userinfo_endpoint',
] as const;

/**
 * The document's fields we read, checked by hand (the request path carries no schema library): `{ path,
 * problem }` of the first field that is wrong, or the document.
 */
function readDiscoveryDocument(
  document: unknown,
): { document: DiscoveryDocument } | { path: string; problem: string } {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return { path: '$', problem: 'expected an object' };
  }
  const d = document as Record<string, unknown>;
  const nonEmpty = (value: unknown) => typeof value === 'string' && value.length > 0;
  if (!nonEmpty(d.issuer)) return { path: 'issuer', problem: 'expected a non-empty string' };
  for (const name of OPTIONAL_STRINGS) {
    if (d[name] !== undefined && !nonEmpty(d[name]))
      return { path: name, problem: 'expected a non-empty string' };
  }
  const iss = d.authorization_response_iss_parameter_supported;
  if (iss !== undefined && typeof iss !== 'boolean') {
    return { path: 'authorization_response_iss_parameter_supported', problem: 'expected a boolean' };
  }
  const methods = d.revocation_endpoint_auth_methods_supported;
  if (methods !== undefined) {
    if (!Array.isArray(methods)) {
      return { path: 'revocation_endpoint_auth_methods_supported', problem: 'expected an array' };
    }
    const wrong = methods.findIndex((m) => typeof m !== 'string');
    if (wrong >= 0) {
      return { path: `revocation_endpoint_auth_methods_supported.${wrong}`, problem: 'expected a string' };
    }
  }
  return { document: d as unknown as DiscoveryDocument };
}

export interface DiscoveryOptions extends ResolveOptions {
  /** The URL the document was fetched from; its issuer prefix must equal the document's `issuer`. */
  discoveryUrl: string;
}

/** The issuer a well-known URL belongs to, or undefined when the URL is not a well-known metadata URL. */
export function issuerOfDiscoveryUrl(discoveryUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(discoveryUrl);
  } catch {
    return undefined;
  }
  if (url.search || url.hash) return undefined;
  // OIDC Discovery §4: the well-known path is appended to the issuer.
  if (url.pathname.endsWith(OIDC_SUFFIX)) {
    return `${url.origin}${url.pathname.slice(0, -OIDC_SUFFIX.length)}`;
  }
  // RFC 8414 §3: the well-known segment is inserted between the host and the issuer's path.
  if (url.pathname === RFC8414_SEGMENT || url.pathname.startsWith(`${RFC8414_SEGMENT}/`)) {
    return `${url.origin}${url.pathname.slice(RFC8414_SEGMENT.length)}`;
  }
  return undefined;
}

function invalid(id: string, problem: string, cause?: unknown): MalformedResponseError {
  return new MalformedResponseError(`${id} discovery document ${problem}`, {
    error: 'server_error',
    status: 502,
    cause,
  });
}

/**
 * Applies a discovery document to a template: fills the authorize, token, revocation and userinfo
 * endpoints, `authorize.issuer`, and `issParameterSupported` (RFC 9207 §3). Pure; throws
 * {@link MalformedResponseError} for a document that is malformed, names another issuer, or carries an
 * endpoint that is not https (or allowed loopback http).
 */
export function applyDiscovery(
  template: ProviderTemplate,
  document: unknown,
  options: DiscoveryOptions,
): ProviderTemplate {
  const id = template.id;
  const read = readDiscoveryDocument(document);
  if (!('document' in read)) throw invalid(id, `is invalid at ${read.path}: ${read.problem}`);
  const doc = read.document;
  const expectedIssuer = issuerOfDiscoveryUrl(options.discoveryUrl);
  if (expectedIssuer === undefined) {
    throw invalid(id, `URL ${options.discoveryUrl} is not a well-known metadata URL`);
  }
  // Exact string comparison (OIDC Discovery §4.3, RFC 8414 §3.3): no normalisation of trailing slashes.
  if (doc.issuer !== expectedIssuer) {
    throw invalid(id, `names issuer ${doc.issuer}, expected ${expectedIssuer}`);
  }
  const url = (name: string, value: string | undefined): string | undefined => {
    if (value === undefined) return undefined;
    // The template loader would read `${...}` as a placeholder; a document has no business sending one.
    if (value.includes('${')) throw invalid(id, `${name} contains a template placeholder`);
    const problem = checkEndpointUrl(value, options);
    if (problem) throw invalid(id, `${name} ${value} ${problem}`);
    return value;
  };
  url('issuer', doc.issuer);
  const authorize = url('authorization_endpoint', doc.authorization_endpoint);
  const token = url('token_endpoint', doc.token_endpoint);
  const revocation = url('revocation_endpoint', doc.revocation_endpoint);
  const userinfo = url('userinfo_endpoint', doc.userinfo_endpoint);

  const e = template.endpoints;
  const revokeAuth = doc.revocation_endpoint_auth_methods_supported;
  const endpoints: ProviderTemplate['endpoints'] = {
    ...e,
    authorize: authorize ?? e.authorize,
    token: token ?? e.token,
    revoke: revocation
      ? ((e.revoke && { ...e.revoke, url: revocation }) ?? {
          url: revocation,
          method: 'POST',
          auth: 'client',
          // RFC 8414 §2: client_secret_basic is the default when the list is absent.
          clientAuth:
            revokeAuth &&
            !revokeAuth.includes('client_secret_basic') &&
            revokeAuth.includes('client_secret_post')
              ? 'body'
              : 'basic',
          token: 'refresh_token',
        })
      : e.revoke,
    userinfo: userinfo ? { subject: 'sub', ...e.userinfo, url: userinfo } : e.userinfo,
  };
  if (template.grants.authorization_code && !endpoints.authorize) {
    throw invalid(id, 'has no authorization_endpoint and the template names none');
  }
  const needsToken = Object.entries(template.grants).some(
    ([name, g]) => g && name !== 'static' && !('endpoint' in g && g.endpoint),
  );
  if (needsToken && !endpoints.token) throw invalid(id, 'has no token_endpoint and the template names none');

  return {
    ...template,
    endpoints,
    authorize: {
      ...template.authorize,
      issuer: doc.issuer,
      issParameterSupported:
        template.authorize.issParameterSupported ||
        doc.authorization_response_iss_parameter_supported === true,
    },
  };
}

/**
 * Fetches `endpoints.discovery` through the injected fetch and returns the provider with the discovered
 * endpoints. Loopback http is accepted for document endpoints only when the discovery URL itself is
 * loopback http (which {@link resolveProvider} allowed only with `allowInsecureLoopback`), unless
 * `options` says otherwise.
 */
export async function discoverProvider(
  resolved: ResolvedProvider,
  deps: EngineDeps,
  options: ResolveOptions = {},
): Promise<ResolvedProvider> {
  const discoveryUrl = resolved.endpoints.discovery;
  const id = resolved.template.id;
  if (!discoveryUrl) return resolved;
  const response = await send(
    { method: 'GET', url: discoveryUrl, headers: { accept: 'application/json' } },
    { fetch: deps.fetch, timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS },
  );
  if (response.status < 200 || response.status >= 300) {
    const message = `${id} discovery document request failed with HTTP ${response.status}`;
    const fields = { error: 'server_error', status: 502, vendorStatus: response.status };
    // A GET changes nothing at the vendor, so the outcome of a failed one is always known.
    throw response.status >= 500
      ? new VendorUnavailableError(message, {
          ...fields,
          error: 'temporarily_unavailable',
          outcomeUnknown: false,
        })
      : new VendorRejectedError(message, fields);
  }
  let document: unknown;
  try {
    document = JSON.parse(response.body);
  } catch (e) {
    throw invalid(id, 'is not JSON', e);
  }
  const template = applyDiscovery(resolved.template, document, {
    allowInsecureLoopback: options.allowInsecureLoopback ?? new URL(discoveryUrl).protocol === 'http:',
    source: options.source ?? id,
    discoveryUrl,
  });
  return {
    ...resolved,
    template,
    issuer: template.authorize.issuer,
    endpoints: {
      ...resolved.endpoints,
      authorize: template.endpoints.authorize,
      token: template.endpoints.token,
      revoke: template.endpoints.revoke?.url,
      userinfo: template.endpoints.userinfo?.url,
    },
  };
}
