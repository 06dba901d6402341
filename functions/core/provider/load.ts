/**
 * Loads a provider template from text (JSON or YAML) or a parsed object and validates it completely:
 * schema (unknown keys, types, discriminants), variable declarations, and every `${placeholder}` against
 * what may appear at that spot. Any failure is one {@link TemplateError} naming source, JSON path and problem.
 */
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { TemplateError } from '../errors.js';
import { placeholdersOf, removePlaceholders } from './interpolate.js';
import { formatPath } from './json-path.js';
import { type ProviderTemplate, providerTemplateSchema } from './schema.js';
import { checkVariableValue } from './variables.js';

/** What may appear in a templated string besides declared variables, by where the string sits. */
type Scope =
  | 'url'
  | 'apiUrl'
  | 'verifyUrl'
  | 'authorizeParam'
  | 'grantParam'
  | 'codeHeader'
  | 'static'
  | 'usage';

const RUNTIME_NAMES: Record<Scope, { names: readonly string[]; secret: boolean }> = {
  url: { names: [], secret: false },
  apiUrl: { names: [], secret: false },
  verifyUrl: { names: ['username'], secret: false },
  authorizeParam: { names: ['client_id'], secret: false },
  grantParam: { names: ['client_id'], secret: true },
  codeHeader: { names: ['code', 'client_id'], secret: true },
  static: { names: [], secret: true },
  usage: { names: ['access_token', 'token_type'], secret: false },
};

type Path = (string | number)[];

// In its own module so that the request path (resolve.ts) formats paths without loading the schemas.
export { formatPath };

/** The first problem of a zod error as `{ path, problem }` (`$.a.b`, `unknown key "x" (and 2 more problems)`). */
export function firstZodProblem(error: z.ZodError): { path: string; problem: string } {
  const [first, ...rest] = error.issues;
  if (!first) return { path: '$', problem: 'invalid value' };
  let problem = first.message;
  if (first.code === 'unrecognized_keys')
    problem = `unknown key ${first.keys.map((k) => `"${k}"`).join(', ')}`;
  if (rest.length > 0) problem += ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})`;
  return { path: formatPath(first.path), problem };
}

function fromZod(source: string, error: z.ZodError): TemplateError {
  const { path, problem } = firstZodProblem(error);
  return new TemplateError(source, path, problem, error);
}

/** Every templated string of a template with its path and scope. */
function* templatedStrings(t: ProviderTemplate): Generator<{ path: Path; value: string; scope: Scope }> {
  const e = t.endpoints;
  if (e.authorize) yield { path: ['endpoints', 'authorize'], value: e.authorize, scope: 'url' };
  if (e.token) yield { path: ['endpoints', 'token'], value: e.token, scope: 'url' };
  if (e.discovery) yield { path: ['endpoints', 'discovery'], value: e.discovery, scope: 'url' };
  if (e.revoke) yield { path: ['endpoints', 'revoke', 'url'], value: e.revoke.url, scope: 'url' };
  if (e.userinfo) yield { path: ['endpoints', 'userinfo', 'url'], value: e.userinfo.url, scope: 'url' };
  if (e.jwks) yield { path: ['endpoints', 'jwks'], value: e.jwks, scope: 'url' };
  if (t.authorize.issuer) yield { path: ['authorize', 'issuer'], value: t.authorize.issuer, scope: 'url' };
  for (const [k, v] of Object.entries(t.authorize.params)) {
    yield { path: ['authorize', 'params', k], value: v, scope: 'authorizeParam' };
  }
  for (const [name, grant] of Object.entries(t.grants)) {
    if (!grant) continue;
    if ('verify' in grant) {
      yield { path: ['grants', name, 'verify', 'url'], value: grant.verify.url, scope: 'verifyUrl' };
      continue;
    }
    if ('token' in grant && 'tokenType' in grant) {
      yield { path: ['grants', name, 'token'], value: grant.token, scope: 'static' };
      continue;
    }
    if ('scheme' in grant) {
      yield { path: ['grants', name, 'username'], value: grant.username, scope: 'static' };
      yield { path: ['grants', name, 'password'], value: grant.password, scope: 'static' };
      continue;
    }
    if (grant.endpoint) yield { path: ['grants', name, 'endpoint'], value: grant.endpoint, scope: 'url' };
    for (const [k, v] of Object.entries(grant.params)) {
      yield { path: ['grants', name, 'params', k], value: v, scope: 'grantParam' };
    }
    for (const [k, v] of Object.entries(grant.headers)) {
      yield { path: ['grants', name, 'headers', k], value: v, scope: 'grantParam' };
    }
    if ('code' in grant && grant.code.in === 'header') {
      yield { path: ['grants', name, 'code', 'value'], value: grant.code.value, scope: 'codeHeader' };
    }
    if ('assertion' in grant && grant.assertion.source === 'signed') {
      for (const [k, v] of Object.entries(grant.assertion.claims)) {
        yield { path: ['grants', name, 'assertion', 'claims', k], value: v, scope: 'grantParam' };
      }
    }
  }
  if (t.clientAssertion?.audience) {
    yield { path: ['clientAssertion', 'audience'], value: t.clientAssertion.audience, scope: 'url' };
  }
  if (t.api) yield { path: ['api', 'baseUrl'], value: t.api.baseUrl, scope: 'apiUrl' };
  const u = t.usage;
  if (u.in === 'basic') {
    yield { path: ['usage', 'username'], value: u.username, scope: 'usage' };
    yield { path: ['usage', 'password'], value: u.password, scope: 'usage' };
  } else {
    yield { path: ['usage', 'value'], value: u.value, scope: 'usage' };
  }
}

/**
 * A URL template starts with a literal `https://`; literal `http://` is accepted only for a literal loopback
 * host (test servers), which the resolver still refuses unless local mode opts in.
 */
const URL_SCHEME = /^(?:https:\/\/|http:\/\/(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?=[:/?#]|$))/;

/** Authorization request parameters the flow itself owns: a directive overriding them would break state or PKCE. */
const RESERVED_AUTHORIZE_PARAMS = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'code_challenge',
  'code_challenge_method',
]);

/** Patterns of the metadata a template declares (token-response fields and callback values); `''` = none. */
function metadataPatterns(t: ProviderTemplate): Map<string, string> {
  const patterns = new Map<string, string>();
  for (const [name, spec] of Object.entries(t.response.metadata)) {
    patterns.set(name, typeof spec === 'object' && 'field' in spec ? (spec.pattern ?? '') : '');
  }
  for (const [name, spec] of Object.entries(t.authorize.callbackParams)) patterns.set(name, spec.pattern);
  return patterns;
}

/**
 * An API base URL may start with a metadata value (Salesforce `instance_url`) only when that value's pattern
 * itself pins the scheme: `https://` and no alternation at the top level.
 */
function pinsHttps(pattern: string): boolean {
  return pattern.startsWith('https://') || pattern.startsWith('https:\\/\\/');
}

function checkPlaceholders(source: string, t: ProviderTemplate): void {
  const declared = new Set(Object.keys(t.variables));
  const metadata = metadataPatterns(t);
  for (const { path, value, scope } of templatedStrings(t)) {
    if (scope === 'apiUrl') {
      checkApiUrl(source, t, path, value, metadata);
      continue;
    }
    const allowed = RUNTIME_NAMES[scope];
    // `${secret.client-id}` or `${ region }` would otherwise be sent literally.
    if (removePlaceholders(value).includes('${')) {
      throw new TemplateError(
        source,
        formatPath(path),
        'malformed placeholder: use ${name} with letters, digits, _ and dots only',
      );
    }
    for (const name of placeholdersOf(value)) {
      const isSecret = name.startsWith('secret.');
      if (name === 'secret.private_key') {
        throw new TemplateError(
          source,
          formatPath(path),
          '${secret.private_key} only signs (private_key_jwt, signed assertions); it is never sent',
        );
      }
      const ok = declared.has(name) || allowed.names.includes(name) || (allowed.secret && isSecret);
      if (!ok) {
        if (isSecret) {
          throw new TemplateError(source, formatPath(path), `\${${name}}: secrets are not allowed here`);
        }
        const hint = allowed.names.length
          ? ` (declare it under variables, or use ${allowed.names.join(', ')})`
          : '';
        throw new TemplateError(source, formatPath(path), `undeclared variable \${${name}}${hint}`);
      }
      if (scope === 'url' || scope === 'verifyUrl') {
        const spec = t.variables[name];
        if (spec && spec.enum === undefined && spec.pattern === undefined) {
          throw new TemplateError(
            source,
            formatPath(['variables', name]),
            `variable ${name} is used in a URL and must declare an enum or a pattern`,
          );
        }
      }
    }
    if ((scope === 'url' || scope === 'verifyUrl') && !URL_SCHEME.test(value)) {
      throw new TemplateError(
        source,
        formatPath(path),
        'a URL must start with https:// (the scheme and the host of http:// loopback URLs cannot be templated)',
      );
    }
  }
}

/** `api.baseUrl`: variables under the URL rules, and declared metadata; only a pinned-https value may lead. */
function checkApiUrl(
  source: string,
  t: ProviderTemplate,
  path: Path,
  value: string,
  metadata: Map<string, string>,
): void {
  if (removePlaceholders(value).includes('${')) {
    throw new TemplateError(
      source,
      formatPath(path),
      'malformed placeholder: use ${name} with letters, digits, _ and dots only',
    );
  }
  for (const name of placeholdersOf(value)) {
    if (name.startsWith('metadata.')) {
      const pattern = metadata.get(name.slice('metadata.'.length));
      if (pattern === undefined) {
        throw new TemplateError(
          source,
          formatPath(path),
          `\${${name}} is not declared in response.metadata or authorize.callbackParams`,
        );
      }
      if (pattern === '') {
        throw new TemplateError(
          source,
          formatPath(path),
          `\${${name}} is used in a URL, so its response.metadata entry must declare a pattern`,
        );
      }
      continue;
    }
    const spec = t.variables[name];
    if (!spec) throw new TemplateError(source, formatPath(path), `undeclared variable \${${name}}`);
    if (spec.enum === undefined && spec.pattern === undefined) {
      throw new TemplateError(
        source,
        formatPath(['variables', name]),
        `variable ${name} is used in a URL and must declare an enum or a pattern`,
      );
    }
  }
  const leading = /^\$\{metadata\.([A-Za-z][A-Za-z0-9_]*)\}/.exec(value);
  if (leading) {
    if (!pinsHttps(metadata.get(leading[1] as string) ?? '')) {
      throw new TemplateError(
        source,
        formatPath(path),
        `a URL may start with \${metadata.${leading[1]}} only when its pattern starts with https://`,
      );
    }
    return;
  }
  if (!URL_SCHEME.test(value)) {
    throw new TemplateError(
      source,
      formatPath(path),
      'a URL must start with https:// (the scheme and the host of http:// loopback URLs cannot be templated)',
    );
  }
}

/** A callback value may only select declared values of an enum variable, and only values its pattern lets in. */
function checkSelects(
  source: string,
  t: ProviderTemplate,
  name: string,
  pattern: string,
  selects: { variable: string; values: Record<string, string | number> },
): void {
  const at = ['authorize', 'callbackParams', name, 'selects'];
  const variable = t.variables[selects.variable];
  if (!variable?.enum) {
    throw new TemplateError(
      source,
      formatPath([...at, 'variable']),
      `${selects.variable} must be a declared variable with an enum`,
    );
  }
  const whole = new RegExp(`^(?:${pattern})$`, 'u');
  for (const [value, selected] of Object.entries(selects.values)) {
    if (!whole.test(value)) {
      throw new TemplateError(
        source,
        formatPath([...at, 'values', value]),
        'the pattern never lets this value in',
      );
    }
    if (!variable.enum.includes(selected)) {
      throw new TemplateError(
        source,
        formatPath([...at, 'values', value]),
        `${String(selected)} is not one of ${selects.variable}'s values`,
      );
    }
  }
}

/** Query parameters of the redirect back that the flow itself reads. */
const RESERVED_CALLBACK_PARAMS = new Set(['code', 'state', 'iss', 'error', 'error_description', 'error_uri']);

function checkRequestShapes(source: string, t: ProviderTemplate): void {
  const codeParam = t.grants.authorization_code?.responseCodeParam;
  for (const [name, spec] of Object.entries(t.authorize.callbackParams)) {
    if (spec.selects) checkSelects(source, t, name, spec.pattern, spec.selects);
    if (RESERVED_CALLBACK_PARAMS.has(spec.param) || spec.param === codeParam) {
      throw new TemplateError(
        source,
        formatPath(['authorize', 'callbackParams', name, 'param']),
        `${spec.param} is read by the callback itself and cannot be kept as metadata`,
      );
    }
  }
  for (const name of Object.keys(t.authorize.params)) {
    if (RESERVED_AUTHORIZE_PARAMS.has(name)) {
      throw new TemplateError(
        source,
        formatPath(['authorize', 'params', name]),
        `${name} is set by the authorization flow itself and cannot be a directive`,
      );
    }
  }
  for (const [name, grant] of Object.entries(t.grants)) {
    if (!grant || 'scheme' in grant) continue;
    if (grant.method === 'GET' && grant.paramsIn !== 'query') {
      throw new TemplateError(
        source,
        formatPath(['grants', name, 'method']),
        'a GET token request carries its parameters in the query: set paramsIn to query',
      );
    }
    if (grant.paramsIn !== 'query') continue;
    // With paramsIn query, body client auth would put client_secret into the URL (proxy and access logs).
    const auths: [string, string][] = [['clientAuth', grant.clientAuth]];
    if ('publicClientAuth' in grant) auths.push(['publicClientAuth', grant.publicClientAuth]);
    for (const [key, auth] of auths) {
      if (auth === 'body' || auth === 'private_key_jwt') {
        throw new TemplateError(
          source,
          formatPath(['grants', name, key]),
          `${auth} client authentication cannot be combined with paramsIn query (the credential would be in the URL)`,
        );
      }
    }
  }
}

function checkVariableDefaults(source: string, t: ProviderTemplate): void {
  for (const [name, spec] of Object.entries(t.variables)) {
    if (spec.enum) {
      const wrong = spec.enum.findIndex((v) => typeof v !== spec.type);
      if (wrong >= 0) {
        throw new TemplateError(
          source,
          formatPath(['variables', name, 'enum', wrong]),
          `must be a ${spec.type}`,
        );
      }
    }
    if (spec.default !== undefined && spec.required) {
      throw new TemplateError(
        source,
        formatPath(['variables', name, 'default']),
        'a required variable cannot have a default (an integration must give the value)',
      );
    }
    if (spec.default !== undefined) {
      const problem = checkVariableValue(spec, spec.default);
      if (problem) throw new TemplateError(source, formatPath(['variables', name, 'default']), problem);
    }
  }
}

/** Parses JSON or YAML text; `source` (a file name) decides the syntax and names the template in errors. */
export function parseTemplateText(text: string, source: string): unknown {
  try {
    return /\.ya?ml$/i.test(source) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new TemplateError(
      source,
      '$',
      `not valid ${/\.ya?ml$/i.test(source) ? 'YAML' : 'JSON'}: ${(e as Error).message}`,
      e,
    );
  }
}

/** Validates a parsed template object. */
export function loadProviderTemplate(input: unknown, source = '<inline>'): ProviderTemplate {
  const parsed = providerTemplateSchema.safeParse(input);
  if (!parsed.success) throw fromZod(source, parsed.error);
  checkVariableDefaults(source, parsed.data);
  checkPlaceholders(source, parsed.data);
  checkRequestShapes(source, parsed.data);
  return parsed.data;
}

/** Parses and validates template text (JSON or YAML, chosen by the file name). */
export function loadProviderTemplateText(text: string, source: string): ProviderTemplate {
  return loadProviderTemplate(parseTemplateText(text, source), source);
}
