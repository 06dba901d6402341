/**
 * The one middy chain every HTTP handler uses: OAuth-style JSON errors, no-store, CORS for configured origins
 * and a body size limit, around a thin `(app, event) -> result` function.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { bodyLimit } from '../middleware/body-limit.js';
import { cors } from '../middleware/cors.js';
import { noStore } from '../middleware/no-store.js';
import { oauthErrors } from '../middleware/oauth-errors.js';
import { requestContext } from '../middleware/request-context.js';
import type { HttpEvent, HttpResult } from '../middleware/types.js';
import type { App, AppProvider } from './app.js';
import { auditActionOf } from './audit-actions.js';

export type HttpFn = (app: App, event: HttpEvent) => Promise<HttpResult>;

/** Bodies are small JSON or form posts; SAML responses are the largest (256 KB, checked again by the validator). */
export const DEFAULT_MAX_BODY_BYTES = 300 * 1024;

export function httpHandler(
  getApp: AppProvider,
  fn: HttpFn,
  options: {
    maxBodyBytes?: number;
    cors?: { methods?: readonly string[]; headers?: readonly string[] };
  } = {},
): (event: HttpEvent, context: Context) => Promise<HttpResult> {
  type Run = (event: HttpEvent, context: Context) => Promise<HttpResult>;
  let chain: Promise<{ app: App; run: Run }> | undefined;
  const build = async () => {
    const app = await getApp();
    // Middy runs onError hooks last-registered first: the error answer must exist before no-store and CORS decorate it.
    const run: Run = middy<HttpEvent, HttpResult>()
      .use(noStore())
      .use(cors({ origins: app.flows.deployment.config.corsOrigins, ...options.cors }))
      .use(bodyLimit(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES))
      .use(oauthErrors({ logger: app.logger }))
      .use(requestContext(app.logger))
      .handler((event) => fn(app, event));
    return { app, run };
  };
  const failed = middy<HttpEvent, HttpResult>().use(noStore()).use(oauthErrors());
  return async (event, context) => {
    chain ??= build().catch((error: unknown) => {
      chain = undefined;
      throw error;
    });
    let built: { app: App; run: Run };
    try {
      built = await chain;
    } catch (error) {
      // Configuration or cold-start failure: still answer in the OAuth error shape, without details.
      return failed.handler(() => Promise.reject(error))(event, context);
    }
    const { app, run } = built;
    // The audit record sees the final answer, errors included: it wraps the whole chain.
    return app.audit
      ? app.audit.around(event, auditActionOf(event.routeKey), () => run(event, context))
      : run(event, context);
  };
}
