/** What every HTTP handler gets: the flows' dependencies plus the HTTP-side pieces, built once per container. */
import type { CallerVerifier } from '../../adapters/caller-auth/index.js';
import type { FlowDeps } from '../../core/flows/deps.js';
import type { ErrorLogger } from '../middleware/oauth-errors.js';

export interface App {
  flows: FlowDeps;
  callers: CallerVerifier;
  logger: ErrorLogger;
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
