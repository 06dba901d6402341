/**
 * The package's exports: `npm run build:client` builds dist/client, and `import('tokenvend/client')` resolves
 * through package.json "exports" to it, with the public API only (the helpers of client/api.ts stay inside).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

beforeAll(() => {
  execFileSync(process.execPath, ['client/build.mjs'], { cwd: root, stdio: 'pipe' });
}, 60_000);

function exportsOf(specifier: string): string[] {
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import('${specifier}'); console.log(JSON.stringify(Object.keys(m).sort()))`,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  return JSON.parse(out) as string[];
}

test('tokenvend/client exports the client, vendorFetch helpers and the typed errors', () => {
  const names = exportsOf('tokenvend/client');
  expect(names).toEqual(
    expect.arrayContaining([
      'createTokenVendClient',
      'TokenVendError',
      'NotConnectedError',
      'NeedsReauthError',
      'RateLimitedError',
      'UnavailableError',
      'AccessDeniedError',
      'applyAuthorization',
    ]),
  );
  expect(names).not.toContain('signedVend');
  expect(names).not.toContain('checkId');
  const types = readFileSync(`${root}dist/client/index.d.ts`, 'utf8');
  expect(types).toContain('export declare function createTokenVendClient');
});

test('tokenvend/browser is one ES module without imports, with its types', () => {
  expect(exportsOf('tokenvend/browser')).toEqual(
    expect.arrayContaining(['createTokenVendBrowser', 'NeedsReauthError', 'TokenVendError']),
  );
  const code = readFileSync(`${root}dist/client/browser.js`, 'utf8');
  expect(code).not.toMatch(/^\s*import[\s{(]/m);
  expect(code).not.toMatch(/\bimport\(|require\(/);
  expect(readFileSync(`${root}dist/client/browser.d.ts`, 'utf8')).toContain(
    'export declare function createTokenVendBrowser',
  );
});
