/** Caller authentication for the HTTP API: trusted-caller configuration and the bearer JWT verifier. */
export * from './bearer.js';
export * from './config.js';
export * from './errors.js';
export * from './verified-cache.js';
export * from './verifier.js';
