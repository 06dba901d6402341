/** The shape of a CLI command. */
import type { ParseArgsOptionsConfig } from 'node:util';
import type { Io } from './io.js';

export interface CommandContext {
  io: Io;
  /** Parsed options (strings and booleans). */
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  jsonOutput: boolean;
}

export interface Command {
  /** `providers list` */
  name: string;
  usage: string;
  summary: string;
  help: string;
  /** Options beyond `--json` and `--help`. */
  options: ParseArgsOptionsConfig;
  positionals: { min: number; max?: number; names?: string };
  run(context: CommandContext): Promise<number>;
}
