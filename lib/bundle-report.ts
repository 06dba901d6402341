/**
 * Builds a Lambda's bundle exactly as the stack does (lib/bundle-options.ts, the options NodejsFunction is given)
 * and reports its size from esbuild's metafile: total bytes of the JS file and the bytes each package or
 * first-party folder contributes. Used by bench/bundle.bench.ts and by the infra test that keeps schema and YAML
 * libraries out of every function. Build tooling only: the stack does not import it.
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { FUNCTIONS, REFRESH_FUNCTIONS } from '../functions/handlers/routes.js';
import { BUNDLE_OPTIONS, handlerEntry } from './bundle-options.js';

/** Packages that only validate or parse configuration (build time): none may be in a Lambda bundle. */
export const VALIDATION_ONLY_PACKAGES = ['zod', 'yaml'] as const;

export interface BundleReport {
  readonly name: string;
  /** The bundle (`index.mjs`). */
  readonly file: string;
  /** Bytes of the JS output (the source map is a separate file). */
  readonly bytes: number;
  /** Output bytes by package (`zod`, `@middy/core`) or first-party folder (`functions/core/oauth`). */
  readonly byPackage: Readonly<Record<string, number>>;
  /** Every input file that made it into the bundle (repository-relative). */
  readonly inputs: readonly string[];
}

/** Every Lambda's handler entry: the API functions of routes.ts, then the refresh planner and worker. */
export function lambdaEntries(): string[] {
  return [...FUNCTIONS.map((f) => f.entry), REFRESH_FUNCTIONS.planner.entry, REFRESH_FUNCTIONS.worker.entry];
}

function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match ? (match[1] as string) : input.split('/').slice(0, 3).join('/');
}

/**
 * Bundles `source` (a handler entry under functions/handlers/, or inline code) into `outDir/index.mjs`.
 * `outDir` should sit inside the repository so the external AWS SDK resolves from node_modules when the
 * bundle is imported, as the Lambda runtime's copy would.
 */
export async function bundleLambda(
  projectRoot: string,
  name: string,
  source: { entry: string } | { contents: string },
  outDir: string,
): Promise<BundleReport> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, 'index.mjs');
  const result = await esbuild.build({
    ...('entry' in source
      ? { entryPoints: [handlerEntry(projectRoot, source.entry)] }
      : { stdin: { contents: source.contents, resolveDir: projectRoot, loader: 'ts' as const } }),
    absWorkingDir: projectRoot,
    bundle: true,
    outfile,
    format: BUNDLE_OPTIONS.format,
    platform: BUNDLE_OPTIONS.platform,
    target: BUNDLE_OPTIONS.target,
    mainFields: [...BUNDLE_OPTIONS.mainFields],
    minify: BUNDLE_OPTIONS.minify,
    sourcemap: BUNDLE_OPTIONS.sourceMap,
    banner: { js: BUNDLE_OPTIONS.banner },
    external: [...BUNDLE_OPTIONS.externalModules],
    metafile: true,
    logLevel: 'error',
  });
  const output = result.metafile.outputs[path.relative(projectRoot, outfile)];
  if (!output) throw new Error(`esbuild wrote no ${outfile}`);
  const byPackage: Record<string, number> = {};
  for (const [input, info] of Object.entries(output.inputs)) {
    const key = packageOf(input);
    byPackage[key] = (byPackage[key] ?? 0) + info.bytesInOutput;
  }
  return { name, file: outfile, bytes: output.bytes, byPackage, inputs: Object.keys(output.inputs) };
}
