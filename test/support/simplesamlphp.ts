/**
 * A real SAML IdP for end-to-end tests: SimpleSAMLphp from Debian (`apt-get install simplesamlphp php-cli php-xml
 * php-mbstring`), served by `php -S` on a free loopback port with its own config, metadata, key and sessions in
 * a temp directory (SIMPLESAMLPHP_CONFIG_DIR). Users sign in on its own login form (exampleauth:UserPass).
 *
 * The SP side is imported the way an IdP admin does it: tokenvend's SP metadata XML goes through SimpleSAMLphp's
 * own metadata parser (`SAMLParser::parseDescriptorsString`, what its metadata converter uses) into
 * `saml20-sp-remote.php`; IdP-side choices (which attribute becomes the NameID, whether to encrypt) are added
 * on top, as an admin sets them after the import.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { generateSigningKey } from './saml-idp.js';

const SSP = '/usr/share/simplesamlphp';

export interface SimpleSamlUser {
  password: string;
  attributes: Record<string, string[]>;
}

export interface SimpleSamlPhp {
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** The IdP's entity ID, which is also its metadata URL. */
  readonly entityId: string;
  readonly metadataUrl: string;
  /** The HTTP-Redirect SSO endpoint. */
  readonly ssoUrl: string;
  /** IdP-initiated sign-in at the SP `spEntityId` (SimpleSAMLphp 1.19: `SSOService.php?spentityid=`). */
  idpInitiatedUrl(spEntityId: string, relayState?: string): string;
  /**
   * Imports SP metadata (XML) with SimpleSAMLphp's parser, plus IdP-side settings; replaces every SP imported
   * before under the same entity ID. Returns the parsed entry as SimpleSAMLphp stores it.
   */
  importSp(metadataXml: string, settings?: Record<string, unknown>): Record<string, unknown>;
  /** SimpleSAMLphp's log (for failure messages). */
  log(): string;
  close(): Promise<void>;
}

function requireInstalled(): void {
  const missing: string[] = [];
  if (!existsSync(`${SSP}/www/saml2/idp/SSOService.php`)) missing.push('simplesamlphp');
  let modules = '';
  try {
    modules = execFileSync('php', ['-m'], { encoding: 'utf8' });
  } catch {
    missing.push('php-cli');
  }
  if (modules && !/^dom$/m.test(modules)) missing.push('php-xml');
  if (modules && !/^mbstring$/m.test(modules)) missing.push('php-mbstring');
  if (missing.length > 0) {
    throw new Error(`the SimpleSAMLphp tests need Debian packages: apt-get install ${missing.join(' ')}`);
  }
}

const php = (value: unknown): string => JSON.stringify(value).replace(/\$/g, '\\$');

/** A PHP literal of a JSON-shaped value (strings, numbers, booleans, lists, maps). */
function phpValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(phpValue).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `[${Object.entries(value)
      .map(([k, v]) => `${php(k)} => ${phpValue(v)}`)
      .join(', ')}]`;
  }
  return typeof value === 'string' ? php(value) : JSON.stringify(value);
}

const IMPORT_SP = `<?php
// SP metadata (stdin) -> saml20-sp-remote entries, with SimpleSAMLphp's own parser; IdP settings from argv[1] (JSON).
require '${SSP}/lib/_autoload.php';
$xml = stream_get_contents(STDIN);
$settings = json_decode($argv[1], true);
$entries = [];
foreach (\\SimpleSAML\\Metadata\\SAMLParser::parseDescriptorsString($xml) as $entity) {
    $md = $entity->getMetadata20SP();
    if ($md === null) { continue; }
    $entries[] = array_merge($md, $settings);
}
if (count($entries) !== 1) { fwrite(STDERR, "expected exactly one SP in the metadata\\n"); exit(2); }
echo json_encode($entries[0]);
`;

export async function startSimpleSamlPhp(options: {
  users: Record<string, SimpleSamlUser>;
}): Promise<SimpleSamlPhp> {
  requireInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'tokenvend-ssp-'));
  for (const sub of ['config', 'metadata', 'cert', 'data', 'tmp', 'sessions', 'log'])
    mkdirSync(join(dir, sub));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const entityId = `${url}saml2/idp/metadata.php`;
  const key = generateSigningKey('simplesamlphp-idp');
  writeFileSync(join(dir, 'cert', 'idp.key'), key.privateKey, { mode: 0o600 });
  writeFileSync(join(dir, 'cert', 'idp.crt'), key.cert);
  const random = () => Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);

  writeFileSync(
    join(dir, 'config', 'config.php'),
    `<?php
$config = ${phpValue({
      baseurlpath: url,
      certdir: `${dir}/cert/`,
      loggingdir: `${dir}/log/`,
      datadir: `${dir}/data/`,
      tempdir: `${dir}/tmp/`,
      metadatadir: `${dir}/metadata/`,
      technicalcontact_name: 'tokenvend tests',
      technicalcontact_email: 'tests@example.test',
      secretsalt: random(),
      'auth.adminpassword': random(),
      'admin.protectindexpage': false,
      'admin.protectmetadata': false,
      'admin.checkforupdates': false,
      'enable.saml20-idp': true,
      'module.enable': { exampleauth: true, core: true, saml: true },
      'logging.handler': 'file',
      'logging.logfile': 'simplesamlphp.log',
      'statistics.out': [],
      'store.type': 'phpsession',
      'session.cookie.secure': false,
      'session.cookie.samesite': 'Lax',
      'session.phpsession.savepath': `${dir}/sessions`,
      'language.cookie.secure': false,
      'language.cookie.samesite': 'Lax',
      showerrors: true,
      production: false,
    }).replace(/\]$/, ", 'logging.level' => SimpleSAML\\Logger::WARNING]")};
`,
  );
  const users = Object.fromEntries(
    Object.entries(options.users).map(([name, user]) => [`${name}:${user.password}`, user.attributes]),
  );
  writeFileSync(
    join(dir, 'config', 'authsources.php'),
    `<?php
$config = ${phpValue({ admin: ['core:AdminPassword'] }).replace(/\]$/, '')}, 'example-userpass' => array_merge(['exampleauth:UserPass'], ${phpValue(users)})];
`,
  );
  writeFileSync(
    join(dir, 'metadata', 'saml20-idp-hosted.php'),
    `<?php
$metadata[${php(entityId)}] = ${phpValue({
      host: '__DEFAULT__',
      privatekey: 'idp.key',
      certificate: 'idp.crt',
      auth: 'example-userpass',
      'signature.algorithm': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    })};
`,
  );
  const sps = new Map<string, Record<string, unknown>>();
  const writeSps = () =>
    writeFileSync(
      join(dir, 'metadata', 'saml20-sp-remote.php'),
      `<?php\n${[...sps].map(([id, md]) => `$metadata[${php(id)}] = json_decode(${php(JSON.stringify(md))}, true);`).join('\n')}\n`,
    );
  writeSps();
  writeFileSync(join(dir, 'import-sp.php'), IMPORT_SP);

  const env = { ...process.env, SIMPLESAMLPHP_CONFIG_DIR: join(dir, 'config'), PHP_CLI_SERVER_WORKERS: '2' };
  const child: ChildProcess = spawn('php', ['-S', `127.0.0.1:${port}`, '-t', `${SSP}/www`], {
    env,
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const serverOutput: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    serverOutput.push(chunk.toString());
    if (serverOutput.length > 200) serverOutput.shift();
  });

  const log = () => {
    const file = join(dir, 'log', 'simplesamlphp.log');
    return `${existsSync(file) ? readFileSync(file, 'utf8') : ''}\n${serverOutput.join('')}`.slice(-8000);
  };
  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // The server and its workers form the process group started above.
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const answer = await fetch(entityId);
      if (answer.ok && (await answer.text()).includes('IDPSSODescriptor')) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      const output = log();
      await stop();
      throw new Error(`SimpleSAMLphp did not start on ${url}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    entityId,
    metadataUrl: entityId,
    ssoUrl: `${url}saml2/idp/SSOService.php`,
    idpInitiatedUrl(spEntityId, relayState) {
      const target = new URL(`${url}saml2/idp/SSOService.php`);
      target.searchParams.set('spentityid', spEntityId);
      if (relayState !== undefined) target.searchParams.set('RelayState', relayState);
      return target.toString();
    },
    importSp(metadataXml, settings = {}) {
      const json = execFileSync('php', [join(dir, 'import-sp.php'), JSON.stringify(settings)], {
        env,
        input: metadataXml,
        encoding: 'utf8',
      });
      const entry = JSON.parse(json) as Record<string, unknown>;
      sps.set(String(entry.entityid), entry);
      writeSps();
      return entry;
    },
    log,
    close: stop,
  };
}
