/**
 * Reads the deployment config at synth with the same schema (and the same first-problem message) the
 * functions use at run time, so defaults such as the `refresh` section apply and a bad file fails the synth.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DeploymentConfig, deploymentConfigSchema } from '../functions/core/config/schema.js';
import { firstZodProblem } from '../functions/core/provider/load.js';

export function readDeploymentConfig(configFile: string): DeploymentConfig {
  const source = path.basename(configFile);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the deployment config ${configFile}: ${(error as Error).message}`);
  }
  const parsed = deploymentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const { path: at, problem } = firstZodProblem(parsed.error);
    throw new Error(`${source}: ${at}: ${problem}`);
  }
  return parsed.data;
}
