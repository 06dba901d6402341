/** Reads docs/openapi.yaml and answers the questions the API tests ask of it. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';

export const specFile = fileURLToPath(new URL('../../../docs/openapi.yaml', import.meta.url));

export type Json = Record<string, unknown>;

export const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface Operation {
  method: string;
  path: string;
  op: Json;
}

export function loadSpec(): Json {
  return parse(readFileSync(specFile, 'utf8')) as Json;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows a local JSON pointer (`#/components/...`, RFC 6901); undefined when it leads nowhere. */
export function pointer(spec: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = spec;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** The object itself, or what its `$ref` points to (followed repeatedly). */
export function deref(spec: Json, node: unknown): Json {
  let current = node;
  for (let hops = 0; isObject(current) && typeof current.$ref === 'string'; hops++) {
    if (hops > 16) throw new Error(`$ref cycle at ${current.$ref}`);
    const target = pointer(spec, current.$ref);
    if (target === undefined) throw new Error(`unresolved $ref ${current.$ref}`);
    current = target;
  }
  if (!isObject(current)) throw new Error('expected an object');
  return current;
}

export function operations(spec: Json): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries((spec.paths ?? {}) as Json)) {
    if (!isObject(item)) continue;
    for (const method of httpMethods) {
      const op = item[method];
      if (isObject(op)) out.push({ method: method.toUpperCase(), path, op });
    }
  }
  return out;
}

/**
 * The OpenAPI path of a route: API Gateway's greedy `{name+}` is written `{name}` (OpenAPI has no greedy
 * parameter; the parameter's description says it spans `/`).
 */
export function openapiPath(routePath: string): string {
  return routePath.replace(/\{(\w+)\+\}/g, '{$1}');
}

export function operation(spec: Json, method: string, path: string): Json | undefined {
  const item = (spec.paths as Json | undefined)?.[openapiPath(path)];
  const op = isObject(item) ? item[method.toLowerCase()] : undefined;
  return isObject(op) ? op : undefined;
}

/** The operation's responses with every `$ref` followed, keyed by status. */
export function responses(spec: Json, op: Json): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const [status, response] of Object.entries((op.responses ?? {}) as Json)) {
    out.set(status, deref(spec, response));
  }
  return out;
}

/** Header names of a response, lower-cased. */
export function headerNames(response: Json): string[] {
  return Object.keys((response.headers ?? {}) as Json).map((h) => h.toLowerCase());
}

export function header(spec: Json, response: Json, name: string): Json | undefined {
  for (const [key, value] of Object.entries((response.headers ?? {}) as Json)) {
    if (key.toLowerCase() === name.toLowerCase()) return deref(spec, value);
  }
  return undefined;
}

/** Every example value of one media type of a response (`example` and `examples.*.value`). */
export function examples(spec: Json, response: Json, mediaType: string): unknown[] {
  const media = (response.content as Json | undefined)?.[mediaType];
  if (!isObject(media)) return [];
  const out: unknown[] = [];
  if ('example' in media) out.push(media.example);
  for (const example of Object.values((media.examples ?? {}) as Json)) out.push(deref(spec, example).value);
  return out;
}

/** The `error` codes a response documents: from JSON examples, or `code: description` in HTML examples. */
export function errorCodes(spec: Json, response: Json): Set<string> {
  const codes = new Set<string>();
  for (const example of examples(spec, response, 'application/json')) {
    if (isObject(example) && typeof example.error === 'string') codes.add(example.error);
  }
  for (const example of examples(spec, response, 'text/html')) {
    const match = typeof example === 'string' ? /<p>([a-z_]+): /.exec(example) : null;
    if (match?.[1]) codes.add(match[1]);
  }
  return codes;
}

/** `/vend/{integration}` -> `['integration']`. */
export function templateParams(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
}

const SPEC_ID = 'https://tokenvend.invalid/openapi.yaml';

export type Validate = (value: unknown) => string[];

/**
 * JSON Schema 2020-12 validation (the dialect of OpenAPI 3.1) with ajv: `validatorFor(schema)` checks a
 * value against any schema of the document, its `#/components/...` references included.
 */
export function schemaValidator(spec: Json): (schema: unknown) => Validate {
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    formats: { uri: (s: string) => URL.canParse(s) },
  });
  ajv.addSchema({ $id: SPEC_ID, components: { schemas: (spec.components as Json).schemas } });
  const cache = new Map<string, Validate>();
  return (schema) => {
    const text = JSON.stringify(schema).replaceAll('"#/components/', `"${SPEC_ID}#/components/`);
    let validate = cache.get(text);
    if (!validate) {
      const compiled = ajv.compile(JSON.parse(text) as object);
      validate = (value) =>
        compiled(value) ? [] : (compiled.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
      cache.set(text, validate);
    }
    return validate;
  };
}
