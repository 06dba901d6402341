/** Small builders shared by the core unit tests: a template from overrides, bound to variables. */
import { TokenvendError } from '../../../functions/core/errors.js';
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

/** Every message and cause in an error's chain, for "never carries a secret" checks. */
export function errorText(e: unknown): string {
  const parts: string[] = [];
  let current: unknown = e;
  for (let depth = 0; current !== undefined && depth < 10; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, String(current.stack));
      if (current instanceof TokenvendError) parts.push(JSON.stringify(current));
      current = current.cause;
    } else {
      try {
        parts.push(JSON.stringify(current) ?? String(current));
      } catch {
        parts.push(String(current));
      }
      if (current instanceof URLSearchParams) parts.push(current.toString());
      current = undefined;
    }
  }
  return parts.join('\n');
}
