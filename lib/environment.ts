/**
 * One environment's stack as `cdk synth -c env=<env>` builds it (bin/tokenvend.ts): the deployment config
 * checked and compiled first, then the stack, pinned to an account and region only when the config's `deploy`
 * section says so (never the shell's CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION).
 */
import type { App } from 'aws-cdk-lib';
import { readDeployment } from './deployment-config.js';
import { TokenvendStack } from './tokenvend-stack.js';

export interface EnvironmentOptions {
  /** `dev`, `staging`, `prod`, ...: the stack is `tokenvend-<envName>`. */
  envName: string;
  /** The deployment config (default in bin/: `config/<envName>.json`). */
  configFile: string;
  projectRoot: string;
}

/** Environment names: they name the stack, the secrets prefix and the event bus. */
export const ENV_NAME = /^[a-z][a-z0-9-]{0,20}$/;

/**
 * Adds the environment's stack to `app`. Throws the config's one-line ConfigError or TemplateError (file, JSON
 * path, problem) before any construct exists.
 */
export function addEnvironmentStack(app: App, options: EnvironmentOptions): TokenvendStack {
  const { envName, configFile, projectRoot } = options;
  if (!ENV_NAME.test(envName)) throw new Error(`-c env=${envName}: use lowercase letters, digits and dashes`);
  const checked = readDeployment(configFile);
  const { deploy } = checked.config;
  return new TokenvendStack(app, `tokenvend-${envName}`, {
    envName,
    configFile,
    checked,
    projectRoot,
    retainData: deploy.retainData ?? envName !== 'dev',
    // Only what the config pins: never the region or account of the shell that runs the synth.
    env: { account: deploy.account, region: deploy.region },
  });
}
