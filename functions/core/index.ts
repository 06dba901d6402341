/** The public surface of the core: provider templates, the grant engine and the refresh policy. */
export * from './errors.js';
export * from './oauth/authorize.js';
export * from './oauth/client-auth.js';
export * from './oauth/engine.js';
export type { FetchLike, HttpRequest, HttpResponse } from './oauth/http.js';
export * from './oauth/token-request.js';
export * from './oauth/token-response.js';
export type * from './ports.js';
export * from './provider/load.js';
export * from './provider/resolve.js';
export type * from './provider/schema.js';
export * from './refresh-policy.js';
export type * from './token-set.js';
