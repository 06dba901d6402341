/**
 * `tokenvend providers ...` and the CLI's usage rules: help, exit codes, --json; `providers validate` names file,
 * JSON path and problem for broken templates. One run goes through the package's bin (cli/tokenvend.mjs).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './support/run.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

const good = {
  id: 'acme',
  name: 'Acme',
  endpoints: { authorize: 'https://login.acme.example/authorize', token: 'https://login.acme.example/token' },
  grants: { authorization_code: {}, refresh_token: {} },
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tokenvend-cli-'));
  writeFileSync(join(dir, 'acme.json'), JSON.stringify(good));
  writeFileSync(
    join(dir, 'typo.json'),
    JSON.stringify({ ...good, id: 'typo', endpoints: { ...good.endpoints, tokn: 'x' } }),
  );
  writeFileSync(
    join(dir, 'placeholder.json'),
    JSON.stringify({
      ...good,
      id: 'placeholder',
      endpoints: { ...good.endpoints, token: 'https://${tenant}.acme.example/token' },
    }),
  );
  writeFileSync(join(dir, 'broken.yaml'), 'id: broken\nname: [unclosed\n');
  writeFileSync(join(dir, 'renamed.json'), JSON.stringify(good));
  writeFileSync(join(dir, 'nogrant.yaml'), 'id: nogrant\nname: No grant\nendpoints: {}\ngrants: {}\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('providers validate', () => {
  test('a good file passes (exit 0)', async () => {
    const r = await run(['providers', 'validate', 'acme.json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.out).toBe('ok    acme.json (acme)');
  });

  test('broken templates: file, JSON path and problem for each, exit 1', async () => {
    const files = [
      'acme.json',
      'typo.json',
      'placeholder.json',
      'broken.yaml',
      'renamed.json',
      'nogrant.yaml',
      'missing.json',
    ];
    const r = await run(['providers', 'validate', ...files], { cwd: dir });
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    expect(lines).toEqual([
      'ok    acme.json (acme)',
      'FAIL  typo.json: $.endpoints: unknown key "tokn"',
      expect.stringMatching(
        /^FAIL {2}placeholder\.json: \$\.endpoints\.token: undeclared variable \$\{tenant\}/,
      ),
      expect.stringMatching(/^FAIL {2}broken\.yaml: \$: not valid YAML: /),
      'FAIL  renamed.json: $.id: id "acme" does not match the file name (expected acme.json)',
      'FAIL  nogrant.yaml: $.grants: declare at least one grant',
      'FAIL  missing.json: $: cannot read the file (ENOENT)',
    ]);
    expect(r.err).toBe('6 of 7 template files broken');
  });

  test('--json: one object per file', async () => {
    const r = await run(['providers', 'validate', 'typo.json', 'acme.json', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.json()).toEqual([
      { file: 'typo.json', ok: false, path: '$.endpoints', problem: 'unknown key "tokn"' },
      { file: 'acme.json', ok: true, id: 'acme' },
    ]);
  });

  test('every built-in template validates', async () => {
    const r = await run(
      [
        'providers',
        'validate',
        ...['genesys-cloud', 'ringcentral', 'zoom'].map((id) => `providers/${id}.json`),
      ],
      {
        cwd: root,
      },
    );
    expect(r.code).toBe(0);
  });
});

describe('providers list and show', () => {
  test('list: a table for people, JSON for scripts', async () => {
    const table = await run(['providers', 'list']);
    expect(table.code).toBe(0);
    expect(table.out.split('\n')[0]).toMatch(/^ID\s+NAME\s+TOKEN\s+GRANTS$/);
    expect(table.out).toMatch(
      /\ngenesys-cloud\s+Genesys Cloud\s+Authorization: <type> <token>\s+authorization_code, refresh_token, client_credentials, saml2_bearer\n/,
    );
    const listed = (await run(['providers', 'list', '--json'])).json() as { id: string; grants: string[] }[];
    expect(listed.map((p) => p.id)).toEqual(
      expect.arrayContaining(['genesys-cloud', 'ringcentral', 'sipgate', 'zoom']),
    );
  });

  test('list --dir reads another folder and reports a broken one', async () => {
    const r = await run(['providers', 'list', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/broken\.yaml: \$: not valid YAML/);
  });

  test('show: fields and variables; --json the whole template; unknown id exit 1 with the list', async () => {
    const shown = await run(['providers', 'show', 'genesys-cloud']);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/^id: +genesys-cloud$/m);
    expect(shown.out).toMatch(/^refresh: +300s before expiry, rotating refresh tokens$/m);
    expect(shown.out).toMatch(/^region +string +no +mypurecloud\.com/m);
    const template = (await run(['providers', 'show', 'zoom', '--json'])).json() as {
      id: string;
      usage: unknown;
    };
    expect(template.id).toBe('zoom');
    const unknown = await run(['providers', 'show', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no provider "nope"\n {2}built-in: .*genesys-cloud/);
  });
});

describe('usage', () => {
  test('help and exit codes', async () => {
    const bare = await run([]);
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/^tokenvend: tools for platform teams/);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/exit codes: 0 done, 1 a problem was found, 2 bad usage, 3 AWS/);
    for (const name of [
      'providers list',
      'config check',
      'secrets set',
      'connections inspect',
      'authorize-url',
    ]) {
      expect(help.out).toContain(`  ${name}`);
      const own = await run([...name.split(' '), '--help']);
      expect(own.code).toBe(0);
      expect(own.out).toMatch(new RegExp(`^usage: tokenvend ${name}`));
    }
    expect((await run(['help', 'secrets', 'set'])).out).toMatch(
      /^usage: tokenvend secrets set <integration>/,
    );
    expect((await run(['connections', '--help'])).out).toMatch(/tokenvend connections disconnect/);
  });

  test('bad arguments: exit 2 with what to do', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.err).toBe(
      'tokenvend: unknown command "frobnicate"\n  run tokenvend --help for the commands',
    );
    expect((await run(['providers', 'lisst'])).err).toMatch(/unknown command "providers lisst"/);
    const option = await run(['providers', 'list', '--bogus']);
    expect(option.code).toBe(2);
    expect(option.err).toMatch(/Unknown option '--bogus'[^\n]*\n {2}usage: tokenvend providers list/);
    const missing = await run(['providers', 'validate']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/missing <file>\.\.\./);
    const extra = await run(['providers', 'show', 'a', 'b']);
    expect(extra.err).toMatch(/unexpected argument "b"/);
    const noEnv = await run(['config', 'check']);
    expect(noEnv.code).toBe(2);
    expect(noEnv.err).toMatch(/--env <env> is required/);
    const badEnv = await run(['config', 'check', '--env', 'Prod!', '--json']);
    expect(badEnv.code).toBe(2);
    expect(badEnv.json()).toEqual({
      error: expect.objectContaining({ message: expect.stringMatching(/lowercase/), exitCode: 2 }),
    });
  });

  test('the bin: cli/tokenvend.mjs runs the same commands with the same exit codes', async () => {
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(root, 'cli/tokenvend.mjs'), 'providers', 'validate', 'typo.json'],
        { cwd: dir },
        (error, stdout) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('FAIL  typo.json: $.endpoints: unknown key "tokn"\n');
  }, 20_000);
});
