import {
  interpolate,
  lookupFrom,
  MissingValueError,
  placeholdersOf,
  removePlaceholders,
} from '../../../../functions/core/provider/interpolate.js';
import { thrown } from '../fixtures.js';

describe('placeholdersOf', () => {
  it('lists well-formed names in order, dotted secret names included', () => {
    expect(placeholdersOf('${a}-${secret.client_id}/${b_2}${a}')).toEqual([
      'a',
      'secret.client_id',
      'b_2',
      'a',
    ]);
  });

  it('ignores malformed ones (which the loader rejects through removePlaceholders)', () => {
    expect(placeholdersOf('${ a } ${1x} ${a-b} ${a.} $a {b}')).toEqual([]);
    expect(removePlaceholders('x${a}y${secret.k}z')).toBe('xyz');
    expect(removePlaceholders('${a-b}')).toContain('${');
  });
});

describe('interpolate', () => {
  const lookup = lookupFrom(
    { region: 'eu', port: 443, beta: false, empty: '' },
    { client_secret: 's3', k: 'v' },
  );

  it('replaces variables of every type and secrets', () => {
    expect(interpolate('${region}:${port}:${beta}:${empty}:${secret.k}', lookup)).toBe('eu:443:false::v');
  });

  it('does not re-interpolate substituted values', () => {
    const l = lookupFrom({ a: '${b}', b: 'x' });
    expect(interpolate('${a}', l)).toBe('${b}');
  });

  it('throws MissingValueError naming the placeholder, never a value', () => {
    const e = thrown(() => interpolate('${region}/${secret.missing}', lookup));
    expect(e).toBeInstanceOf(MissingValueError);
    expect((e as MissingValueError).placeholder).toBe('secret.missing');
    expect((e as Error).message).not.toContain('eu');
  });

  it('serves only own keys: no prototype members through ${secret.x} or ${x}', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(() => interpolate(`\${secret.${name}}`, lookup)).toThrow(MissingValueError);
      expect(() => interpolate(`\${${name}}`, lookup)).toThrow(MissingValueError);
    }
  });

  it('treats secret.* as secrets only', () => {
    const l = lookupFrom({ 'secret.k': 'not-a-secret' });
    expect(() => interpolate('${secret.k}', l)).toThrow(MissingValueError);
  });
});
