/**
 * Bounded input through the local runtime (security-checklist item 54 and the "bounded input"): an
 * over-long return_to, a body that is not exactly JSON on a JSON route, a malformed percent-encoding in the path
 * and an oversized body each get a clean 4xx, never a 500, and nothing reaches the vendor.
 */
import { OIDC, RETURN_BASE, type Stack, startStack } from './support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

it('checklist 54: a return_to over 2 KB is refused with 400, even under an allowed prefix', async () => {
  const token = await stack.token('alice');
  const vendorCalls = stack.spy.requests.length;
  const long = `${RETURN_BASE}${'a'.repeat(2048)}`;
  const refused = await stack.call('POST', `/connect/${OIDC}`, { token, json: { return_to: long } });
  expect([refused.status, refused.json?.error]).toEqual([400, 'invalid_request']);
  const fits = await stack.call('POST', `/connect/${OIDC}`, {
    token,
    json: { return_to: `${RETURN_BASE}${'a'.repeat(1900)}` },
  });
  expect(fits.status).toBe(200);
  expect(stack.spy.requests.length).toBe(vendorCalls);
});

it('JSON routes accept application/json (with parameters) and nothing that merely starts like it', async () => {
  const token = await stack.token('alice');
  const body = JSON.stringify({ return_to: `${RETURN_BASE}x` });
  for (const type of ['application/json-seq', 'application/jsonp', 'text/plain', 'application/x-json']) {
    const answer = await stack.call('POST', `/connect/${OIDC}`, {
      token,
      body,
      headers: { 'content-type': type },
    });
    expect({ type, status: answer.status }).toEqual({ type, status: 415 });
  }
  const ok = await stack.call('POST', `/connect/${OIDC}`, {
    token,
    body,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
  expect(ok.status).toBe(200);
});

it('a malformed percent-encoding in the path is a 400, not a 500', async () => {
  const token = await stack.token('alice');
  for (const path of ['/vend/%E0%A4%A', '/vend/%', '/connections/%zz']) {
    const answer = await stack.call(path.startsWith('/connections') ? 'DELETE' : 'GET', path, { token });
    expect({ path, status: answer.status, error: answer.json?.error }).toEqual({
      path,
      status: 400,
      error: 'invalid_request',
    });
  }
});

it('an oversized body is a 413, not a 500', async () => {
  const token = await stack.token('alice');
  const huge = JSON.stringify({ return_to: 'x'.repeat(3 * 1024 * 1024) });
  const answer = await stack.call('POST', `/connect/${OIDC}`, {
    token,
    body: huge,
    headers: { 'content-type': 'application/json' },
  });
  expect(answer.status).toBe(413);
  const local = await stack.call('POST', '/local/token', {
    body: JSON.stringify({ sub: 'x'.repeat(64 * 1024) }),
    headers: { 'content-type': 'application/json' },
  });
  expect(local.status).toBe(413);
});
