/**
 * The public surface of the core: provider templates, the grant engine, the token lifecycle, SAML validation,
 * the deployment configuration and the API flows.
 */
export * from './config/deployment.js';
export type * from './config/schema.js';
export * from './errors.js';
export * from './flows/callback.js';
export * from './flows/connect.js';
export * from './flows/connections.js';
export * from './flows/deps.js';
export * from './flows/return-url.js';
export * from './flows/saml-acs.js';
export * from './flows/scheduled-refresh.js';
export * from './flows/service-vend.js';
export * from './flows/vend.js';
export * from './lifecycle/index.js';
export * from './oauth/authorize.js';
export * from './oauth/client-auth.js';
export * from './oauth/engine.js';
export type { FetchLike, HttpRequest, HttpResponse } from './oauth/http.js';
export * from './oauth/token-request.js';
export * from './oauth/token-response.js';
export type * from './ports.js';
export * from './provider/discovery.js';
export * from './provider/load.js';
export * from './provider/resolve.js';
export type * from './provider/schema.js';
export * from './refresh-policy.js';
export * from './saml/errors.js';
export * from './saml/validate.js';
export type * from './token-set.js';
