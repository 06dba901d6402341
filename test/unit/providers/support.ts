/** Shared helpers of the built-in provider tests: loading and resolving real templates, reading requests. */
import { randomUUID } from 'node:crypto';
import { loadBuiltinProviders } from '../../../functions/adapters/provider-files.js';
import type { ClientSecret } from '../../../functions/core/oauth/client-auth.js';
import type { HttpRequest, HttpResponse } from '../../../functions/core/oauth/http.js';
import { type ResolvedProvider, resolveProvider } from '../../../functions/core/provider/resolve.js';

/** A fixed clock (epoch seconds) so expiries are exact. */
export const NOW = 1_900_000_000;

export const REDIRECT_URI = 'https://tokens.example.com/oauth/test-integration/callback';

/** A throwaway token-like string, fresh per call. */
export function tok(kind = 'tok'): string {
  return `${kind}-${randomUUID()}`;
}

export function confidentialClient(): ClientSecret {
  return { client_id: tok('cid'), client_secret: tok('sec') };
}

export function publicClient(): ClientSecret {
  return { client_id: tok('cid') };
}

/** The Basic header computed independently of the engine (ids and secrets here need no form encoding). */
export function basicOf(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

export function basicFor(client: ClientSecret): string {
  return basicOf(client.client_id, client.client_secret ?? '');
}

/** Loads a built-in template from providers/ and binds it to `vars`. */
export async function builtin(id: string, vars: Record<string, unknown> = {}): Promise<ResolvedProvider> {
  const template = (await loadBuiltinProviders()).get(id);
  if (!template) throw new Error(`no built-in provider ${id}`);
  return resolveProvider(template, vars);
}

export function formOf(request: Pick<HttpRequest, 'body'>): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(request.body ?? ''));
}

export function jsonOf(request: Pick<HttpRequest, 'body'>): Record<string, string> {
  return JSON.parse(request.body ?? '{}') as Record<string, string>;
}

export function queryOf(request: Pick<HttpRequest, 'url'>): Record<string, string> {
  return Object.fromEntries(new URL(request.url).searchParams);
}

/** The URL without its query string. */
export function endpointOf(request: Pick<HttpRequest, 'url'>): string {
  const url = new URL(request.url);
  return `${url.origin}${url.pathname}`;
}

/** A vendor answer as the engine reads it. */
export function reply(body: unknown, status = 200): HttpResponse {
  return {
    status,
    headers: new Headers({ 'content-type': 'application/json' }),
    body: JSON.stringify(body),
  };
}
