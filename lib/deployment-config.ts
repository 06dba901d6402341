/**
 * Build time (DESIGN flow 6): `cdk synth` reads the deployment config and every built-in provider template with
 * the code the functions used to run at cold start (loadDeployment, the caller-auth schema, the SAML
 * certificate check), so a mistake fails the synth with the same one-line message (file, JSON path, problem)
 * and nothing is deployed. The result is compiled into the JSON document each function's bundle carries
 * (functions/core/config/compiled.ts); the functions only read it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCallerAuthConfig } from '../functions/adapters/caller-auth/index.js';
import {
  builtinProvidersDirectory,
  loadProviderDirectorySync,
} from '../functions/adapters/provider-files.js';
import { type CompiledDeployment, compileDeployment } from '../functions/core/config/compiled.js';
import { type Deployment, loadDeployment } from '../functions/core/config/deployment.js';
import type { DeploymentConfig } from '../functions/core/config/schema.js';
import { ConfigError, TemplateError } from '../functions/core/errors.js';
import { acsUrl } from '../functions/core/flows/deps.js';
import { checkSamlConfig } from '../functions/core/saml/config.js';

export interface CheckedDeployment {
  /** The file name that names the config in messages (`prod.json`). */
  readonly source: string;
  readonly deployment: Deployment;
  readonly config: DeploymentConfig;
  /** What each function's bundle carries. */
  readonly compiled: CompiledDeployment;
}

export interface ReadDeploymentOptions {
  /** The built-in templates' folder (default: the repository's providers/). */
  providersDirectory?: string;
}

/** Stands in for the API's URL when the config names no `publicBaseUrl` (only the certificates are checked). */
const PLACEHOLDER_BASE_URL = 'https://tokenvend.invalid/';

/**
 * Reads, validates and compiles `configFile`. Throws a {@link ConfigError} or {@link TemplateError} whose
 * message is one line: `<file>: <JSON path>: <problem>` (a template's own file name for a built-in template).
 */
export function readDeployment(configFile: string, options: ReadDeploymentOptions = {}): CheckedDeployment {
  const source = path.basename(configFile);
  let text: string;
  try {
    text = fs.readFileSync(configFile, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `${source}: cannot read the deployment config ${configFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      error,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${source}: $: not valid JSON: ${(error as Error).message}`, error);
  }
  const builtins = loadProviderDirectorySync(builtinProvidersDirectory(options.providersDirectory));
  const deployment = loadDeployment(raw, { builtins, source });
  const { config } = deployment;
  // What createCallerVerifier checked at every cold start: https JWKS, known algorithms, unique issuers.
  if (config.callers.length > 0) parseCallerAuthConfig({ callers: config.callers }, source);
  for (const integration of deployment.integrations.values()) {
    const saml = integration.config.saml;
    if (!saml) continue;
    try {
      checkSamlConfig(
        { ...saml, acsUrl: acsUrl(config.publicBaseUrl ?? PLACEHOLDER_BASE_URL, integration.id) },
        integration.id,
      );
    } catch (error) {
      if (error instanceof ConfigError) throw new ConfigError(`${source}: ${error.message}`, error);
      throw error;
    }
  }
  checkDeploySettings(config, source);
  return { source, deployment, config, compiled: compileDeployment(deployment, source) };
}

/** The rules between `deploy` and the rest of the config that the schema cannot see. */
function checkDeploySettings(config: DeploymentConfig, source: string): void {
  const { domain, region } = config.deploy;
  if (!domain) return;
  const certificateRegion = domain.certificateArn.split(':')[3];
  if (region !== undefined && certificateRegion !== region) {
    throw new ConfigError(
      `${source}: $.deploy.domain.certificateArn: the certificate is in ${certificateRegion}, the stack in ${region} (an HTTP API custom domain needs a certificate of its own region)`,
    );
  }
  if (config.publicBaseUrl !== undefined) {
    const url = new URL(config.publicBaseUrl);
    if (url.hostname !== domain.name) {
      throw new ConfigError(
        `${source}: $.publicBaseUrl: names ${url.hostname}, but the API's custom domain is ${domain.name}`,
      );
    }
  }
}

/** True for the errors {@link readDeployment} reports as one line (no stack trace needed). */
export function isDeploymentConfigError(error: unknown): error is ConfigError | TemplateError {
  return error instanceof ConfigError || error instanceof TemplateError;
}
