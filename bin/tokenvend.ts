#!/usr/bin/env node
/**
 * CDK app entry: one stack per environment. `cdk deploy -c env=prod` deploys `tokenvend-prod` with the
 * deployment config in config/prod.json (override with `-c config=path/to.json`). cdk-nag's AWS Solutions
 * checks run on every synth.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TokenvendStack } from '../lib/tokenvend-stack.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const app = new App();
const envName = String(app.node.tryGetContext('env') ?? 'dev');
if (!/^[a-z][a-z0-9-]{0,20}$/.test(envName))
  throw new Error(`-c env=${envName}: use lowercase letters, digits and dashes`);
const configFile = path.resolve(
  projectRoot,
  String(app.node.tryGetContext('config') ?? `config/${envName}.json`),
);

new TokenvendStack(app, `tokenvend-${envName}`, {
  envName,
  configFile,
  projectRoot,
  retainData: envName !== 'dev',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
