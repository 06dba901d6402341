/**
 * The audit trail against the real local runtime (docs/audit.md): each action writes exactly one record with
 * who, what, which connection, how it ended, when, the request id, source IP and user agent; a refresh is its
 * own record; no record holds a token, code, claim or caller JWT; `/local/audit` shows a caller only its own.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { accessTokenHash } from '../../functions/core/lifecycle/lifecycle.js';
import type { AuditRecord } from '../../functions/core/ports.js';
import { AUDIT_FILE } from '../../functions/local/local-app.js';
import { type LocalServer, startLocalServer } from '../../functions/local/server.js';
import { browse } from './support/browse.js';

let server: LocalServer;
let cwd: string;
const USER_AGENT = 'audit-test/1.0';

beforeAll(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), 'tokenvend-audit-'));
  server = await startLocalServer({
    port: 0,
    cwd,
    dataDir: path.join(cwd, '.tokenvend'),
    refreshIntervalMs: 0,
    quiet: true,
    sandboxAccessTokenTtl: 8,
  });
});

afterAll(async () => {
  await server?.close();
  rmSync(cwd, { recursive: true, force: true });
});

function records(): AuditRecord[] {
  return readFileSync(path.join(cwd, '.tokenvend', AUDIT_FILE), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditRecord);
}

async function callerToken(sub: string): Promise<string> {
  const response = await fetch(`${server.url}/local/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub }),
  });
  return ((await response.json()) as { token: string }).token;
}

describe('the audit trail', () => {
  it('writes one record per action, with who, what and how it ended, and never a secret', async () => {
    const jwt = await callerToken('alice');
    const auth = { authorization: `Bearer ${jwt}`, 'user-agent': USER_AGENT };
    const json = { ...auth, 'content-type': 'application/json' };
    const secrets: string[] = [jwt];
    const alice = 'user:local:alice';

    const started = await fetch(`${server.url}/connect/sandbox`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ return_to: `${server.url}/local/connected` }),
    });
    const { authorize_url } = (await started.json()) as { authorize_url: string };
    const callback = await browse(authorize_url, server.url);
    secrets.push(String(callback.searchParams.get('code')), String(callback.searchParams.get('state')));
    const finished = await fetch(callback, { redirect: 'manual', headers: { 'user-agent': USER_AGENT } });
    const claim = String(new URL(String(finished.headers.get('location'))).searchParams.get('claim'));
    secrets.push(claim);
    expect(
      (
        await fetch(`${server.url}/connect/sandbox/claim`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ claim }),
        })
      ).status,
    ).toBe(200);

    const first = (await (await fetch(`${server.url}/vend/sandbox`, { headers: auth })).json()) as {
      access_token: string;
    };
    secrets.push(first.access_token);
    // The vendor refused the token: the next vend refreshes it (a refresh record beside the vend record).
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const second = (await (
      await fetch(`${server.url}/vend/sandbox`, {
        headers: { ...auth, 'x-tokenvend-rejected': await accessTokenHash(first.access_token) },
      })
    ).json()) as { access_token: string };
    secrets.push(second.access_token);
    expect(second.access_token).not.toBe(first.access_token);

    // RFC 8693 token exchange: the same token, its own record.
    const exchanged = await fetch(`${server.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': USER_AGENT },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: jwt,
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        audience: 'sandbox',
      }),
    });
    expect(exchanged.status).toBe(200);
    // The sandbox has no proxy allow-list: refused, and recorded.
    expect((await fetch(`${server.url}/proxy/sandbox/me`, { headers: auth })).status).toBe(404);

    // Someone else, and a forged token: refused, and recorded as such.
    const bob = { authorization: `Bearer ${await callerToken('bob')}`, 'user-agent': USER_AGENT };
    expect((await fetch(`${server.url}/vend/sandbox`, { headers: bob })).status).toBe(404);
    expect(
      (await fetch(`${server.url}/vend/sandbox`, { headers: { authorization: 'Bearer forged' } })).status,
    ).toBe(401);

    expect(
      (await fetch(`${server.url}/connections/sandbox`, { method: 'DELETE', headers: auth })).status,
    ).toBe(204);
    // Listing connections changes nothing: no record.
    expect((await fetch(`${server.url}/connections`, { headers: auth })).status).toBe(200);

    const written = records();
    expect(written.map((r) => [r.action, r.outcome, r.subject, r.actor])).toEqual([
      ['connect', 'ok', alice, alice],
      ['callback', 'ok', alice, undefined],
      ['claim', 'ok', alice, alice],
      ['vend', 'ok', alice, alice],
      ['refresh', 'ok', alice, alice],
      ['vend', 'ok', alice, alice],
      ['token_exchange', 'ok', alice, alice],
      ['proxy', 'not_found', alice, alice],
      ['vend', 'not_connected', 'user:local:bob', 'user:local:bob'],
      ['vend', 'invalid_token', undefined, undefined],
      ['disconnect', 'ok', alice, alice],
    ]);
    for (const record of written) {
      expect(record).toMatchObject({
        format: 'tokenvend.audit/1',
        integration: 'sandbox',
        sourceIp: expect.any(String),
      });
      expect(Number.isNaN(Date.parse(record.time))).toBe(false);
      expect(record.requestId).toEqual(expect.any(String));
    }
    expect(
      written
        .filter((r) => r.action !== 'refresh' && r.actor !== undefined)
        .every((r) => r.userAgent === USER_AGENT),
    ).toBe(true);
    // One request id per request: the refresh shares its vend's, every route record has its own.
    const routeIds = written.filter((r) => r.action !== 'refresh').map((r) => r.requestId);
    expect(new Set(routeIds).size).toBe(routeIds.length);
    expect(written[4]?.requestId).toBe(written[5]?.requestId);
    expect(written.filter((r) => r.status !== undefined).map((r) => r.status)).toEqual([
      200, 302, 200, 200, 200, 200, 404, 404, 401, 204,
    ]);

    // Canary: nothing secret in any record.
    const text = readFileSync(path.join(cwd, '.tokenvend', AUDIT_FILE), 'utf8');
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(text).not.toContain(secret);
    }
  });

  it('shows a caller, through /local/audit, only the records about its own connections and acts', async () => {
    const list = async (sub: string) =>
      (
        (await (
          await fetch(`${server.url}/local/audit`, {
            headers: { authorization: `Bearer ${await callerToken(sub)}` },
          })
        ).json()) as { records: AuditRecord[] }
      ).records;
    const alices = await list('alice');
    // Newest first; bob's and the forged token's records are not alice's.
    expect(alices.map((r) => r.action)).toEqual([
      'disconnect',
      'proxy',
      'token_exchange',
      'vend',
      'refresh',
      'vend',
      'claim',
      'callback',
      'connect',
    ]);
    expect(alices.every((r) => r.subject === 'user:local:alice')).toBe(true);
    expect((await list('bob')).map((r) => r.action)).toEqual(['vend']);
    expect((await fetch(`${server.url}/local/audit`)).status).toBe(401);
  });
});
