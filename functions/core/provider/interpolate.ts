/**
 * `${name}` interpolation for provider templates. Names are letters, digits, `_` and dots
 * (`secret.client_id`). There is no escaping and no expression language on purpose.
 */
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}/g;

/** The placeholder names used in a template string, in order of appearance. */
export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/** `template` with every well-formed placeholder removed (what is left must not contain `${`). */
export function removePlaceholders(template: string): string {
  return template.replace(PLACEHOLDER, '');
}

/** Thrown when a placeholder has no value; names the placeholder, never a value. */
export class MissingValueError extends Error {
  constructor(readonly placeholder: string) {
    super(`no value for \${${placeholder}}`);
    this.name = 'MissingValueError';
  }
}

export type ValueLookup = (name: string) => string | number | boolean | undefined;

/** Replaces every `${name}`; `lookup` returning undefined throws {@link MissingValueError}. */
export function interpolate(template: string, lookup: ValueLookup): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = lookup(name);
    if (value === undefined) throw new MissingValueError(name);
    return String(value);
  });
}

/** A lookup over a flat record, with `secret.*` names served from a second record. */
export function lookupFrom(
  values: Readonly<Record<string, string | number | boolean | undefined>>,
  secret?: Readonly<Record<string, string | undefined>>,
): ValueLookup {
  return (name) => {
    if (name.startsWith('secret.')) {
      const key = name.slice('secret.'.length);
      // Own keys only: `${secret.constructor}` must not reach Object.prototype.
      return secret !== undefined && Object.hasOwn(secret, key) ? secret[key] : undefined;
    }
    return Object.hasOwn(values, name) ? values[name] : undefined;
  };
}
