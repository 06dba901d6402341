/**
 * One client-test stack: the scripted vendor, the local runtime (`startLocalServer`, the same handlers as in
 * AWS) configured with integrations that apply the vendor's token in each way a template can, and the
 * SigV4-verifying IAM gateway in front of its IAM routes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalServer, startLocalServer } from '../../../functions/local/server.js';
import { type GatewayIdentity, type IamGateway, startIamGateway } from './iam-gateway.js';
import { type ScriptedVendor, startScriptedVendor } from './scripted-vendor.js';

export const REGION = 'eu-central-1';
export const ACCOUNT = '123456789012';
/** The identity the services sign as: an assumed-role session of `reporting-service`. */
export const SERVICE: GatewayIdentity = {
  accessKeyId: 'ASIAEXAMPLESERVICE01',
  secretAccessKey: 'service-secret-access-key-for-tests-only',
  sessionToken: 'service-session-token-for-tests-only',
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/reporting-service/lambda-session`,
};
/** Another role of the account, on no allow-list. */
export const STRANGER: GatewayIdentity = {
  accessKeyId: 'AKIAEXAMPLESTRANGER1',
  secretAccessKey: 'stranger-secret-access-key-for-tests-only',
  arn: `arn:aws:iam::${ACCOUNT}:user/stranger`,
};

export interface Harness {
  vendor: ScriptedVendor;
  server: LocalServer;
  gateway: IamGateway;
  /** A caller JWT of the local issuer. */
  userToken(sub: string): Promise<string>;
  /** Connects `sub` to `integration` through the claim flow (connect, vendor, callback, claim), without a browser. */
  connectUser(sub: string, integration: string): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  returnUrls?: string[];
  corsOrigins?: string[];
  /** Extra keys per integration config (e.g. a `saml` section), by id. */
  integrations?: (vendor: ScriptedVendor) => Record<string, unknown>;
  /** false: the local runtime logs its info lines (console.log). */
  quiet?: boolean;
}

const RETURN_TO = 'https://app.client-test.example/connected';

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const vendor = await startScriptedVendor();
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenvend-client-'));
  const configFile = join(dataDir, 'tokenvend.config.json');
  const secret = vendor.client;
  const serviceConnections = {
    reporting: {
      grant: 'client_credentials',
      allowedPrincipals: [`arn:aws:iam::${ACCOUNT}:role/reporting-service`],
    },
    open: { grant: 'client_credentials' },
  };
  const integrations: Record<string, unknown> = {
    // Authorization: Bearer <token> (the template default)
    bearer: { provider: vendor.template('scripted-bearer'), secret, serviceConnections },
    // X-Api-Token: <token>
    xtoken: {
      provider: vendor.template('scripted-xtoken', {
        usage: { in: 'header', name: 'X-Api-Token', value: '${access_token}' },
      }),
      secret,
      serviceConnections,
    },
    // ?access_token=<token>
    query: {
      provider: vendor.template('scripted-query', { usage: { in: 'query', name: 'access_token' } }),
      secret,
      serviceConnections,
    },
    // Authorization: Basic base64(<token>:x)
    basic: {
      provider: vendor.template('scripted-basic', {
        usage: { in: 'basic', username: '${access_token}', password: 'x' },
      }),
      secret,
      serviceConnections,
    },
    ...options.integrations?.(vendor),
  };
  writeFileSync(
    configFile,
    JSON.stringify({
      integrations,
      returnUrls: ['https://app.client-test.example/', ...(options.returnUrls ?? [])],
      corsOrigins: options.corsOrigins ?? [],
    }),
  );
  const server = await startLocalServer({
    port: 0,
    quiet: options.quiet ?? true,
    dataDir,
    configFile,
    cwd: dataDir,
    refreshIntervalMs: 0,
  });
  const gateway = await startIamGateway({ local: server, region: REGION, identities: [SERVICE, STRANGER] });
  async function userToken(sub: string): Promise<string> {
    const r = await fetch(`${server.url}/local/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub }),
    });
    const body = (await r.json()) as { token?: string };
    if (!body.token) throw new Error(`no local token (${r.status})`);
    return body.token;
  }

  return {
    vendor,
    server,
    gateway,
    userToken,
    async connectUser(sub, integration) {
      const jwt = await userToken(sub);
      const started = await fetch(`${server.url}/connect/${integration}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
        body: JSON.stringify({ return_to: RETURN_TO }),
      });
      const { authorize_url } = (await started.json()) as { authorize_url: string };
      const atVendor = await fetch(authorize_url, { redirect: 'manual' });
      const callback = await fetch(atVendor.headers.get('location') as string, { redirect: 'manual' });
      const back = new URL(callback.headers.get('location') as string);
      const claimed = await fetch(`${server.url}/connect/${integration}/claim`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
        body: JSON.stringify({ claim: back.searchParams.get('claim') }),
      });
      if (claimed.status !== 200) throw new Error(`claim failed: ${claimed.status} ${await claimed.text()}`);
    },
    async close() {
      await gateway.close();
      await server.close();
      await vendor.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Static credentials of an identity, as the client's `credentials` option takes them. */
export function credentialsOf(identity: GatewayIdentity) {
  return {
    accessKeyId: identity.accessKeyId,
    secretAccessKey: identity.secretAccessKey,
    ...(identity.sessionToken === undefined ? {} : { sessionToken: identity.sessionToken }),
  };
}
