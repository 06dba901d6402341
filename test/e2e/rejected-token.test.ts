/**
 * A caller whose vendor refused the access token (a 401 at the vendor's API) names it on the next vend
 * (`X-Tokenvend-Rejected: <base64url SHA-256>`): the stored token, once old enough, is refreshed single-flight;
 * a young token, another token's hash or a token already replaced is not, so rejecting cannot hammer the vendor.
 */
import { createHash } from 'node:crypto';
import { connect, OIDC, type Stack, sleep, startStack } from './support/stack.js';

/** 20 s tokens: a rejection counts after 5 s (a quarter of the lifetime); the refresh margin is 10 s. */
const TTL = 20;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ accessTokenTtl: TTL });
});

afterAll(async () => {
  await stack?.close();
});

const hashOf = (token: unknown) => createHash('sha256').update(String(token)).digest('base64url');
const refreshes = () => stack.spy.count('/token', 'refresh_token');

it('refreshes a rejected token once it is old enough, and only the token that was rejected', async () => {
  const { answer } = await connect(stack, 'gina');
  expect(answer.status).toBe(302);
  const token = await stack.token('gina');
  const vend = (rejected?: string) =>
    stack.call('GET', `/vend/${OIDC}`, {
      token,
      headers: rejected === undefined ? {} : { 'x-tokenvend-rejected': rejected },
    });
  const first = await vend();
  const before = refreshes();

  // Too young: the rejection does not count yet.
  expect((await vend(hashOf(first.json?.access_token))).json?.access_token).toBe(first.json?.access_token);
  expect(refreshes()).toBe(before);

  await sleep(6_000);
  // Another token's hash: ignored.
  expect((await vend(hashOf('not-the-stored-token'))).json?.access_token).toBe(first.json?.access_token);
  expect(refreshes()).toBe(before);

  // The stored token, old enough: ten concurrent rejections make one refresh and agree on the new token.
  const rejected = await Promise.all(
    Array.from({ length: 10 }, () => vend(hashOf(first.json?.access_token))),
  );
  expect(refreshes()).toBe(before + 1);
  const fresh = rejected.map((r) => r.json?.access_token);
  expect(new Set(fresh).size).toBe(1);
  expect(fresh[0]).not.toBe(first.json?.access_token);

  // Rejecting the replaced token again changes nothing.
  expect((await vend(hashOf(first.json?.access_token))).json?.access_token).toBe(fresh[0]);
  expect(refreshes()).toBe(before + 1);
}, 30_000);

it('refuses a malformed rejection header with 400', async () => {
  await connect(stack, 'hugo');
  const answer = await stack.call('GET', `/vend/${OIDC}`, {
    token: await stack.token('hugo'),
    headers: { 'x-tokenvend-rejected': 'the-raw-token-itself' },
  });
  expect([answer.status, answer.json?.error]).toEqual([400, 'invalid_request']);
});
