#!/usr/bin/env node
/**
 * Keeps `npm ci` working with a registry mirror that does not serve every platform build of a package.
 *
 * `npm install` leaves optional platform packages it cannot fetch (e.g. `@biomejs/cli-darwin-arm64` when the
 * mirror only carries Linux builds) out of package-lock.json; `npm ci` then refuses the lock as "out of sync".
 * This adds an entry for each such package with the os/cpu/libc its name declares, so `npm ci` sees the lock
 * in sync and skips them on this platform as it would skip any foreign-platform build.
 * Run after changing dependencies: `node .ci/lock-platform-stubs.mjs`; `--check` only reports (exit 1 when
 * entries are missing), which is what .ci/run does before `npm ci`.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

const OS = [
  'android',
  'darwin',
  'freebsd',
  'linux',
  'openharmony',
  'win32',
  'sunos',
  'aix',
  'netbsd',
  'openbsd',
];
const CPU = ['arm64', 'x64', 'ia32', 'ppc64', 's390x', 'riscv64', 'loong64', 'arm', 'mips64el'];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu =
    parts.find((p) => CPU.includes(p)) ?? (parts.some((p) => p.startsWith('arm')) ? 'arm' : undefined);
  const libc = parts.some((p) => p.includes('musl'))
    ? 'musl'
    : parts.some((p) => p === 'gnu' || p.startsWith('gnueabi'))
      ? 'glibc'
      : undefined;
  return os && cpu ? { os, cpu, libc } : undefined;
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const hoisted = `node_modules/${name}`;
    const nested = path ? `${path}/node_modules/${name}` : hoisted;
    if (packages[hoisted] || packages[nested]) continue;
    const platform = platformOf(name);
    if (!platform || !/^\d+\.\d+\.\d+/.test(spec)) {
      console.error(`left alone: ${name}@${spec} (not a pinned platform build)`);
      continue;
    }
    packages[hoisted] = {
      version: spec,
      cpu: [platform.cpu],
      ...(platform.libc ? { libc: [platform.libc] } : {}),
      optional: true,
      os: [platform.os],
    };
    if (entry.dev) packages[hoisted].dev = true;
    added++;
  }
}
if (process.argv.includes('--check')) {
  if (added > 0) {
    console.error(`package-lock.json lacks ${added} platform entries: run node .ci/lock-platform-stubs.mjs`);
    process.exit(1);
  }
  process.exit(0);
}
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platform-stubs: added ${added} entr${added === 1 ? 'y' : 'ies'}`);
