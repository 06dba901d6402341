#!/usr/bin/env node
/**
 * CDK app entry: one stack per environment. `cdk deploy -c env=prod` deploys `tokenvend-prod` with the
 * deployment config in config/prod.json (override with `-c config=path/to.json`). The config and every provider
 * template are checked first (lib/deployment-config.ts): a mistake ends the synth with one line naming the file,
 * the JSON path and the problem, and nothing is deployed. The stack is account- and region-agnostic unless the
 * config's `deploy.account` / `deploy.region` pin it (lib/environment.ts). cdk-nag's AWS Solutions checks run on
 * every synth.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { isDeploymentConfigError } from '../lib/deployment-config.js';
import { addEnvironmentStack, ENV_NAME } from '../lib/environment.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const app = new App();
const envName = String(app.node.tryGetContext('env') ?? 'dev');
if (!ENV_NAME.test(envName)) {
  console.error(`tokenvend: -c env=${envName}: use lowercase letters, digits and dashes`);
  process.exit(1);
}
const configFile = path.resolve(
  projectRoot,
  String(app.node.tryGetContext('config') ?? `config/${envName}.json`),
);

try {
  addEnvironmentStack(app, { envName, configFile, projectRoot });
} catch (error) {
  if (!isDeploymentConfigError(error)) throw error;
  // One line (file, JSON path, problem), no stack trace: the synth stops here and nothing is deployed.
  console.error(`tokenvend: ${error.message}`);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
