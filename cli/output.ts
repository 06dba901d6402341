/** Output for people (aligned tables, readable times) and for scripts (`--json`). */

/** Exit codes of every command. */
export const EXIT = {
  ok: 0,
  /** The command ran and found a problem: an invalid template or config, a missing secret, no such connection. */
  problem: 1,
  /** Bad usage: unknown command or option, missing or malformed argument. */
  usage: 2,
  /** AWS or the network could not be used: no credentials, access denied, unreachable endpoint. */
  unavailable: 3,
} as const;

/** An error a command reports as one message (and maybe a hint), with its exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, exitCode: number, hint?: string) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

export const usageError = (message: string, hint?: string) => new CliError(message, EXIT.usage, hint);

/** Longest cell of a column other than the last one (longer ones end in `…`). */
const MAX_CELL = 60;

/** Columns aligned with two spaces; `-` for empty cells. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly (string | number | undefined)[])[],
): string {
  const cells = rows.map((row) =>
    headers.map((_, i) => {
      const v = row[i];
      const text = v === undefined || v === '' ? '-' : String(v);
      return i < headers.length - 1 && text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
    }),
  );
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** `key: value` lines, keys aligned. */
export function fields(entries: readonly (readonly [string, string | number | undefined])[]): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries
    .map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v === undefined || v === '' ? '-' : v}`)
    .join('\n');
}

function relative(seconds: number): string {
  const abs = Math.abs(seconds);
  const text =
    abs < 90
      ? `${Math.round(abs)}s`
      : abs < 5400
        ? `${Math.round(abs / 60)}m`
        : abs < 172_800
          ? `${Math.round(abs / 3600)}h`
          : `${Math.round(abs / 86_400)}d`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

/** Epoch seconds as `2026-01-01 12:00:00Z (in 4m)`. */
export function when(epochSeconds: number | undefined, nowMs: number): string | undefined {
  if (epochSeconds === undefined) return undefined;
  const iso = new Date(epochSeconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${iso} (${relative(epochSeconds - nowMs / 1000)})`;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
