/** `tokenvend providers list | show <id> | validate <file>...` */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { builtinProvidersDirectory, loadProviderDirectory } from '../functions/adapters/provider-files.js';
import { TemplateError } from '../functions/core/errors.js';
import { loadProviderTemplateText } from '../functions/core/provider/load.js';
import type { ProviderTemplate } from '../functions/core/provider/schema.js';
import type { Command } from './command.js';
import { CliError, EXIT, fields, json, table } from './output.js';

const TEMPLATE_FILE = /^(?<id>[^.].*)\.(?:json|ya?ml)$/i;

async function templates(dir: string | undefined, cwd: string): Promise<Map<string, ProviderTemplate>> {
  const directory = builtinProvidersDirectory(dir === undefined ? undefined : path.resolve(cwd, dir));
  try {
    return await loadProviderDirectory(directory);
  } catch (error) {
    if (error instanceof TemplateError) {
      throw new CliError(
        `${directory}: ${error.message}`,
        EXIT.problem,
        'fix the template, or check it with: tokenvend providers validate <file>',
      );
    }
    throw new CliError(
      `cannot read the providers folder ${directory} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      EXIT.problem,
    );
  }
}

function grantsOf(t: ProviderTemplate): string[] {
  return Object.entries(t.grants)
    .filter(([, spec]) => spec !== undefined)
    .map(([name]) => name);
}

function usageOf(t: ProviderTemplate): string {
  const u = t.usage;
  if (u.in === 'basic') return 'Authorization: Basic';
  if (u.in === 'query') return `?${u.name}=`;
  return `${u.name}: ${u.value.replace('${token_type}', '<type>').replace('${access_token}', '<token>')}`;
}

const dirOption = { dir: { type: 'string' } } as const;

export const providersList: Command = {
  name: 'providers list',
  usage: 'tokenvend providers list [--dir <folder>] [--json]',
  summary: 'the built-in provider templates',
  help: 'Lists the provider templates of the providers/ folder (or --dir): id, name, grants, how the token is applied.',
  options: dirOption,
  positionals: { min: 0, max: 0 },
  async run({ io, values, jsonOutput }) {
    const all = [...(await templates(values.dir as string | undefined, io.cwd)).values()];
    if (jsonOutput) {
      io.out(
        json(
          all.map((t) => ({
            id: t.id,
            name: t.name,
            grants: grantsOf(t),
            usage: t.usage,
            documentation: t.documentation,
          })),
        ),
      );
      return EXIT.ok;
    }
    io.out(
      table(
        ['ID', 'NAME', 'TOKEN', 'GRANTS'],
        all.map((t) => [t.id, t.name, usageOf(t), grantsOf(t).join(', ')]),
      ),
    );
    return EXIT.ok;
  },
};

export const providersShow: Command = {
  name: 'providers show',
  usage: 'tokenvend providers show <id> [--dir <folder>] [--json]',
  summary: "one provider's template: variables, endpoints, grants, token usage, refresh policy",
  help: 'Shows one built-in provider template as tokenvend reads it (defaults applied); --json prints the whole template.',
  options: dirOption,
  positionals: { min: 1, max: 1, names: '<id>' },
  async run({ io, values, positionals, jsonOutput }) {
    const id = positionals[0] as string;
    const all = await templates(values.dir as string | undefined, io.cwd);
    const t = all.get(id);
    if (!t) {
      throw new CliError(
        `no provider "${id}"`,
        EXIT.problem,
        `built-in: ${[...all.keys()].sort().join(', ')}`,
      );
    }
    if (jsonOutput) {
      io.out(json(t));
      return EXIT.ok;
    }
    const refresh =
      t.refresh.refreshAt.kind === 'before-expiry'
        ? `${t.refresh.refreshAt.seconds}s before expiry`
        : `at ${t.refresh.refreshAt.fraction * 100}% of the lifetime`;
    io.out(
      fields([
        ['id', t.id],
        ['name', t.name],
        ['documentation', t.documentation],
        ['authorize', t.endpoints.authorize],
        ['token', t.endpoints.token],
        ['revoke', t.endpoints.revoke?.url],
        ['discovery', t.endpoints.discovery],
        ['grants', grantsOf(t).join(', ')],
        ['default scopes', t.authorize.defaultScopes.join(' ')],
        ['token usage', usageOf(t)],
        [
          'refresh',
          `${refresh}${t.refresh.rotates ? ', rotating refresh tokens' : ''}${t.refresh.refreshTokenIdleSeconds ? `, refresh token lapses after ${t.refresh.refreshTokenIdleSeconds}s unused` : ''}`,
        ],
      ]),
    );
    const vars = Object.entries(t.variables);
    if (vars.length > 0) {
      io.out('\nvariables:');
      io.out(
        table(
          ['NAME', 'TYPE', 'REQUIRED', 'DEFAULT', 'ALLOWED', 'DESCRIPTION'],
          vars.map(([name, v]) => [
            name,
            v.type,
            v.required ? 'yes' : 'no',
            v.default === undefined ? undefined : String(v.default),
            v.enum ? v.enum.join('|') : v.pattern,
            v.description,
          ]),
        ),
      );
    }
    return EXIT.ok;
  },
};

interface Validation {
  file: string;
  ok: boolean;
  id?: string;
  path?: string;
  problem?: string;
}

async function validateFile(file: string, cwd: string): Promise<Validation> {
  const name = path.basename(file);
  let text: string;
  try {
    text = await readFile(path.resolve(cwd, file), 'utf8');
  } catch (error) {
    return {
      file,
      ok: false,
      path: '$',
      problem: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    };
  }
  if (!TEMPLATE_FILE.test(name)) {
    return {
      file,
      ok: false,
      path: '$',
      problem: 'a template file is named <id>.json, <id>.yaml or <id>.yml',
    };
  }
  try {
    const template = loadProviderTemplateText(text, name);
    const stem = TEMPLATE_FILE.exec(name)?.groups?.id;
    if (stem !== template.id) {
      return {
        file,
        ok: false,
        id: template.id,
        path: '$.id',
        problem: `id "${template.id}" does not match the file name (expected ${template.id}${path.extname(name)})`,
      };
    }
    return { file, ok: true, id: template.id };
  } catch (error) {
    if (error instanceof TemplateError) {
      // One line per file: a YAML parser's message goes on with an excerpt of the file.
      return { file, ok: false, path: error.path, problem: (error.problem.split('\n')[0] as string).trim() };
    }
    throw error;
  }
}

export const providersValidate: Command = {
  name: 'providers validate',
  usage: 'tokenvend providers validate <file>... [--json]',
  summary: 'checks provider template files: file, JSON path and problem for each broken one',
  help: 'Validates each template file (JSON or YAML) with the same code and messages as the runtime and cdk synth: the schema, the variables, every ${placeholder}. Exit code 1 when any file is broken.',
  options: {},
  positionals: { min: 1, names: '<file>...' },
  async run({ io, positionals, jsonOutput }) {
    const results: Validation[] = [];
    for (const file of positionals) results.push(await validateFile(file, io.cwd));
    const broken = results.filter((r) => !r.ok);
    if (jsonOutput) {
      io.out(json(results));
    } else {
      for (const r of results) {
        if (r.ok) io.out(`ok    ${r.file} (${r.id})`);
        else io.out(`FAIL  ${r.file}: ${r.path}: ${r.problem}`);
      }
      if (broken.length > 0)
        io.err(`${broken.length} of ${results.length} template file${results.length > 1 ? 's' : ''} broken`);
    }
    return broken.length > 0 ? EXIT.problem : EXIT.ok;
  },
};
