import { variableSchema } from '../../../../functions/core/provider/schema.js';
import { checkVariableValue } from '../../../../functions/core/provider/variables.js';

const spec = (input: Record<string, unknown>) => variableSchema.parse({ description: 'd', ...input });

describe('checkVariableValue', () => {
  it('accepts values of the declared type', () => {
    expect(checkVariableValue(spec({}), 'x')).toBeUndefined();
    expect(checkVariableValue(spec({ type: 'number' }), 3.5)).toBeUndefined();
    expect(checkVariableValue(spec({ type: 'boolean' }), false)).toBeUndefined();
  });

  it.each([
    [{}, 1, 'must be a string, got number'],
    [{ type: 'number' }, '1', 'must be a number, got string'],
    [{ type: 'number' }, Number.NaN, 'must be a finite number'],
    [{ type: 'number' }, Number.POSITIVE_INFINITY, 'must be a finite number'],
    [{ type: 'boolean' }, 'true', 'must be a boolean, got string'],
    [{}, null, 'must be a string, got null'],
    [{}, { a: 1 }, 'must be a string, got object'],
    [{ enum: ['a', 'b'] }, 'c', 'must be one of "a", "b"'],
    [{ type: 'number', enum: [1, 2] }, 3, 'must be one of 1, 2'],
  ])('%j refuses %j', (s, value, problem) => {
    expect(checkVariableValue(spec(s), value)).toBe(problem);
  });

  it('anchors the pattern at both ends', () => {
    const host = spec({ pattern: '[a-z]+\\.com' });
    expect(checkVariableValue(host, 'acme.com')).toBeUndefined();
    for (const bad of ['acme.com/x?', 'x.acme.com', 'acme.com#', 'acme.com\n', ' acme.com']) {
      expect(checkVariableValue(host, bad)).toBe('must match the pattern /[a-z]+\\.com/');
    }
  });

  it('anchors alternations as a whole', () => {
    const alt = spec({ pattern: 'eu|us' });
    expect(checkVariableValue(alt, 'us')).toBeUndefined();
    expect(checkVariableValue(alt, 'eu.evil.com')).toMatch(/must match/);
    expect(checkVariableValue(alt, 'evil.us')).toMatch(/must match/);
  });

  it('applies the pattern to numbers as text', () => {
    expect(checkVariableValue(spec({ type: 'number', pattern: '\\d{4}' }), 8443)).toBeUndefined();
    expect(checkVariableValue(spec({ type: 'number', pattern: '\\d{4}' }), 443)).toMatch(/must match/);
  });

  it('never echoes the value', () => {
    const problem = checkVariableValue(spec({ pattern: '[a-z]+' }), 'SECRET-VALUE-123');
    expect(problem).not.toContain('SECRET-VALUE-123');
  });
});
