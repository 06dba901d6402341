import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  builtinProvidersDirectory,
  loadBuiltinProviders,
  loadProviderDirectory,
} from '../../../functions/adapters/provider-files.js';
import { TemplateError } from '../../../functions/core/errors.js';

const acme = (id = 'acme') =>
  JSON.stringify({
    id,
    name: 'Acme',
    endpoints: { token: 'https://login.acme.example/token' },
    grants: { client_credentials: {} },
  });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tokenvend-providers-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failure(directory: string): Promise<TemplateError> {
  const e = await loadProviderDirectory(directory).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (e instanceof TemplateError) return e;
  throw new Error(`expected a TemplateError, got ${String(e)}`);
}

describe('loadProviderDirectory', () => {
  it('loads JSON and YAML templates keyed by id and ignores other files', async () => {
    await writeFile(join(dir, 'acme.json'), acme());
    await writeFile(
      join(dir, 'beta.yaml'),
      'id: beta\nname: Beta\nendpoints:\n  token: https://beta.example/token\ngrants:\n  client_credentials: {}\n',
    );
    await writeFile(
      join(dir, 'gamma.yml'),
      'id: gamma\nname: Gamma\nendpoints: {}\ngrants:\n  static: { username: "${secret.user}", password: "${secret.pw}" }\n',
    );
    await writeFile(join(dir, 'README.md'), '# not a template');
    await mkdir(join(dir, 'nested.json'));
    const templates = await loadProviderDirectory(dir);
    expect([...templates.keys()]).toEqual(['acme', 'beta', 'gamma']);
    expect(templates.get('beta')?.grants.client_credentials?.clientAuth).toBe('basic');
  });

  it('rejects a file whose name is not <id>.<ext>', async () => {
    await writeFile(join(dir, 'acme-eu.json'), acme());
    const e = await failure(dir);
    expect(e.message).toBe('acme-eu.json: $.id: id "acme" does not match the file name (expected acme.json)');
  });

  it('rejects the same id in two files', async () => {
    await writeFile(join(dir, 'acme.json'), acme());
    await writeFile(
      join(dir, 'acme.yaml'),
      'id: acme\nname: Acme\nendpoints:\n  token: https://x.example/t\ngrants:\n  client_credentials: {}\n',
    );
    const e = await failure(dir);
    expect(e.message).toBe('acme.yaml: $.id: provider id "acme" is already defined by acme.json');
  });

  it('reports an invalid template as one TemplateError naming the file and JSON path', async () => {
    await writeFile(
      join(dir, 'acme.yaml'),
      'id: acme\nname: Acme\nendpoints:\n  token: https://x.example/t\ngrants:\n  client_credentials:\n    clientAuth: header\n',
    );
    const e = await failure(dir);
    expect(e.source).toBe('acme.yaml');
    expect(e.path).toBe('$.grants.client_credentials.clientAuth');
    expect(e.message.startsWith('acme.yaml: $.grants.client_credentials.clientAuth: ')).toBe(true);
  });

  it('reports broken YAML with the file name', async () => {
    await writeFile(join(dir, 'acme.yaml'), 'id: [acme\n');
    const e = await failure(dir);
    expect(e.message).toMatch(/^acme\.yaml: \$: not valid YAML/);
  });
});

describe('built-in providers', () => {
  it('resolves the repository providers/ folder from the module location', () => {
    const expected = fileURLToPath(new URL('../../../providers/', import.meta.url));
    expect(builtinProvidersDirectory()).toBe(expected);
    expect(builtinProvidersDirectory(dir)).toBe(dir);
  });

  it('loads the built-ins once per process', async () => {
    const first = await loadBuiltinProviders();
    expect(first.size).toBeGreaterThanOrEqual(13);
    expect(await loadBuiltinProviders()).toBe(first);
  });

  it('takes an override directory, and does not cache a failed load', async () => {
    await writeFile(join(dir, 'acme-eu.json'), acme());
    await expect(loadBuiltinProviders(dir)).rejects.toThrow(TemplateError);
    await rm(join(dir, 'acme-eu.json'));
    await writeFile(join(dir, 'acme.json'), acme());
    expect([...(await loadBuiltinProviders(dir)).keys()]).toEqual(['acme']);
  });
});
