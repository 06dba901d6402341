/**
 * DynamoDB adapters: the connection store, connect-flow state, parked connections, SAML replay guard, SAML
 * request IDs and the shared schema.
 */
export * from './assertion-replay-guard.js';
export * from './attempt-limiter.js';
export * from './connect-state-store.js';
export * from './connection-store.js';
export * from './obtain-guard.js';
export * from './parked-connection-store.js';
export * from './saml-request-store.js';
export * from './schema.js';
export * from './table-definition.js';
