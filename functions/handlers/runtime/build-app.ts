/**
 * Wires one {@link App} from its parts. AWS (aws-app.ts) and the local runtime (functions/local) differ only
 * in the parts they pass: DynamoDB vs dynalite, KMS vs a local AES key, Secrets Manager vs the config file.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CallerVerifier } from '../../adapters/caller-auth/index.js';
import {
  DynamoAssertionReplayGuard,
  DynamoAttemptLimiter,
  DynamoConnectionStore,
  DynamoConnectStateStore,
  DynamoObtainGuard,
  DynamoParkedConnectionStore,
  DynamoSamlRequestStore,
} from '../../adapters/dynamodb/index.js';
import type { Deployment } from '../../core/config/deployment.js';
import { DiscoveredProviders } from '../../core/config/discovered-providers.js';
import { TokenLifecycle } from '../../core/lifecycle/lifecycle.js';
import type { FetchLike } from '../../core/oauth/http.js';
import type {
  ConnectionEventSink,
  RefreshQueue,
  SecretSource,
  Telemetry,
  TokenCipher,
} from '../../core/ports.js';
import { IdpMetadataCache } from '../../core/saml/idp-metadata.js';
import type { App, AppLogger } from './app.js';
import type { AuditTrail } from './audit-trail.js';

export interface AppParts {
  deployment: Deployment;
  dynamo: { client: DynamoDBClient; tableName: string };
  cipher: TokenCipher;
  secrets: SecretSource;
  callers: CallerVerifier;
  logger: AppLogger;
  /** The refresh planner's queue. */
  refreshQueue?: RefreshQueue;
  /** Connection events (EventBridge in AWS, the console locally); none when absent. */
  events?: ConnectionEventSink;
  /** Refresh metrics (Powertools EMF in AWS); none when absent. */
  telemetry?: Telemetry;
  /** The planner's interval: the scheduled refresh takes a connection this early. */
  scheduleLeadSeconds?: number;
  fetch?: FetchLike;
  /** One vendor request; the lifecycle's lease covers a few of these. */
  vendorTimeoutMs?: number;
  /** Local mode: loopback http vendors (and their discovery documents) are allowed. */
  local?: boolean;
  /** The audit trail (a CloudWatch log group in AWS, a file locally); none when absent. */
  audit?: AuditTrail;
}

/** Tells the audit trail who the verified caller is: the actor, and the subject of the connection it acts on. */
function audited(callers: CallerVerifier, audit: AuditTrail | undefined): CallerVerifier {
  if (!audit) return callers;
  return {
    verify: async (authorization) => {
      const caller = await callers.verify(authorization);
      audit.note({ actor: caller.subject, subject: caller.subject });
      return caller;
    },
    hydrate: () => callers.hydrate(),
  };
}

const DEFAULT_VENDOR_TIMEOUT_MS = 5_000;

const noEvents: ConnectionEventSink = { publish: async () => undefined };

export function buildApp(parts: AppParts): App {
  const { deployment } = parts;
  const events = parts.events ?? noEvents;
  const vendorTimeoutMs = parts.vendorTimeoutMs ?? DEFAULT_VENDOR_TIMEOUT_MS;
  const fetch = parts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const store = new DynamoConnectionStore({ ...parts.dynamo, cipher: parts.cipher });
  const providers = new DiscoveredProviders({
    fetch,
    timeoutMs: vendorTimeoutMs,
    allowInsecureLoopback: parts.local ?? false,
  });
  const lifecycle = new TokenLifecycle(
    { store, secrets: parts.secrets, fetch, events, telemetry: parts.telemetry, audit: parts.audit },
    { vendorTimeoutMs, scheduleLeadSeconds: parts.scheduleLeadSeconds ?? 60 },
  );
  return {
    flows: {
      deployment,
      providers,
      lifecycle,
      store,
      states: new DynamoConnectStateStore(parts.dynamo),
      replay: new DynamoAssertionReplayGuard(parts.dynamo),
      attempts: new DynamoAttemptLimiter(parts.dynamo),
      obtains: new DynamoObtainGuard(parts.dynamo),
      secrets: parts.secrets,
      events,
      fetch,
      now: () => Math.floor(Date.now() / 1000),
      vendorTimeoutMs,
    },
    parked: new DynamoParkedConnectionStore({ ...parts.dynamo, cipher: parts.cipher }),
    samlRequests: new DynamoSamlRequestStore(parts.dynamo),
    idpMetadata: new IdpMetadataCache({
      fetch,
      timeoutMs: vendorTimeoutMs,
      allowInsecureLoopback: parts.local ?? false,
    }),
    callers: audited(parts.callers, parts.audit),
    logger: parts.logger,
    audit: parts.audit,
    refreshQueue: parts.refreshQueue,
    telemetry: parts.telemetry,
  };
}
