/**
 * Reading provider templates from a directory: the built-in `providers/` folder, or an operator's own
 * folder of custom templates. Each file is `<id>.json`, `<id>.yaml` or `<id>.yml` and must declare that id.
 */
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TemplateError } from '../core/errors.js';
import { loadProviderTemplateText } from '../core/provider/load.js';
import type { ProviderTemplate } from '../core/provider/schema.js';

const TEMPLATE_FILE = /^(?<id>[^.].*)\.(?:json|ya?ml)$/i;

/**
 * Where the built-in templates live: the repository's `providers/` folder, two levels up from this module
 * (the local runtime, tests and `cdk synth` read it; Lambda bundles carry the compiled deployment instead, see
 * core/config/compiled.ts). `override` (a path) wins when given.
 */
export function builtinProvidersDirectory(override?: string): string {
  if (override !== undefined) return resolve(override);
  return fileURLToPath(new URL('../../providers/', import.meta.url));
}

/** Template files of a directory listing, sorted (other files are ignored). */
function templateFiles(entries: readonly Dirent[]): string[] {
  return entries
    .filter((e) => e.isFile() && TEMPLATE_FILE.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** Validates the files' texts (in order) into templates by id; names the file on the first problem. */
function templatesOf(files: readonly { fileName: string; text: string }[]): Map<string, ProviderTemplate> {
  const templates = new Map<string, ProviderTemplate>();
  const fileOf = new Map<string, string>();
  for (const { fileName, text } of files) {
    const template = loadProviderTemplateText(text, fileName);
    const stem = TEMPLATE_FILE.exec(fileName)?.groups?.id;
    if (stem !== template.id) {
      throw new TemplateError(
        fileName,
        '$.id',
        `id "${template.id}" does not match the file name (expected ${template.id}${fileName.slice(fileName.lastIndexOf('.'))})`,
      );
    }
    const earlier = fileOf.get(template.id);
    if (earlier !== undefined) {
      throw new TemplateError(
        fileName,
        '$.id',
        `provider id "${template.id}" is already defined by ${earlier}`,
      );
    }
    fileOf.set(template.id, fileName);
    templates.set(template.id, template);
  }
  return templates;
}

/**
 * Loads every template file in `directory` (not recursive; other files are ignored). Throws one
 * {@link TemplateError} naming the file for an invalid template, a file name that is not `<id>.<ext>`,
 * or an id declared twice.
 */
export async function loadProviderDirectory(directory: string): Promise<Map<string, ProviderTemplate>> {
  const files = templateFiles(await readdir(directory, { withFileTypes: true }));
  const texts = [];
  for (const fileName of files)
    texts.push({ fileName, text: await readFile(join(directory, fileName), 'utf8') });
  return templatesOf(texts);
}

/**
 * {@link loadProviderDirectory}, synchronously: for `cdk synth`, whose constructs are built synchronously
 * (the same validation and the same messages).
 */
export function loadProviderDirectorySync(directory: string): Map<string, ProviderTemplate> {
  const files = templateFiles(readdirSync(directory, { withFileTypes: true }));
  return templatesOf(
    files.map((fileName) => ({ fileName, text: readFileSync(join(directory, fileName), 'utf8') })),
  );
}

const cache = new Map<string, Promise<Map<string, ProviderTemplate>>>();

/**
 * The built-in templates, loaded once per process (per directory). A failed load is not cached, so a
 * fixed file is picked up on the next call.
 */
export function loadBuiltinProviders(directory?: string): Promise<Map<string, ProviderTemplate>> {
  const dir = builtinProvidersDirectory(directory);
  let loaded = cache.get(dir);
  if (!loaded) {
    loaded = loadProviderDirectory(dir);
    cache.set(dir, loaded);
    loaded.catch(() => cache.delete(dir));
  }
  return loaded;
}
