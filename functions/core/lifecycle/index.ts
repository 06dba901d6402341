/** The token lifecycle: connection store port, single-flight refresh, TTL and schedule rules. */
export * from './errors.js';
export * from './lifecycle.js';
export * from './schedule.js';
export type * from './store.js';
