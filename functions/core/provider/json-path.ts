/** JSON paths in messages (`$.grants.authorization_code.clientAuth`, `$.variables.region.enum[2]`). */

/** `$.grants.authorization_code.clientAuth`, `$.variables.region.enum[2]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    const k = String(key);
    return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? `${acc}.${k}` : `${acc}[${JSON.stringify(k)}]`;
  }, '$');
}
