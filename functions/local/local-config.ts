/**
 * Local mode configuration: the JSON file named by TOKENVEND_CONFIG (default ./tokenvend.config.json), or,
 * when there is none, the built-in sandbox config whose only integration is the embedded sandbox vendor.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ConfigError } from '../core/errors.js';
import { sandboxTemplate } from './sandbox-vendor.js';

export const DEFAULT_CONFIG_FILE = 'tokenvend.config.json';
export const SANDBOX_INTEGRATION = 'sandbox';

export interface LocalConfigSource {
  /** The parsed config (before validation). */
  raw: Record<string, unknown>;
  /** File name for messages, or `built-in sandbox config`. */
  source: string;
  sandbox: boolean;
}

/** Reads the configured file; a missing default file means the sandbox, a missing named file is an error. */
export async function readLocalConfig(
  cwd: string,
  configured: string | undefined,
): Promise<LocalConfigSource> {
  const file = path.resolve(cwd, configured ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(file)) {
    if (configured) throw new ConfigError(`TOKENVEND_CONFIG names ${file}, which does not exist`);
    return { raw: {}, source: 'built-in sandbox config', sandbox: true };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(`${file} must hold a JSON object`);
  return { raw: raw as Record<string, unknown>, source: path.basename(file), sandbox: false };
}

/** The sandbox deployment config, bound to the sandbox vendor's port and client. */
export function sandboxConfig(
  baseUrl: string,
  vendor: { port: number; client: { client_id: string; client_secret: string } },
): Record<string, unknown> {
  return {
    publicBaseUrl: baseUrl,
    integrations: {
      [SANDBOX_INTEGRATION]: {
        provider: sandboxTemplate(),
        vars: { port: vendor.port },
        secret: vendor.client,
        serviceConnections: { demo: { grant: 'client_credentials', scopes: ['api'] } },
      },
    },
    callers: [],
    returnUrls: [`${baseUrl}/`],
    corsOrigins: ['http://127.0.0.1:5173', 'http://localhost:5173'],
  };
}
