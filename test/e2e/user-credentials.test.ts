/**
 * Per-user credentials (`grants.user_credentials`) end to end through the local runtime: a Finesse-shaped REST API
 * on loopback checks each agent's own Basic username:password at `GET /finesse/api/User/{id}` (an agent may read
 * only their own User object). The app posts the agent's credentials with the agent's JWT; tokenvend checks them
 * once and stores them as that agent's connection; vend hands them out as `Authorization: Basic ...`. A refusal
 * stores nothing; no other subject can vend them; `/connections` never shows them; disconnect deletes them without
 * calling the vendor. Every process output line, the runtime's logger and every answer are captured: the passwords
 * (canaries) appear in none of them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canary } from '../support/leaks.js';
import { type CallOptions, type HttpAnswer, type Stack, startStack } from './support/stack.js';

const FINESSE = 'finesse';
/** The agents the Finesse-shaped server knows, with their passwords (a non-ASCII one: RFC 7617 UTF-8). */
const PASSWORDS = new Map<string, string>([
  ['agent1001', canary('pw-1001')],
  ['agent1002', `pässwörd-${canary('pw-1002')}`],
  ['jo.smith@cc.example', canary('pw-jo')],
]);

interface FinesseRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

/** How the server answers next: normally, or a fault (rate limited, down). */
let fault: { status: number; headers?: Record<string, string> } | undefined;
const finesseRequests: FinesseRequest[] = [];
let finesse: Server;
let stack: Stack;
const lines: string[] = [];
const restores: (() => void)[] = [];
const answers: HttpAnswer[] = [];

/** Finesse's User GET: 200 with the User object for the agent's own credentials, 401 otherwise. */
function startFinesse(): Promise<string> {
  finesse = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    finesseRequests.push({
      method: String(req.method),
      path: url.pathname,
      authorization: req.headers.authorization,
    });
    if (fault) {
      res
        .writeHead(fault.status, fault.headers ?? {})
        .end('<ApiErrors><ApiError>down</ApiError></ApiErrors>');
      return;
    }
    const match = /^\/finesse\/api\/User\/([^/]+)$/.exec(url.pathname);
    const id = match ? decodeURIComponent(match[1] as string) : undefined;
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [user, ...rest] = Buffer.from(basic ?? '', 'base64')
      .toString('utf8')
      .split(':');
    const ok =
      req.method === 'GET' && id !== undefined && user === id && PASSWORDS.get(id) === rest.join(':');
    if (!ok) {
      // Finesse's refusal body; tokenvend must never repeat it.
      res
        .writeHead(401, { 'content-type': 'application/xml' })
        .end(
          `<ApiErrors><ApiError><ErrorMessage>bad password for ${id} ${basic}</ErrorMessage></ApiError></ApiErrors>`,
        );
      return;
    }
    res.writeHead(200, { 'content-type': 'application/xml' }).end(`<User><loginId>${id}</loginId></User>`);
  });
  return new Promise((resolve) =>
    finesse.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(finesse.address() as AddressInfo).port}`),
    ),
  );
}

/** A Cisco-Finesse-shaped template whose verify URL is the loopback server. */
function finesseTemplate(origin: string): Record<string, unknown> {
  return {
    id: 'finesse-shaped',
    name: 'Finesse-shaped per-user credentials',
    // A revocation endpoint that must never see Basic credentials: disconnecting only deletes them.
    endpoints: { revoke: { url: `${origin}/revoke` } },
    grants: {
      user_credentials: {
        scheme: 'basic',
        username: { pattern: '[A-Za-z0-9._@-]{1,128}' },
        verify: { url: `${origin}/finesse/api/User/\${username}`, method: 'GET' },
      },
    },
  };
}

function capture(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      lines.push(Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
      return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof stream.write;
    restores.push(() => {
      stream.write = original;
    });
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    };
    restores.push(() => {
      console[method] = original;
    });
  }
}

beforeAll(async () => {
  capture();
  const origin = await startFinesse();
  stack = await startStack({
    extraIntegrations: () => ({ [FINESSE]: { provider: finesseTemplate(origin) } }),
  });
  const logger = stack.server.local.app.logger;
  for (const level of ['error', 'info'] as const) {
    const original = logger[level].bind(logger);
    logger[level] = (message, details) => {
      lines.push(`logger.${level}: ${message} ${JSON.stringify(details)}`);
      original(message, details);
    };
  }
});

afterAll(async () => {
  for (const undo of restores.splice(0).reverse()) undo();
  await stack?.close();
  await new Promise<void>((resolve) => (finesse ? finesse.close(() => resolve()) : resolve()));
});

beforeEach(() => {
  fault = undefined;
});

/** Every call is kept for the leak check at the end. */
async function call(method: string, path: string, options?: CallOptions): Promise<HttpAnswer> {
  const answer = await stack.call(method, path, options);
  answers.push(answer);
  return answer;
}

const basicOf = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

function post(token: string, body: unknown): Promise<HttpAnswer> {
  return call('POST', `/connect/${FINESSE}/credentials`, { token, json: body });
}

const password = (user: string) => PASSWORDS.get(user) as string;

/** The `authorization.value` of a vend answer. */
const headerOf = (vend: HttpAnswer) =>
  String((vend.json?.authorization as { value?: string } | undefined)?.value);

describe('per-user credentials through the local runtime', () => {
  it('the right password connects the agent: one check at the vendor with their own Basic, then vend gives it back as Basic', async () => {
    const alice = await stack.token('alice');
    const before = finesseRequests.length;
    const answer = await post(alice, { username: 'agent1001', password: password('agent1001') });
    expect([answer.status, answer.json]).toEqual([200, { integration: FINESSE, status: 'connected' }]);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(finesseRequests.slice(before)).toEqual([
      {
        method: 'GET',
        path: '/finesse/api/User/agent1001',
        authorization: basicOf('agent1001', password('agent1001')),
      },
    ]);

    const vend = await call('GET', `/vend/${FINESSE}`, { token: alice });
    expect(vend.status).toBe(200);
    expect(vend.json?.token_type).toBe('Basic');
    expect(vend.json?.expires_at).toBeUndefined();
    expect(vend.json?.authorization).toEqual({
      header: 'Authorization',
      value: basicOf('agent1001', password('agent1001')),
    });
    // The vended header works at the vendor: the same request the agent's app would send.
    const direct = await fetch(`${finesseOrigin()}/finesse/api/User/agent1001`, {
      headers: { authorization: String(headerOf(vend)) },
    });
    expect(direct.status).toBe(200);
    await direct.body?.cancel();
  });

  it('a non-ASCII password travels as UTF-8, and the username is URL-encoded into the verify URL', async () => {
    const bob = await stack.token('bob');
    expect((await post(bob, { username: 'agent1002', password: password('agent1002') })).status).toBe(200);
    const carol = await stack.token('carol');
    const before = finesseRequests.length;
    const user = 'jo.smith@cc.example';
    expect((await post(carol, { username: user, password: password(user) })).status).toBe(200);
    expect(finesseRequests.slice(before).map((r) => r.path)).toEqual([
      '/finesse/api/User/jo.smith%40cc.example',
    ]);
    const vend = await call('GET', `/vend/${FINESSE}`, { token: bob });
    expect(headerOf(vend)).toBe(basicOf('agent1002', password('agent1002')));
  });

  it('a wrong password is 400 invalid_grant in our own words, stores nothing, and leaves an existing connection as it was', async () => {
    const dave = await stack.token('dave');
    const refused = await post(dave, { username: 'agent1001', password: 'not-the-password-canary' });
    expect([refused.status, refused.json?.error]).toEqual([400, 'invalid_grant']);
    expect(String(refused.json?.error_description)).toMatch(/refused these credentials/);
    expect(refused.text).not.toMatch(/ApiError|bad password/);
    expect((await call('GET', `/vend/${FINESSE}`, { token: dave })).status).toBe(404);

    // Alice (connected above) types a wrong password: her stored credentials stay.
    const alice = await stack.token('alice');
    const again = await post(alice, { username: 'agent1001', password: 'wrong-again-canary' });
    expect(again.status).toBe(400);
    const vend = await call('GET', `/vend/${FINESSE}`, { token: alice });
    expect(headerOf(vend)).toBe(basicOf('agent1001', password('agent1001')));
  });

  it('a caller guessing passwords gets 5 checks per 15 minutes, then 429 slow_down with Retry-After and no vendor call', async () => {
    const mallory = await stack.token('mallory');
    const before = finesseRequests.length;
    for (let i = 0; i < 5; i++) {
      const guess = await post(mallory, { username: 'agent1001', password: `guess-${i}-canary` });
      expect(guess.status).toBe(400);
    }
    expect(finesseRequests.length - before).toBe(5);
    const sixth = await post(mallory, { username: 'agent1001', password: password('agent1001') });
    expect([sixth.status, sixth.json?.error]).toEqual([429, 'slow_down']);
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(Number(sixth.headers.get('retry-after'))).toBeLessThanOrEqual(900);
    // Not even the right password reaches the vendor now, and another caller is not held back.
    expect(finesseRequests.length - before).toBe(5);
    const erin = await stack.token('erin');
    expect((await post(erin, { username: 'agent1001', password: 'erin-guess-canary' })).status).toBe(400);
  });

  it('another subject can neither vend nor see the first one’s credentials', async () => {
    const mallory = await stack.token('mallory');
    const vend = await call('GET', `/vend/${FINESSE}`, { token: mallory });
    expect([vend.status, vend.json?.error]).toEqual([404, 'not_connected']);
    const list = await call('GET', '/connections', { token: mallory });
    expect(list.json).toEqual({ connections: [] });
  });

  it('/connections lists the connection without any credential', async () => {
    const alice = await stack.token('alice');
    const list = await call('GET', '/connections', { token: alice });
    expect(list.status).toBe(200);
    const entry = ((list.json?.connections ?? []) as Record<string, unknown>[]).find(
      (c) => c.integration === FINESSE,
    );
    expect(Object.keys(entry ?? {}).sort()).toEqual(['connected_at', 'integration', 'status']);
    expect(entry?.status).toBe('connected');
    const pair = Buffer.from(`agent1001:${password('agent1001')}`).toString('base64');
    expect(list.text).not.toContain(pair);
    expect(list.text).not.toContain(password('agent1001'));
  });

  it('bad bodies are 400 invalid_request and never reach the vendor; other refusals keep their codes', async () => {
    const erin = await stack.token('erin');
    const before = finesseRequests.length;
    const path = `/connect/${FINESSE}/credentials`;
    const good = { username: 'agent1001', password: password('agent1001') };
    const cases: Array<[string, CallOptions, number, string]> = [
      [path, { json: good }, 401, 'invalid_token'],
      [path, { token: erin, json: {} }, 400, 'invalid_request'],
      [path, { token: erin, json: { username: 'agent1001' } }, 400, 'invalid_request'],
      [path, { token: erin, json: { ...good, realm: 'x' } }, 400, 'invalid_request'],
      [path, { token: erin, json: { username: 42, password: 'x' } }, 400, 'invalid_request'],
      [path, { token: erin, json: { username: 'agent/../1001', password: 'x' } }, 400, 'invalid_request'],
      [path, { token: erin, json: { username: 'agent:1001', password: 'x' } }, 400, 'invalid_request'],
      [
        path,
        { token: erin, json: { username: 'agent1001', password: 'x'.repeat(1025) } },
        400,
        'invalid_request',
      ],
      [path, { token: erin, json: { username: 'agent1001', password: 'a\nb' } }, 400, 'invalid_request'],
      [path, { token: erin, form: good }, 415, 'invalid_request'],
      ['/connect/nope/credentials', { token: erin, json: good }, 404, 'unknown_integration'],
      // The OAuth integration of the stack takes no user credentials.
      ['/connect/oidc/credentials', { token: erin, json: good }, 400, 'unsupported_grant_type'],
    ];
    for (const [target, options, status, error] of cases) {
      const answer = await call('POST', target, options);
      expect({ target, status: answer.status, error: answer.json?.error }).toEqual({ target, status, error });
    }
    expect(finesseRequests.length).toBe(before);
    expect((await call('GET', `/vend/${FINESSE}`, { token: erin })).status).toBe(404);
  });

  it('a vendor that rate limits is 503 with its Retry-After, one that fails is 502; nothing stored, one request each', async () => {
    const frank = await stack.token('frank');
    const good = { username: 'agent1001', password: password('agent1001') };
    let before = finesseRequests.length;
    fault = { status: 429, headers: { 'retry-after': '30' } };
    const limited = await post(frank, good);
    expect([limited.status, limited.json?.error, limited.headers.get('retry-after')]).toEqual([
      503,
      'temporarily_unavailable',
      '30',
    ]);
    expect(finesseRequests.length - before).toBe(1);
    before = finesseRequests.length;
    fault = { status: 500 };
    const down = await post(frank, good);
    expect([down.status, down.json?.error]).toEqual([502, 'temporarily_unavailable']);
    expect(finesseRequests.length - before).toBe(1);
    fault = { status: 302, headers: { location: 'https://ids.example/sso' } };
    expect((await post(frank, good)).status).toBe(502);
    fault = undefined;
    expect((await call('GET', `/vend/${FINESSE}`, { token: frank })).status).toBe(404);
  });

  it('disconnect deletes the credentials without calling the vendor', async () => {
    const bob = await stack.token('bob');
    const before = finesseRequests.length;
    const gone = await call('DELETE', `/connections/${FINESSE}`, { token: bob });
    expect(gone.status).toBe(204);
    expect(finesseRequests.length).toBe(before);
    expect((await call('GET', `/vend/${FINESSE}`, { token: bob })).status).toBe(404);
    expect((await call('DELETE', `/connections/${FINESSE}`, { token: bob })).status).toBe(404);
    // Connecting again works.
    expect((await post(bob, { username: 'agent1002', password: password('agent1002') })).status).toBe(200);
  });

  it('no password reaches any log line or any answer; the Basic pair only the owner’s vend answers', async () => {
    const secrets = [...PASSWORDS.values(), 'not-the-password-canary', 'wrong-again-canary'];
    const pairs = [...PASSWORDS].map(([user, pw]) => Buffer.from(`${user}:${pw}`).toString('base64'));
    const output = lines.join('\n');
    for (const secret of [...secrets, ...pairs]) expect(output.includes(secret)).toBe(false);
    // The capture works: the vendor failures above were logged (without their messages' secrets).
    expect(output).toContain('request failed');
    for (const answer of answers) {
      for (const secret of secrets) expect(answer.text.includes(secret)).toBe(false);
      const isVend = answer.json?.token_type === 'Basic';
      if (!isVend) for (const pair of pairs) expect(answer.text.includes(pair)).toBe(false);
    }
    expect(answers.length).toBeGreaterThan(20);
  });
});

function finesseOrigin(): string {
  return `http://127.0.0.1:${(finesse.address() as AddressInfo).port}`;
}
