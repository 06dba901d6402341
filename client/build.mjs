#!/usr/bin/env node
/**
 * `npm run build:client`: what the package exports as `tokenvend/client` and `tokenvend/browser`, in dist/client/.
 * - index.js: the service client for Node (ESM); its AWS SDK signer and credential chain stay imports.
 * - browser.js: the browser helper as one ES module with no imports at all (servable as is).
 * - *.d.ts: the types, emitted by tsc from the same sources.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/client`;
rmSync(out, { recursive: true, force: true });

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'warning',
};
await build({
  ...common,
  entryPoints: ['client/index.ts'],
  outfile: `${out}/index.js`,
  platform: 'node',
  packages: 'external',
});
if (existsSync(`${root}client/browser.ts`)) {
  await build({
    ...common,
    entryPoints: ['client/browser.ts'],
    outfile: `${out}/browser.js`,
    platform: 'browser',
  });
}

const tsc = spawnSync(
  process.execPath,
  [`${root}node_modules/typescript/bin/tsc`, '-p', 'client/tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
