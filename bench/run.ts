/**
 * Runs the benchmarks: every `bench/*.bench.ts` (optionally only those whose file name contains the first
 * CLI argument), one after another, printing `name value unit` per figure.
 * Usage: `npm run bench`, `npm run bench -- engine`.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Figure, formatFigure } from './lib.js';

type Bench = () => Promise<Figure[]>;

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts') && f.includes(filter)).sort();

if (files.length === 0) {
  console.error(`no benchmark file matches "${filter}"`);
  process.exitCode = 1;
}

for (const file of files) {
  const module = (await import(pathToFileURL(join(here, file)).href)) as { default?: Bench };
  if (typeof module.default !== 'function') throw new Error(`${file} has no default export function`);
  for (const figure of await module.default()) console.log(formatFigure(figure));
}
