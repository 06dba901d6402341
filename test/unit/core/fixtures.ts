/** Small builders shared by the core unit tests: a template from overrides, bound to variables. */
import { loadProviderTemplate } from '../../../functions/core/provider/load.js';
import { type ResolvedProvider, resolveProvider } from '../../../functions/core/provider/resolve.js';

export const baseTemplate = {
  id: 'acme',
  name: 'Acme',
  variables: {
    region: { description: 'region', enum: ['eu.acme.com', 'us.acme.com'], default: 'eu.acme.com' },
  },
  endpoints: {
    authorize: 'https://login.${region}/authorize',
    token: 'https://login.${region}/token',
  },
  grants: { authorization_code: {}, refresh_token: {} },
};

/** Loads `baseTemplate` with top-level keys replaced by `overrides` and binds it to `vars`. */
export function provider(
  overrides: Record<string, unknown> = {},
  vars: Record<string, unknown> = {},
): ResolvedProvider {
  return resolveProvider(loadProviderTemplate({ ...baseTemplate, ...overrides }, 'test.json'), vars);
}

/** Runs `fn` and returns what it threw (failing when it did not throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

/** Every string reachable from an error: messages, stacks, own fields and the whole `cause` chain. */
export function errorText(e: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  const walk = (value: unknown, depth: number): void => {
    if (depth > 8 || value === null || value === undefined) return;
    if (typeof value !== 'object' && typeof value !== 'function') {
      parts.push(String(value));
      return;
    }
    if (seen.has(value)) return;
    seen.add(value);
    if (value instanceof URLSearchParams || value instanceof URL) parts.push(value.toString());
    if (value instanceof Error) parts.push(value.message, String(value.stack));
    if (value instanceof Map) for (const [k, v] of value) walk([k, v], depth + 1);
    for (const key of Reflect.ownKeys(value)) walk((value as Record<PropertyKey, unknown>)[key], depth + 1);
    if (value instanceof Error) walk(value.cause, depth + 1);
  };
  walk(e, 0);
  return parts.join('\n');
}
