/**
 * The deployment as the Lambdas read it (DESIGN flow 6, "Build time"): `cdk synth` validates the deployment
 * config and every provider template with {@link loadDeployment} (the schemas, the same messages), binds each
 * integration to its provider, and writes the result as one JSON document beside each function's bundle. A
 * function trusts that document (it was produced by the validator at synth) and only guards its format version,
 * so no schema library and no YAML parser is in a request path's bundle. This module imports types only.
 */
import { ConfigError } from '../errors.js';
import type { ResolvedProvider } from '../provider/resolve.js';
import type { Deployment, Integration } from './deployment.js';
import type { DeploymentConfig } from './schema.js';

/** Bump when the document's shape changes; a function refuses any other version. */
export const COMPILED_FORMAT = 'tokenvend.compiled-deployment/1';

/** The file name beside each Lambda's bundle. */
export const COMPILED_DEPLOYMENT_FILE = 'tokenvend.compiled.json';

export interface CompiledIntegration {
  readonly id: string;
  /** The provider template bound to the integration's variables, exactly as the runtime uses it. */
  readonly provider: ResolvedProvider;
}

export interface CompiledDeployment {
  readonly format: typeof COMPILED_FORMAT;
  /** The config file it was compiled from (names it in messages). */
  readonly source: string;
  /** The validated config with every default applied; `integrations[id]` is each integration's config. */
  readonly config: DeploymentConfig;
  readonly integrations: readonly CompiledIntegration[];
}

/** The JSON-ready form of a deployment that {@link loadDeployment} produced. */
export function compileDeployment(deployment: Deployment, source: string): CompiledDeployment {
  return {
    format: COMPILED_FORMAT,
    source,
    config: deployment.config,
    integrations: [...deployment.integrations.values()].map(({ id, provider }) => ({ id, provider })),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The deployment from a compiled document. No schema validation: only the format version and the document's
 * outline are checked, so a stale or foreign file fails the cold start with a clear {@link ConfigError}.
 */
export function loadCompiledDeployment(document: unknown, file: string): Deployment {
  if (!isRecord(document) || document.format !== COMPILED_FORMAT) {
    const found = isRecord(document) && typeof document.format === 'string' ? document.format : 'none';
    throw new ConfigError(
      `${file}: not a compiled deployment of format ${COMPILED_FORMAT} (found ${found}): it is written by cdk synth (lib/deployment-config.ts)`,
    );
  }
  const compiled = document as unknown as CompiledDeployment;
  if (
    !isRecord(compiled.config) ||
    !isRecord(compiled.config.integrations) ||
    !Array.isArray(compiled.integrations)
  ) {
    throw new ConfigError(`${file}: compiled deployment without config or integrations`);
  }
  const integrations = new Map<string, Integration>();
  for (const { id, provider } of compiled.integrations) {
    const config = Object.hasOwn(compiled.config.integrations, id)
      ? compiled.config.integrations[id]
      : undefined;
    if (!config) throw new ConfigError(`${file}: compiled integration ${id} has no config`);
    integrations.set(id, { id, provider, config });
  }
  return { config: compiled.config, integrations };
}
