/** What every HTTP handler gets: the flows' dependencies plus the HTTP-side pieces, built once per container. */
import type { Context } from 'aws-lambda';
import type { CallerVerifier } from '../../adapters/caller-auth/index.js';
import type { FlowDeps } from '../../core/flows/deps.js';
import type { ParkedConnectionStore } from '../../core/lifecycle/store.js';
import type { RefreshQueue, Telemetry } from '../../core/ports.js';
import type { IdpMetadataSource } from '../../core/saml/idp-metadata.js';
import type { SamlRequestStore } from '../../core/saml/requests.js';
import type { ErrorLogger } from '../middleware/oauth-errors.js';
import type { AuditTrail } from './audit-trail.js';

/** Structured logging of a container: messages are our own words, details never hold a token. */
export interface AppLogger extends ErrorLogger {
  info(message: string, details: Record<string, unknown>): void;
  /** Adds the invocation (request id, function) to the lines that follow, so one request's lines correlate. */
  addContext?(context: Context): void;
}

export interface App {
  flows: FlowDeps;
  /**
   * Finished browser flows waiting for their claim (the OAuth callback parks, `POST /connect/{id}/claim`
   * claims). buildApp always sets it; an app built by hand for other routes may leave it out.
   */
  parked?: ParkedConnectionStore | undefined;
  /** Outstanding SP-initiated SAML requests (`GET /saml/{id}/login` stores, the ACS consumes). buildApp sets it. */
  samlRequests?: SamlRequestStore | undefined;
  /** IdP metadata fetched from `saml.idpMetadataUrl`, cached for the container's life. buildApp sets it. */
  idpMetadata?: IdpMetadataSource | undefined;
  callers: CallerVerifier;
  logger: AppLogger;
  /** Where the refresh planner sends due connections (the planner's container only). */
  refreshQueue?: RefreshQueue | undefined;
  /** Refresh metrics; none when absent. */
  telemetry?: Telemetry | undefined;
  /** The audit trail (docs/audit.md); none when absent. */
  audit?: AuditTrail | undefined;
}

/** Lazily built, memoised app (one per Lambda container or local server). */
export type AppProvider = () => Promise<App>;

export function memoize(build: () => Promise<App>): AppProvider {
  let app: Promise<App> | undefined;
  return () => {
    app ??= build().catch((error: unknown) => {
      // A failed cold start must not poison the container: the next request tries again.
      app = undefined;
      throw error;
    });
    return app;
  };
}
