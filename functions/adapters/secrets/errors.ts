/**
 * Typed errors of client-secret sources. Messages name the integration, the secret id and what is wrong
 * (field names, JSON shape); never a value. Causes are attached only when they cannot hold a value: AWS SDK
 * errors yes, `JSON.parse` errors no (their message quotes the input).
 */
import { TokenvendError } from '../../core/errors.js';

export class SecretError extends TokenvendError {
  readonly integration: string;
  /** What is wrong, in words. */
  readonly problem: string;

  constructor(integration: string, problem: string, cause?: unknown) {
    super(`client secret of integration ${integration}: ${problem}`, {
      error: 'server_error',
      status: 500,
      cause,
    });
    this.integration = integration;
    this.problem = problem;
  }
}
