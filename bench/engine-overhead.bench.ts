/**
 * What the grant engine costs on top of the HTTP round trip: `requestToken` (client_credentials) against
 * a plain `fetch` POST of the identical request to the same oidc-provider token endpoint, interleaved.
 * Target: engine_overhead_ratio <= 1.10.
 */
import type { ClientSecret } from '../functions/core/oauth/client-auth.js';
import { requestToken } from '../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../functions/core/oauth/token-request.js';
import { loadProviderTemplate } from '../functions/core/provider/load.js';
import { resolveProvider } from '../functions/core/provider/resolve.js';
import { startOidcServer, TEST_CLIENT } from '../test/support/oidc-server.js';
import { compare, type Figure } from './lib.js';

export default async function (): Promise<Figure[]> {
  const server = await startOidcServer();
  try {
    const provider = resolveProvider(
      loadProviderTemplate(server.template()),
      {},
      { allowInsecureLoopback: true },
    );
    const client: ClientSecret = {
      client_id: TEST_CLIENT.client_id,
      client_secret: TEST_CLIENT.client_secret,
    };
    const deps = { fetch: (input: string, init: RequestInit) => fetch(input, init) };
    const request = buildTokenRequest(provider, { grant: 'client_credentials' }, client);

    const plain = async () => {
      const response = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
      const body = (await response.json()) as { access_token?: unknown };
      if (response.status !== 200 || typeof body.access_token !== 'string')
        throw new Error('plain fetch failed');
    };
    const engine = () => requestToken(provider, { grant: 'client_credentials' }, client, deps);

    const { baseline, candidate, ratio } = await compare(plain, engine, { warmup: 200, iterations: 2000 });
    if (server.tokenRequests('client_credentials') !== 2 * (200 + 2000))
      throw new Error('unexpected request count');
    return [
      { name: 'engine_request_ms', value: candidate.p50, unit: 'ms' },
      { name: 'plain_fetch_ms', value: baseline.p50, unit: 'ms' },
      { name: 'engine_overhead_ratio', value: ratio, unit: 'x' },
    ];
  } finally {
    await server.close();
  }
}
