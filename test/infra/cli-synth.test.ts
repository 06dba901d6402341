/**
 * The real thing, once (it bundles every function, so it is the slow infra test): `npm run synth -- -c env=dev`
 * from a shell with AWS defaults set. Each function's asset holds its bundle and the compiled deployment, and no
 * config file or provider template; the template names none of the shell's region or account. A bad config stops
 * the same command with one line and a failing exit status, before anything is bundled.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { COMPILED_DEPLOYMENT_FILE, COMPILED_FORMAT } from '../../functions/core/config/compiled.js';
import { ENV, FUNCTIONS } from '../../functions/handlers/routes.js';

type Json = Record<string, unknown>;

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// Inside the repository (gitignored), so a bundle's external AWS SDK resolves from node_modules as the Lambda
// runtime's copy would.
let tmpDir: string;
beforeAll(() => {
  fs.mkdirSync(path.join(projectRoot, '.tokenvend'), { recursive: true });
  tmpDir = fs.mkdtempSync(path.join(projectRoot, '.tokenvend', 'cli-synth-'));
});
afterAll(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

function synth(...args: string[]) {
  return spawnSync('npm', ['run', '--silent', 'synth', '--', ...args], {
    cwd: projectRoot,
    encoding: 'utf8',
    env: { ...process.env, CDK_DEFAULT_REGION: 'ap-southeast-7', CDK_DEFAULT_ACCOUNT: '999988887777' },
    timeout: 300_000,
  });
}

describe('npm run synth', () => {
  it('bundles every function of env=dev with the compiled deployment beside it, region-agnostic', () => {
    const out = path.join(tmpDir, 'dev');
    const result = synth('-c', 'env=dev', '-o', out);
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({
      status: 0,
      stderr: '',
    });
    const template = fs.readFileSync(path.join(out, 'tokenvend-dev.template.json'), 'utf8');
    expect(template).not.toContain('ap-southeast-7');
    expect(template).not.toContain('999988887777');
    const assets = fs
      .readdirSync(out)
      .filter((d) => d.startsWith('asset.') && fs.existsSync(path.join(out, d, 'index.mjs')));
    expect(assets).toHaveLength(FUNCTIONS.length + 2);
    for (const asset of assets) {
      expect(fs.readdirSync(path.join(out, asset)).sort()).toEqual(
        ['index.mjs', 'index.mjs.map', COMPILED_DEPLOYMENT_FILE].sort(),
      );
      const compiled = JSON.parse(fs.readFileSync(path.join(out, asset, COMPILED_DEPLOYMENT_FILE), 'utf8'));
      expect(compiled).toMatchObject({ format: COMPILED_FORMAT, source: 'dev.json' });
    }
    // The health function's bundle, as Lambda runs it: it builds the App from the compiled deployment beside it.
    const resources = JSON.parse(template).Resources as Record<string, { Type: string; Properties: Json }>;
    const health = Object.entries(resources).find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('HealthFunction'),
    );
    if (!health) throw new Error('no health function in the template');
    const key = (health[1].Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
    const bundle = path.join(out, `asset.${key}`, 'index.mjs');
    const event = { rawPath: '/health', headers: {}, requestContext: { http: { method: 'GET' } } };
    const code = `const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)}); const r = await handler(${JSON.stringify(event)}, {}); process.stdout.write(String(r.statusCode));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        [ENV.tableName]: 'tokenvend-dev-table',
        [ENV.keyArn]: 'arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000',
        [ENV.secretPrefix]: 'tokenvend/dev/',
      },
    });
    expect({ out: run.stdout, err: run.stderr }).toEqual({ out: '200', err: '' });
  }, 300_000);

  it('stops on a bad config with one line naming the file, the JSON path and the problem', () => {
    const bad = path.join(tmpDir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ integrations: {}, refresh: { maxConcurrency: 1 } }));
    const result = synth('-c', 'env=dev', '-c', `config=${bad}`, '-o', path.join(tmpDir, 'bad'));
    expect(result.status).not.toBe(0);
    const lines = result.stderr.split('\n').filter((line) => line.startsWith('tokenvend: '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tokenvend: bad\.json: \$\.refresh\.maxConcurrency: /);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(fs.existsSync(path.join(tmpDir, 'bad', 'tokenvend-dev.template.json'))).toBe(false);
  }, 120_000);
});
