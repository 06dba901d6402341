/**
 * Turns a validated deployment configuration into ready integrations: each provider template found (a
 * built-in by id or an inline object), loaded and bound to the integration's variables.
 */
import { ConfigError, TemplateError } from '../errors.js';
import { firstZodProblem, loadProviderTemplate } from '../provider/load.js';
import { checkEndpointUrl, type ResolvedProvider, resolveProvider } from '../provider/resolve.js';
import type { ProviderTemplate } from '../provider/schema.js';
import { type DeploymentConfig, deploymentConfigSchema, type IntegrationConfig } from './schema.js';

export interface Integration {
  readonly id: string;
  readonly provider: ResolvedProvider;
  readonly config: IntegrationConfig;
}

export interface Deployment {
  readonly config: DeploymentConfig;
  readonly integrations: ReadonlyMap<string, Integration>;
}

export interface DeploymentOptions {
  builtins: ReadonlyMap<string, ProviderTemplate>;
  /** Local mode and tests: accept http:// loopback endpoints and inline secrets. */
  local?: boolean;
  /** Names the configuration in errors (a file name). */
  source?: string;
}

/** Validates `input` and binds every integration; one {@link ConfigError} or {@link TemplateError} on the first problem. */
export function loadDeployment(input: unknown, options: DeploymentOptions): Deployment {
  const source = options.source ?? 'config';
  const parsed = deploymentConfigSchema.safeParse(input);
  if (!parsed.success) {
    const { path, problem } = firstZodProblem(parsed.error);
    throw new ConfigError(`${source}: ${path}: ${problem}`, parsed.error);
  }
  const integrations = new Map<string, Integration>();
  for (const [id, config] of Object.entries(parsed.data.integrations)) {
    if (config.secret && !options.local) {
      throw new ConfigError(
        `${source}: $.integrations.${id}.secret: inline secrets are for local mode only (use secretId)`,
      );
    }
    let template: ProviderTemplate;
    if (typeof config.provider === 'string') {
      const builtin = options.builtins.get(config.provider);
      if (!builtin) {
        throw new ConfigError(
          `${source}: $.integrations.${id}.provider: unknown provider "${config.provider}" (built-in: ${[...options.builtins.keys()].sort().join(', ')})`,
        );
      }
      template = builtin;
    } else {
      template = loadProviderTemplate(config.provider, `${source}: $.integrations.${id}.provider`);
    }
    if (config.proxy && template.api?.baseUrl === undefined) {
      throw new ConfigError(
        `${source}: $.integrations.${id}.proxy: provider ${template.id} names no api.baseUrl to forward to`,
      );
    }
    try {
      const resolveOptions = {
        allowInsecureLoopback: options.local ?? false,
        source: `${source}: $.integrations.${id}`,
      };
      let provider = resolveProvider(
        withoutPkceIf(template, config.pkce === false),
        config.vars,
        resolveOptions,
      );
      if (config.discovery) {
        const problem = checkEndpointUrl(config.discovery, resolveOptions);
        if (problem) throw new ConfigError(`${source}: $.integrations.${id}.discovery: ${problem}`);
        provider = { ...provider, endpoints: { ...provider.endpoints, discovery: config.discovery } };
      }
      integrations.set(id, { id, provider, config });
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      throw new ConfigError(`${source}: $.integrations.${id}: ${(e as Error).message}`, e);
    }
  }
  return { config: parsed.data, integrations };
}

/** The template without PKCE when the integration opts out (a vendor that refuses it). */
function withoutPkceIf(template: ProviderTemplate, optOut: boolean): ProviderTemplate {
  const code = template.grants.authorization_code;
  if (!optOut || !code?.pkce) return template;
  return { ...template, grants: { ...template.grants, authorization_code: { ...code, pkce: undefined } } };
}
