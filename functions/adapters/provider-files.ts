/**
 * Reading provider templates from a directory: the built-in `providers/` folder, or an operator's own
 * folder of custom templates. Each file is `<id>.json`, `<id>.yaml` or `<id>.yml` and must declare that id.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TemplateError } from '../core/errors.js';
import { loadProviderTemplateText } from '../core/provider/load.js';
import type { ProviderTemplate } from '../core/provider/schema.js';

const TEMPLATE_FILE = /^(?<id>[^.].*)\.(?:json|ya?ml)$/i;

/**
 * Where the built-in templates live. In the repository that is `providers/` two levels up from this module;
 * the Lambda bundle copies the folder next to the bundled file, so that spot is tried first.
 * `override` (a path) wins when given.
 */
export function builtinProvidersDirectory(override?: string): string {
  if (override !== undefined) return resolve(override);
  const candidates = [new URL('./providers/', import.meta.url), new URL('../../providers/', import.meta.url)];
  const found = candidates.find((url) => existsSync(url));
  return fileURLToPath(found ?? (candidates[1] as URL));
}

/**
 * Loads every template file in `directory` (not recursive; other files are ignored). Throws one
 * {@link TemplateError} naming the file for an invalid template, a file name that is not `<id>.<ext>`,
 * or an id declared twice.
 */
export async function loadProviderDirectory(directory: string): Promise<Map<string, ProviderTemplate>> {
  const entries = await readdir(directory, { withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && TEMPLATE_FILE.test(e.name))
    .map((e) => e.name)
    .sort();
  const templates = new Map<string, ProviderTemplate>();
  const fileOf = new Map<string, string>();
  for (const fileName of files) {
    const text = await readFile(join(directory, fileName), 'utf8');
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
