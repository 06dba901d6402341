/** What a command may touch of the outside world: output streams, stdin, a prompt, the environment. */
import type { Readable, Writable } from 'node:stream';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdin is a terminal (then values are prompted for, else read from stdin). */
  readonly stdinIsTty: boolean;
  /** The whole of stdin. */
  readStdin(): Promise<string>;
  /** Asks on the terminal; `hidden`: nothing typed is echoed. */
  prompt(question: string, options: { hidden: boolean }): Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Epoch milliseconds. */
  now(): number;
}

/** The process's own streams. A hidden prompt switches the terminal to raw mode and echoes nothing. */
export function processIo(): Io {
  const stdin = process.stdin;
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    stdinIsTty: stdin.isTTY === true,
    readStdin: () => readAll(stdin),
    prompt: (question, options) => promptTty(stdin, process.stderr, question, options.hidden),
    env: process.env,
    cwd: process.cwd(),
    now: Date.now,
  };
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/** One line from a TTY; with `hidden` the terminal is raw, nothing is echoed, Ctrl-C aborts. */
function promptTty(
  stdin: NodeJS.ReadStream,
  output: Writable,
  question: string,
  hidden: boolean,
): Promise<string> {
  output.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(wasRaw);
      stdin.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new Error('aborted'));
        if (ch === '\u007f' || ch === '\b') {
          if (value.length > 0) {
            value = value.slice(0, -1);
            if (!hidden) output.write('\b \b');
          }
          continue;
        }
        value += ch;
        if (!hidden) output.write(ch);
      }
    };
    stdin.on('data', onData);
  });
}
