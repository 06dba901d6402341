/**
 * The vendor API proxy round trip against the same request sent straight to the vendor, interleaved (ABBA):
 * `GET /proxy/oidc/users/me` on the local runtime (HTTP in, caller JWT verified, connection read and decrypted,
 * the vendor called with the token from the template's usage, the answer shaped and sent back) vs
 * `GET <vendor>/api/v2/users/me` with the token. The vendor-shaped API is test/e2e/support/vendor-api.ts behind
 * the e2e stack (oidc-provider, dynalite). Run twice: with a vendor that answers at once (the proxy's own cost
 * in ms) and with one that takes VENDOR_MS to answer (the ratio; target proxy_ratio <= 1.25).
 */
import { connect, OIDC, startStack } from '../test/e2e/support/stack.js';
import { API_BASE_PATH, startVendorApi, type VendorApi } from '../test/e2e/support/vendor-api.js';
import { compare, type Figure } from './lib.js';

/** A fast vendor API's own time to answer (modelled; a vendor reached over the internet adds its RTT). */
const VENDOR_MS = 20;

async function run(
  latencyMs: number,
): Promise<{ direct: number; proxied: number; ratio: number; vend: number }> {
  let userinfo = '';
  const api: VendorApi = await startVendorApi({
    token: { header: 'X-Vendor-Token', prefix: 'Token ' },
    userinfo: () => userinfo,
    latencyMs,
  });
  const stack = await startStack({
    templateOverrides: {
      usage: { in: 'header', name: 'X-Vendor-Token', value: 'Token ${access_token}' },
      api: { baseUrl: `${api.url}${API_BASE_PATH}` },
    },
    integrationSettings: { proxy: { allow: [{ methods: ['GET'], pathPrefix: '/users' }] } },
  });
  userinfo = stack.vendor.userinfoEndpoint;
  try {
    await connect(stack, 'bench-user');
    const jwt = await stack.token('bench-user');
    const vended = await stack.call('GET', `/vend/${OIDC}`, { token: jwt });
    const token = String(vended.json?.access_token);
    const direct = async () => {
      const answer = await fetch(`${api.url}${API_BASE_PATH}/users/me`, {
        headers: { 'x-vendor-token': `Token ${token}`, accept: 'application/json' },
      });
      if (answer.status !== 200) throw new Error(`direct: ${answer.status}`);
      await answer.arrayBuffer();
    };
    const proxied = async () => {
      const answer = await fetch(`${stack.url}/proxy/${OIDC}/users/me`, {
        headers: { authorization: `Bearer ${jwt}`, accept: 'application/json' },
      });
      if (answer.status !== 200) throw new Error(`proxied: ${answer.status}`);
      await answer.arrayBuffer();
    };
    const vend = async () => {
      const answer = await fetch(`${stack.url}/vend/${OIDC}`, {
        headers: { authorization: `Bearer ${jwt}` },
      });
      if (answer.status !== 200) throw new Error(`vend: ${answer.status}`);
      await answer.arrayBuffer();
    };
    const iterations = latencyMs > 0 ? 150 : 1000;
    const result = await compare(direct, proxied, { warmup: latencyMs > 0 ? 20 : 100, iterations });
    // The same stack's GET /vend: what the runtime costs before the proxy adds its vendor call.
    const vendOnly = latencyMs > 0 ? undefined : await compare(direct, vend, { warmup: 100, iterations });
    return {
      direct: result.baseline.p50,
      proxied: result.candidate.p50,
      ratio: result.ratio,
      vend: vendOnly?.candidate.p50 ?? Number.NaN,
    };
  } finally {
    await stack.close();
    await api.close();
  }
}

export default async function proxyBench(): Promise<Figure[]> {
  const instant = await run(0);
  const realistic = await run(VENDOR_MS);
  return [
    { name: 'proxy_instant_vendor_direct_p50', value: instant.direct, unit: 'ms' },
    { name: 'proxy_instant_vendor_proxied_p50', value: instant.proxied, unit: 'ms' },
    { name: 'proxy_overhead_p50', value: instant.proxied - instant.direct, unit: 'ms' },
    { name: 'proxy_same_stack_vend_p50', value: instant.vend, unit: 'ms' },
    { name: 'proxy_instant_vendor_ratio', value: instant.ratio, unit: 'x' },
    { name: `proxy_vendor_${VENDOR_MS}ms_direct_p50`, value: realistic.direct, unit: 'ms' },
    { name: `proxy_vendor_${VENDOR_MS}ms_proxied_p50`, value: realistic.proxied, unit: 'ms' },
    { name: 'proxy_ratio', value: realistic.ratio, unit: 'x' },
  ];
}
