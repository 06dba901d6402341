/**
 * The `tokenvend` command line for platform teams: provider templates, an environment's config and secrets,
 * users' connections, a vendor's login URL. Tables for people, `--json` for scripts; exit codes in output.ts.
 */
import { parseArgs } from 'node:util';
import { audit } from './audit.js';
import { authorizeUrl } from './authorize-url.js';
import type { Command } from './command.js';
import { configCheck, secretsSet } from './config.js';
import { connectionsDisconnect, connectionsInspect, connectionsList } from './connections.js';
import { type Io, processIo } from './io.js';
import { CliError, EXIT, json } from './output.js';
import { providersList, providersShow, providersValidate } from './providers.js';

export const COMMANDS: readonly Command[] = [
  providersList,
  providersShow,
  providersValidate,
  configCheck,
  secretsSet,
  connectionsList,
  connectionsInspect,
  connectionsDisconnect,
  authorizeUrl,
  audit,
];

const GROUPS = ['providers', 'config', 'secrets', 'connections'];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'tokenvend: tools for platform teams running tokenvend',
    '',
    'usage: tokenvend <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'options of every command:',
    '  --json        output for scripts (one JSON document on stdout)',
    '  -h, --help    help for the command',
    '',
    'AWS commands use the AWS SDK default credentials (AWS_PROFILE, SSO, environment, ...) and --region (or',
    "AWS_REGION, or the config's deploy.region); --endpoint-url (or AWS_ENDPOINT_URL) for a local AWS stand-in.",
    '',
    'exit codes: 0 done, 1 a problem was found, 2 bad usage, 3 AWS or the network could not be used',
    'docs/cli.md has the details.',
  ].join('\n');
}

function commandHelp(command: Command): string {
  return [`usage: ${command.usage}`, '', command.summary, '', command.help].join('\n');
}

function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  for (const command of COMMANDS) {
    const words = command.name.split(' ');
    if (words.every((word, i) => argv[i] === word)) return { command, rest: argv.slice(words.length) };
  }
  return undefined;
}

/** Runs `argv` (without `node` and the script); answers the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const wantsJson = argv.includes('--json');
  const fail = (error: CliError): number => {
    if (wantsJson)
      io.out(json({ error: { message: error.message, hint: error.hint, exitCode: error.exitCode } }));
    else io.err(`tokenvend: ${error.message}${error.hint ? `\n  ${error.hint}` : ''}`);
    return error.exitCode;
  };
  const first = argv[0];
  if (first === undefined) {
    io.err(overview());
    return EXIT.usage;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? findCommand(argv.slice(1)) : undefined;
    io.out(topic ? commandHelp(topic.command) : overview());
    return EXIT.ok;
  }
  if (first === '--version') {
    io.out('tokenvend 0.1.0');
    return EXIT.ok;
  }
  const found = findCommand(argv);
  if (!found) {
    if (GROUPS.includes(first)) {
      const sub = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
      const asked = argv[1];
      const help = asked === undefined || asked === '--help' || asked === '-h';
      const text = [
        `usage: tokenvend ${first} <command>`,
        '',
        ...sub.map((c) => `  ${c.usage}\n      ${c.summary}`),
      ].join('\n');
      if (help && asked !== undefined) {
        io.out(text);
        return EXIT.ok;
      }
      io.err(asked === undefined ? text : `tokenvend: unknown command "${first} ${asked}"\n\n${text}`);
      return EXIT.usage;
    }
    return fail(
      new CliError(`unknown command "${first}"`, EXIT.usage, 'run tokenvend --help for the commands'),
    );
  }
  const { command, rest } = found;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return fail(
      new CliError((error as Error).message.split('\n')[0] as string, EXIT.usage, `usage: ${command.usage}`),
    );
  }
  if (parsed.values.help) {
    io.out(commandHelp(command));
    return EXIT.ok;
  }
  const { positionals } = parsed;
  const { min, max } = command.positionals;
  if (positionals.length < min || (max !== undefined && positionals.length > max)) {
    const expected = command.positionals.names ?? 'no arguments';
    return fail(
      new CliError(
        positionals.length < min ? `missing ${expected}` : `unexpected argument "${positionals[max ?? 0]}"`,
        EXIT.usage,
        `usage: ${command.usage}`,
      ),
    );
  }
  try {
    return await command.run({
      io,
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals,
      jsonOutput: parsed.values.json === true,
    });
  } catch (error) {
    if (error instanceof CliError) return fail(error);
    // Anything else is a bug or an unexpected failure: its class and message (our modules never put a secret in one).
    return fail(
      new CliError(
        `unexpected ${(error as Error).name ?? 'error'}: ${(error as Error).message}`,
        EXIT.problem,
      ),
    );
  }
}
