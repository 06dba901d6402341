/**
 * How every tokenvend Lambda is bundled (esbuild through NodejsFunction): one ESM file for Node 24, minified,
 * with a source map, the AWS SDK v3 left to the runtime's copy. Plain data, no CDK import, so
 * bench/bundle.bench.ts builds the very same bundles to measure them.
 */

/** Loaded at the top of each bundle: CommonJS dependencies bundled into ESM still call `require`. */
export const BUNDLE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export const BUNDLE_OPTIONS = {
  format: 'esm',
  platform: 'node',
  target: 'node24',
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  banner: BUNDLE_BANNER,
  /** The Lambda Node.js runtime ships the AWS SDK v3 (NodejsFunction's default for Node 18 and later). */
  externalModules: ['@aws-sdk/*'],
} as const;

/** The handler files of the Lambdas: `functions/handlers/<entry>.ts`. */
export function handlerEntry(projectRoot: string, entry: string): string {
  return `${projectRoot}/functions/handlers/${entry}.ts`;
}
