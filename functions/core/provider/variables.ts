/** Checks of variable values against their declarations (type, enum, pattern). */
import type { VariableSpec } from './schema.js';

export type VariableValue = string | number | boolean;

function anchored(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'u');
}

/** Describes what is wrong with `value`, or returns undefined when it fits `spec`. Never echoes the value. */
export function checkVariableValue(spec: VariableSpec, value: unknown): string | undefined {
  if (typeof value !== spec.type)
    return `must be a ${spec.type}, got ${value === null ? 'null' : typeof value}`;
  if (spec.type === 'number' && !Number.isFinite(value)) return 'must be a finite number';
  if (spec.enum && !spec.enum.includes(value as string | number)) {
    return `must be one of ${spec.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (spec.pattern !== undefined && !anchored(spec.pattern).test(String(value))) {
    return `must match the pattern /${spec.pattern}/`;
  }
  return undefined;
}
