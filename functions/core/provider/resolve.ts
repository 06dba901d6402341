/**
 * Binds a provider template to one integration's variables: checks the values, applies defaults and
 * resolves every endpoint URL. URLs must be https; plain http is accepted only for loopback hosts and only
 * when the caller opts in (local mode and tests).
 */
import { TemplateError } from '../errors.js';
import { interpolate, lookupFrom, MissingValueError, placeholdersOf } from './interpolate.js';
import { formatPath } from './json-path.js';
import type { ProviderTemplate, TokenGrantName } from './schema.js';
import { checkVariableValue, type VariableValue } from './variables.js';

export interface ResolveOptions {
  /** Accept `http://` endpoints on 127.0.0.0/8, ::1 and localhost. Never set in AWS. */
  allowInsecureLoopback?: boolean;
  /** Names the integration in error messages. */
  source?: string;
}

export interface ResolvedEndpoints {
  authorize?: string | undefined;
  token?: string | undefined;
  revoke?: string | undefined;
  userinfo?: string | undefined;
  discovery?: string | undefined;
  /** OpenID Connect: the JWKS of the vendor's ID tokens (set = the provider is OIDC). */
  jwks?: string | undefined;
  /** Per-grant token endpoint overrides. */
  grants: Partial<Record<TokenGrantName, string>>;
}

/** A provider template bound to one integration's variables. */
export interface ResolvedProvider {
  readonly template: ProviderTemplate;
  readonly vars: Readonly<Record<string, VariableValue>>;
  readonly endpoints: ResolvedEndpoints;
  /** RFC 9207 issuer identifier, when the template declares one. */
  readonly issuer?: string | undefined;
  /**
   * The vendor's API base URL when it depends on variables only; a base that needs a connection's metadata
   * (Salesforce `instance_url`) is resolved per connection by {@link apiBaseUrlFor}.
   */
  readonly apiBaseUrl?: string | undefined;
  /** Bound in local mode: loopback http endpoints are allowed (kept to bind a connection's variables alike). */
  readonly local?: boolean | undefined;
}

const LOOPBACK_HOSTS = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

const CREDENTIALS_PROBLEM = 'must not carry credentials';

/** Checks that a resolved URL is absolute, credential-free and https (or allowed loopback http). */
export function checkEndpointUrl(url: string, options: ResolveOptions): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL after interpolation';
  }
  if (parsed.username || parsed.password) return CREDENTIALS_PROBLEM;
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && options.allowInsecureLoopback && LOOPBACK_HOSTS.test(parsed.hostname)) {
    return undefined;
  }
  return parsed.protocol === 'http:'
    ? 'must use https (http is allowed only for loopback hosts in local mode)'
    : 'must use https';
}

function bindVariables(
  template: ProviderTemplate,
  given: Readonly<Record<string, unknown>>,
  source: string,
): Record<string, VariableValue> {
  const vars: Record<string, VariableValue> = {};
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(template.variables, name)) {
      const known = Object.keys(template.variables);
      throw new TemplateError(
        source,
        formatPath(['vars', name]),
        `provider ${template.id} has no variable "${name}"${known.length ? ` (known: ${known.join(', ')})` : ''}`,
      );
    }
  }
  for (const [name, spec] of Object.entries(template.variables)) {
    // An explicit `undefined` counts as not given; a required variable never falls back to a default.
    const own = Object.hasOwn(given, name) ? given[name] : undefined;
    const value = own !== undefined || spec.required ? own : spec.default;
    if (value === undefined) {
      if (spec.required)
        throw new TemplateError(source, formatPath(['vars', name]), `is required: ${spec.description}`);
      continue;
    }
    const problem = checkVariableValue(spec, value);
    if (problem) throw new TemplateError(source, formatPath(['vars', name]), problem);
    vars[name] = value as VariableValue;
  }
  return vars;
}

/** Binds `template` to `given` variables; throws {@link TemplateError} naming the bad variable or URL. */
export function resolveProvider(
  template: ProviderTemplate,
  given: Readonly<Record<string, unknown>> = {},
  options: ResolveOptions = {},
): ResolvedProvider {
  const source = options.source ?? template.id;
  const vars = bindVariables(template, given, source);
  const lookup = lookupFrom(vars);
  const url = (value: string | undefined, path: (string | number)[]): string | undefined => {
    if (value === undefined) return undefined;
    let resolved: string;
    try {
      resolved = interpolate(value, lookup);
    } catch (e) {
      if (e instanceof MissingValueError) {
        throw new TemplateError(
          source,
          formatPath(path),
          `needs variable ${e.placeholder}, which has no value`,
        );
      }
      throw e;
    }
    const problem = checkEndpointUrl(resolved, options);
    if (problem) {
      // Never echo a URL that carries credentials.
      const shown = problem === CREDENTIALS_PROBLEM ? 'the URL' : resolved;
      throw new TemplateError(source, formatPath(path), `${shown} ${problem}`);
    }
    return resolved;
  };
  const e = template.endpoints;
  const grants: Partial<Record<TokenGrantName, string>> = {};
  for (const [name, grant] of Object.entries(template.grants)) {
    if (grant && 'endpoint' in grant && grant.endpoint) {
      grants[name as TokenGrantName] = url(grant.endpoint, ['grants', name, 'endpoint']);
    }
  }
  const verify = template.grants.user_credentials?.verify.url;
  // The verify URL takes the username per request; its scheme and host are checked here, once, like any endpoint.
  // (A variable it needs may be left unset by an integration that never takes credentials: the route says so then.)
  if (
    verify !== undefined &&
    placeholdersOf(verify).every((n) => n === 'username' || vars[n] !== undefined)
  ) {
    url(verify.replaceAll('${username}', 'user'), ['grants', 'user_credentials', 'verify', 'url']);
  }
  const api = template.api?.baseUrl;
  const perConnection = api !== undefined && placeholdersOf(api).some((n) => n.startsWith('metadata.'));
  return {
    template,
    vars,
    ...(options.allowInsecureLoopback ? { local: true } : {}),
    apiBaseUrl: perConnection ? undefined : url(api, ['api', 'baseUrl']),
    issuer: url(template.authorize.issuer, ['authorize', 'issuer']),
    endpoints: {
      authorize: url(e.authorize, ['endpoints', 'authorize']),
      token: url(e.token, ['endpoints', 'token']),
      revoke: url(e.revoke?.url, ['endpoints', 'revoke', 'url']),
      userinfo: url(e.userinfo?.url, ['endpoints', 'userinfo', 'url']),
      discovery: url(e.discovery, ['endpoints', 'discovery']),
      jwks: url(e.jwks, ['endpoints', 'jwks']),
      grants,
    },
  };
}

/**
 * The API base URL for one connection: {@link ResolvedProvider.apiBaseUrl}, or the template's `api.baseUrl`
 * over the variables and the connection's metadata. Undefined when the template names none, or when a
 * metadata value it needs is missing or does not make an https URL.
 */
export function apiBaseUrlFor(
  integrationProvider: ResolvedProvider,
  metadata: Readonly<Record<string, string>> | undefined,
): string | undefined {
  const provider = bindToConnection(integrationProvider, metadata);
  if (provider.apiBaseUrl !== undefined) return provider.apiBaseUrl;
  const template = provider.template.api?.baseUrl;
  if (template === undefined) return undefined;
  const lookup = lookupFrom(provider.vars);
  let resolved: string;
  try {
    resolved = interpolate(template, (name) =>
      name.startsWith('metadata.')
        ? metadata !== undefined && Object.hasOwn(metadata, name.slice(9))
          ? metadata[name.slice(9)]
          : undefined
        : lookup(name),
    );
  } catch (e) {
    if (e instanceof MissingValueError) return undefined;
    throw e;
  }
  return checkEndpointUrl(resolved, {}) === undefined ? resolved : undefined;
}

/**
 * The provider as one connection uses it: the variables its callback values selected
 * (`authorize.callbackParams.<name>.selects`: Zoho's `accounts-server` picks the data centre) override the
 * integration's. The same provider when nothing is selected.
 */
export function bindToConnection(
  provider: ResolvedProvider,
  metadata: Readonly<Record<string, string>> | undefined,
): ResolvedProvider {
  if (!metadata) return provider;
  const overrides: Record<string, string | number> = {};
  for (const [name, spec] of Object.entries(provider.template.authorize.callbackParams)) {
    const value = Object.hasOwn(metadata, name) ? metadata[name] : undefined;
    if (!spec.selects || value === undefined || !Object.hasOwn(spec.selects.values, value)) continue;
    const selected = spec.selects.values[value] as string | number;
    if (provider.vars[spec.selects.variable] !== selected) overrides[spec.selects.variable] = selected;
  }
  if (Object.keys(overrides).length === 0) return provider;
  // Bound once per container and selection: a vend or refresh of a selected connection resolves nothing again.
  const key = JSON.stringify(overrides);
  let byOverrides = boundProviders.get(provider);
  if (!byOverrides) {
    byOverrides = new Map();
    boundProviders.set(provider, byOverrides);
  }
  let bound = byOverrides.get(key);
  if (!bound) {
    bound = resolveProvider(
      provider.template,
      { ...provider.vars, ...overrides },
      { allowInsecureLoopback: provider.local === true },
    );
    byOverrides.set(key, bound);
  }
  return bound;
}

/** Connection-bound providers by integration provider and selection (few: one per selectable value). */
const boundProviders = new WeakMap<ResolvedProvider, Map<string, ResolvedProvider>>();
