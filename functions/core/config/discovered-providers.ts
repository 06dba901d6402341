/**
 * Providers bound to an integration, after OIDC discovery where the integration asks for it
 * (`integrations.<id>.discovery`). The document is fetched on first use and kept for the container's life;
 * a failed fetch is not kept, so the next request tries again, and it only affects that one integration.
 */
import type { FetchLike } from '../oauth/http.js';
import { discoverProvider } from '../provider/discovery.js';
import type { ResolvedProvider } from '../provider/resolve.js';
import type { Integration } from './deployment.js';

export interface DiscoveryDeps {
  fetch: FetchLike;
  timeoutMs: number;
  /** Local mode: loopback http discovery documents and endpoints. */
  allowInsecureLoopback: boolean;
}

export class DiscoveredProviders {
  readonly #cache = new Map<string, Promise<ResolvedProvider>>();
  readonly #deps: DiscoveryDeps;

  constructor(deps: DiscoveryDeps) {
    this.#deps = deps;
  }

  /** The integration's provider, with discovered endpoints when it declares a discovery URL. */
  provider(integration: Integration): Promise<ResolvedProvider> {
    if (!integration.provider.endpoints.discovery) return Promise.resolve(integration.provider);
    let pending = this.#cache.get(integration.id);
    if (!pending) {
      pending = discoverProvider(
        integration.provider,
        { fetch: this.#deps.fetch, timeoutMs: this.#deps.timeoutMs },
        { allowInsecureLoopback: this.#deps.allowInsecureLoopback, source: integration.id },
      );
      pending.catch(() => this.#cache.delete(integration.id));
      this.#cache.set(integration.id, pending);
    }
    return pending;
  }
}
