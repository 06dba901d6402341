/**
 * Small, fast functions (DESIGN flow 6): every Lambda bundled exactly as the stack bundles it (esbuild metafile,
 * lib/bundle-report.ts) holds no schema library, no YAML parser and none of the modules that validate the
 * deployment config or the provider templates: those ran at synth. Each bundle also loads in a fresh Node
 * process (the import graph has nothing that needs the source tree).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type BundleReport,
  bundleLambda,
  lambdaEntries,
  VALIDATION_ONLY_PACKAGES,
} from '../../lib/bundle-report.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const outRoot = path.join(projectRoot, '.tokenvend', 'test-bundles');

/** The build-time modules: the schemas, the template loader, the config loader. */
const BUILD_TIME_MODULES = [
  'functions/core/config/schema.ts',
  'functions/core/config/deploy-settings.ts',
  'functions/core/config/deployment.ts',
  'functions/core/provider/schema.ts',
  'functions/core/provider/load.ts',
  'functions/adapters/provider-files.ts',
  'functions/adapters/caller-auth/config.ts',
];

/** Twice today's size: a function that doubles has pulled in something it should not (SAML has its XML stack). */
const BUDGET_BYTES: Record<string, number> = { 'saml-acs': 1_024 * 1_024 };
const DEFAULT_BUDGET_BYTES = 256 * 1_024;

let reports: BundleReport[];
beforeAll(async () => {
  reports = [];
  for (const entry of lambdaEntries()) {
    reports.push(await bundleLambda(projectRoot, entry, { entry }, path.join(outRoot, entry)));
  }
}, 120_000);
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

describe('Lambda bundles', () => {
  it('bundles every function of the stack', () => {
    expect(reports.map((r) => r.name)).toEqual(lambdaEntries());
  });

  it('hold neither zod nor yaml', () => {
    for (const r of reports) {
      const found = r.inputs.filter((input) =>
        VALIDATION_ONLY_PACKAGES.some((pkg) => input.includes(`node_modules/${pkg}/`)),
      );
      expect({ fn: r.name, found }).toEqual({ fn: r.name, found: [] });
    }
  });

  it('hold none of the modules that validate the config and the templates', () => {
    for (const r of reports) {
      const found = r.inputs.filter((input) => BUILD_TIME_MODULES.includes(input));
      expect({ fn: r.name, found }).toEqual({ fn: r.name, found: [] });
    }
  });

  it('stay within their size budget', () => {
    for (const r of reports) {
      expect({ fn: r.name, withinBudget: r.bytes <= (BUDGET_BYTES[r.name] ?? DEFAULT_BUDGET_BYTES) }).toEqual(
        {
          fn: r.name,
          withinBudget: true,
        },
      );
    }
  });

  it('load in a fresh Node process', () => {
    for (const r of reports) {
      const code = `await import(${JSON.stringify(pathToFileURL(r.file).href)}); process.stdout.write('ok');`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], {
        env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' },
        encoding: 'utf8',
      });
      expect({ fn: r.name, out }).toEqual({ fn: r.name, out: 'ok' });
    }
  }, 60_000);
});
