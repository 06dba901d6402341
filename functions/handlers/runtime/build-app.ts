/**
 * Wires one {@link App} from its parts. AWS (aws-app.ts) and the local runtime (functions/local) differ only
 * in the parts they pass: DynamoDB vs dynalite, KMS vs a local AES key, Secrets Manager vs the config file.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CallerVerifier } from '../../adapters/caller-auth/index.js';
import {
  DynamoAssertionReplayGuard,
  DynamoConnectionStore,
  DynamoConnectStateStore,
} from '../../adapters/dynamodb/index.js';
import type { Deployment } from '../../core/config/deployment.js';
import { DiscoveredProviders } from '../../core/config/discovered-providers.js';
import { ConfigError } from '../../core/errors.js';
import { TokenLifecycle } from '../../core/lifecycle/lifecycle.js';
import type { FetchLike } from '../../core/oauth/http.js';
import type { SecretSource, TokenCipher } from '../../core/ports.js';
import type { ErrorLogger } from '../middleware/oauth-errors.js';
import type { App } from './app.js';

export interface AppParts {
  deployment: Deployment;
  dynamo: { client: DynamoDBClient; tableName: string };
  cipher: TokenCipher;
  secrets: SecretSource;
  callers: CallerVerifier;
  logger: ErrorLogger;
  fetch?: FetchLike;
  /** One vendor request; the lifecycle's lease covers a few of these. */
  vendorTimeoutMs?: number;
  /** Local mode: loopback http vendors (and their discovery documents) are allowed. */
  local?: boolean;
}

const DEFAULT_VENDOR_TIMEOUT_MS = 5_000;

export function buildApp(parts: AppParts): App {
  const { deployment } = parts;
  const vendorTimeoutMs = parts.vendorTimeoutMs ?? DEFAULT_VENDOR_TIMEOUT_MS;
  const fetch = parts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const store = new DynamoConnectionStore({ ...parts.dynamo, cipher: parts.cipher });
  const providers = new DiscoveredProviders({
    fetch,
    timeoutMs: vendorTimeoutMs,
    allowInsecureLoopback: parts.local ?? false,
  });
  const lifecycle = new TokenLifecycle(
    {
      store,
      resolveIntegration: (id) => {
        const integration = deployment.integrations.get(id);
        if (!integration) throw new ConfigError(`unknown integration ${id}`);
        return providers.provider(integration);
      },
      secrets: parts.secrets,
      fetch,
    },
    { vendorTimeoutMs },
  );
  return {
    flows: {
      deployment,
      providers,
      lifecycle,
      store,
      states: new DynamoConnectStateStore(parts.dynamo),
      replay: new DynamoAssertionReplayGuard(parts.dynamo),
      secrets: parts.secrets,
      fetch,
      now: () => Math.floor(Date.now() / 1000),
      vendorTimeoutMs,
    },
    callers: parts.callers,
    logger: parts.logger,
  };
}
