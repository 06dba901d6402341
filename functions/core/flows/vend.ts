/**
 * Vending (DESIGN flow 3): the caller's own connection, refreshed first when within the provider's margin
 * (single-flight across Lambdas), shaped with the provider's token usage so callers need no vendor knowledge.
 */
import type { Integration } from '../config/deployment.js';
import { type Authorization, authorizationFor } from '../oauth/engine.js';
import { apiBaseUrlFor } from '../provider/resolve.js';
import { type FlowDeps, integrationOf } from './deps.js';

export interface VendResult {
  access_token: string;
  token_type: string;
  expires_at?: number | undefined;
  expires_in?: number | undefined;
  scope?: string | undefined;
  authorization: Authorization;
  /** Where the vendor's API lives for this connection (the template's `api.baseUrl`). */
  api_base_url?: string | undefined;
  /** Non-secret values the template keeps (Salesforce `instance_url`, Zoho `accounts-server`). */
  metadata?: Readonly<Record<string, string>> | undefined;
}

/** What a caller may add to a vend: the hash of a token the vendor refused ({@link accessTokenHash}). */
export interface VendOptions {
  rejected?: string | undefined;
}

export async function vendToken(
  deps: FlowDeps,
  input: { integration: string; subject: string } & VendOptions,
): Promise<VendResult> {
  return vendFor(deps, await integrationOf(deps, input.integration), input.subject, input);
}

/** Vends `subject`'s token on an integration already resolved for this request. */
export async function vendFor(
  deps: FlowDeps,
  integration: Integration,
  subject: string,
  options: VendOptions = {},
): Promise<VendResult> {
  const token = await deps.lifecycle.getFreshToken(integration, subject, {
    vend: true,
    rejected: options.rejected,
  });
  const now = deps.now();
  return {
    access_token: token.accessToken,
    token_type: token.tokenType,
    expires_at: token.expiresAt,
    expires_in: token.expiresAt === undefined ? undefined : Math.max(0, token.expiresAt - now),
    scope: token.scopes?.join(' '),
    authorization: authorizationFor(integration.provider, token),
    api_base_url: apiBaseUrlFor(integration.provider, token.metadata),
    metadata: token.metadata,
  };
}
