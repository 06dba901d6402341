/** What the API flows need, wired once per container by the handler layer (AWS) or the local runtime. */
import type { Deployment, Integration } from '../config/deployment.js';
import type { DiscoveredProviders } from '../config/discovered-providers.js';
import { InvalidRequestError } from '../errors.js';
import type { TokenLifecycle } from '../lifecycle/lifecycle.js';
import type { ConnectFlowStateStore, ConnectionStore } from '../lifecycle/store.js';
import type { FetchLike } from '../oauth/http.js';
import type {
  AssertionReplayGuard,
  AttemptLimiter,
  ConnectionEventSink,
  ObtainGuard,
  SecretSource,
} from '../ports.js';

export interface FlowDeps {
  deployment: Deployment;
  /** Integrations' providers after OIDC discovery, where configured. */
  providers: DiscoveredProviders;
  lifecycle: TokenLifecycle;
  store: ConnectionStore;
  states: ConnectFlowStateStore;
  replay: AssertionReplayGuard;
  /** Single flight and backoff for obtaining service connections' credentials (service-vend.ts). */
  obtains: ObtainGuard;
  /** Caps each subject's password checks at the vendor (`POST /connect/{integration}/credentials`). */
  attempts: AttemptLimiter;
  secrets: SecretSource;
  events: ConnectionEventSink;
  fetch: FetchLike;
  /** Epoch seconds. */
  now: () => number;
  vendorTimeoutMs: number;
}

/**
 * The integration named in the path, its provider ready to use (discovered where configured); an unknown
 * one is a 404 that does not reveal what exists.
 */
export async function integrationOf(
  deps: Pick<FlowDeps, 'deployment' | 'providers'>,
  id: string | undefined,
): Promise<Integration> {
  const integration = id ? deps.deployment.integrations.get(id) : undefined;
  if (!integration) {
    throw new InvalidRequestError('no such integration', { status: 404, error: 'unknown_integration' });
  }
  const provider = await deps.providers.provider(integration);
  return provider === integration.provider ? integration : { ...integration, provider };
}

/** `https://api.example.com/oauth/genesys-eu/callback`: the redirect URI registered at the vendor. */
export function callbackUrl(baseUrl: string, integration: string): string {
  return new URL(
    `oauth/${encodeURIComponent(integration)}/callback`,
    baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`,
  ).toString();
}

/** `https://api.example.com/saml/genesys-eu/acs`: the ACS URL the IdP posts to (Destination, Recipient). */
export function acsUrl(baseUrl: string, integration: string): string {
  return new URL(
    `saml/${encodeURIComponent(integration)}/acs`,
    baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`,
  ).toString();
}
