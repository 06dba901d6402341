/**
 * Lambda bundle size and module init time. Each function (every API handler and both refresh functions) is
 * bundled with esbuild exactly as the stack does (lib/bundle-report.ts with lib/bundle-options.ts: ESM, node24,
 * minified, `@aws-sdk/*` external); its size is the metafile's output bytes of the JS file, with the bytes zod
 * and yaml contribute (both must be 0: validation happens at synth). Init time: the bundle imported in a fresh
 * Node process (`import()` to evaluated), `BUNDLE_BENCH_RUNS` (20) times per function, round-robin with two
 * baselines: a bundle that holds only the DynamoDB client, and one that loads every AWS SDK client the App wires
 * (external, as in the functions); medians of wall-clock and CPU time and the ratios to both baselines are
 * printed. `BUNDLE_BENCH_BEFORE=<dir>` adds the bundles this bench built in another checkout
 * (`<dir>/<function>/index.mjs`, e.g. an earlier commit's .tokenvend/bench-bundles) to the same rounds.
 * Bundles go to .tokenvend/bench-bundles (inside the repository, so the external AWS SDK resolves from
 * node_modules as the Lambda runtime's copy would).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type BundleReport,
  bundleLambda,
  lambdaEntries,
  VALIDATION_ONLY_PACKAGES,
} from '../lib/bundle-report.js';
import { type Figure, statsOf } from './lib.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outRoot = path.join(projectRoot, '.tokenvend', 'bench-bundles');
const RUNS = Number(process.env.BUNDLE_BENCH_RUNS ?? 20);
const BASELINE = 'baseline-dynamodb';
/** A second baseline: every AWS SDK client the App wires (aws-app.ts), loaded like the functions load them. */
const SDK_BASELINE = 'baseline-aws-sdk';
const SDK_CLIENTS = [
  ['DynamoDBClient', '@aws-sdk/client-dynamodb'],
  ['DynamoDBDocumentClient', '@aws-sdk/lib-dynamodb'],
  ['KMSClient', '@aws-sdk/client-kms'],
  ['SecretsManagerClient', '@aws-sdk/client-secrets-manager'],
  ['SQSClient', '@aws-sdk/client-sqs'],
  ['EventBridgeClient', '@aws-sdk/client-eventbridge'],
] as const;

interface Init {
  /** Wall-clock milliseconds from `import()` to the module being evaluated. */
  wallMs: number;
  /** CPU milliseconds (user + system) the process spent on it: steadier than wall time on a shared machine. */
  cpuMs: number;
}

/** One import of `file` in a fresh Node process. */
function init(file: string): Init {
  const url = JSON.stringify(pathToFileURL(file).href);
  const code = `const c = process.cpuUsage(); const t = performance.now(); await import(${url}); const w = performance.now() - t; const u = process.cpuUsage(c); process.stdout.write(JSON.stringify([w, (u.user + u.system) / 1000]));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: path.dirname(file),
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' },
    encoding: 'utf8',
  });
  const [wallMs, cpuMs] = JSON.parse(out) as [number, number];
  return { wallMs, cpuMs };
}

const kb = (bytes: number) => bytes / 1024;

interface Measured {
  name: string;
  file: string;
}

export default async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const baseline = await bundleLambda(
    projectRoot,
    BASELINE,
    {
      contents:
        "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nconst client = new DynamoDBClient({});\nexport const handler = async () => client.config.region();\n",
    },
    path.join(outRoot, BASELINE),
  );
  const sdkBaseline = await bundleLambda(
    projectRoot,
    SDK_BASELINE,
    {
      contents: `${SDK_CLIENTS.map(([name, pkg]) => `import { ${name} } from '${pkg}';`).join('\n')}\nexport const handler = async () => [${SDK_CLIENTS.map(([name]) => name).join(', ')}].length;\n`,
    },
    path.join(outRoot, SDK_BASELINE),
  );
  const reports: BundleReport[] = [];
  for (const entry of lambdaEntries()) {
    reports.push(await bundleLambda(projectRoot, entry, { entry }, path.join(outRoot, entry)));
  }
  figures.push({ name: `bundle_${BASELINE}_kb`, value: kb(baseline.bytes), unit: 'KB' });
  // Bundles built by this bench in another checkout (an earlier commit), measured in the same rounds.
  const beforeDir = process.env.BUNDLE_BENCH_BEFORE;
  const before: Measured[] = [];
  for (const r of reports) {
    figures.push({ name: `bundle_${r.name}_kb`, value: kb(r.bytes), unit: 'KB' });
    for (const pkg of VALIDATION_ONLY_PACKAGES) {
      figures.push({ name: `bundle_${r.name}_${pkg}_kb`, value: kb(r.byPackage[pkg] ?? 0), unit: 'KB' });
    }
    const file = beforeDir ? path.join(beforeDir, r.name, 'index.mjs') : undefined;
    if (file && existsSync(file)) {
      before.push({ name: `${r.name}@before`, file });
      figures.push({ name: `bundle_${r.name}_before_kb`, value: kb(statSync(file).size), unit: 'KB' });
    }
  }
  // Round-robin (alternating direction), so machine load drifts over all bundles alike.
  const all: Measured[] = [baseline, sdkBaseline, ...reports, ...before];
  const samples = new Map<string, Init[]>(all.map((r) => [r.name, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const r of i % 2 === 0 ? all : [...all].reverse()) samples.get(r.name)?.push(init(r.file));
  }
  const p50 = (name: string, key: keyof Init) => statsOf((samples.get(name) ?? []).map((s) => s[key])).p50;
  for (const key of ['wallMs', 'cpuMs'] as const) {
    const kind = key === 'wallMs' ? 'wall' : 'cpu';
    const base = p50(BASELINE, key);
    const sdk = p50(SDK_BASELINE, key);
    figures.push({ name: `init_${kind}_${BASELINE}_p50_ms`, value: base, unit: 'ms' });
    figures.push({ name: `init_${kind}_${SDK_BASELINE}_p50_ms`, value: sdk, unit: 'ms' });
    for (const r of reports) {
      const value = p50(r.name, key);
      figures.push({ name: `init_${kind}_${r.name}_p50_ms`, value, unit: 'ms' });
      // Against the DynamoDB client alone, and against all the SDK clients the function loads anyway.
      figures.push({ name: `init_${kind}_${r.name}_ratio`, value: value / base, unit: 'x' });
      figures.push({ name: `init_${kind}_${r.name}_vs_sdk_ratio`, value: value / sdk, unit: 'x' });
      if (samples.has(`${r.name}@before`)) {
        const old = p50(`${r.name}@before`, key);
        figures.push({ name: `init_${kind}_${r.name}_before_p50_ms`, value: old, unit: 'ms' });
        figures.push({ name: `init_${kind}_${r.name}_before_ratio`, value: old / base, unit: 'x' });
      }
    }
  }
  return figures;
}
