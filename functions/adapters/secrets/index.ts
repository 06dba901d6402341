/** Client-secret sources: Secrets Manager in AWS, the local config locally. */
export { SecretError } from './errors.js';
export { LocalSecretSource } from './local.js';
export { SecretsManagerSecretSource, type SecretsManagerSecretSourceOptions } from './secrets-manager.js';
