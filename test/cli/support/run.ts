/** Runs the CLI in process with captured output, a scripted stdin or terminal, and its own environment. */
import type { Io } from '../../../cli/io.js';
import { main } from '../../../cli/main.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Piped stdin (not a terminal). */
  stdin?: string;
  /** A terminal: each prompt gets the next answer. */
  answers?: string[];
  now?: number;
}

export interface RunResult {
  code: number;
  out: string;
  err: string;
  prompts: { question: string; hidden: boolean }[];
  /** stdout parsed as JSON (for --json runs). */
  json(): unknown;
}

export async function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const out: string[] = [];
  const err: string[] = [];
  const prompts: RunResult['prompts'] = [];
  const answers = [...(options.answers ?? [])];
  const io: Io = {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    stdinIsTty: options.answers !== undefined,
    readStdin: async () => options.stdin ?? '',
    prompt: async (question, { hidden }) => {
      prompts.push({ question, hidden });
      const answer = answers.shift();
      if (answer === undefined) throw new Error(`unexpected prompt: ${question}`);
      return answer;
    },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    now: () => options.now ?? Date.now(),
  };
  const code = await main(argv, io);
  const stdout = out.join('\n');
  return { code, out: stdout, err: err.join('\n'), prompts, json: () => JSON.parse(stdout) };
}
