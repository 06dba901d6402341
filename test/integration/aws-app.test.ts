/**
 * The Lambda handlers wired exactly as in AWS (functions/handlers/runtime/aws-app.ts): the deployment compiled as
 * at synth and the stack's environment variables, DynamoDB (AWS's DynamoDB Local), KMS envelope
 * encryption and Secrets Manager (moto_server), caller JWTs against an https JWKS. Only the endpoints differ,
 * through the SDK's standard `AWS_ENDPOINT_URL_*` variables.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createKmsCipher } from '../../functions/adapters/crypto/index.js';
import { DynamoConnectionStore, ensureTable } from '../../functions/adapters/dynamodb/index.js';
import { COMPILED_DEPLOYMENT_FILE } from '../../functions/core/config/compiled.js';
import { userSubject } from '../../functions/core/subject.js';
import { ENV } from '../../functions/handlers/routes.js';
import { readDeployment } from '../../lib/deployment-config.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../support/dynamodb-local.js';
import { type Moto, startMoto } from '../support/moto.js';

const TABLE = 'tokenvend-aws-app-test';
const ISSUER = 'https://idp.test.example';
const AUDIENCE = 'crm-app';
const SECRET_PREFIX = 'tokenvend/test/';

let dynamo: DynamoDbLocal;
let moto: Moto;
let jwks: https.Server;
let dir: string;
let keyArn: string;
let signingKey: CryptoKey;
let clientId: string;
const saved = { ...process.env };

/** A self-signed certificate for 127.0.0.1, trusted by node's https agent for this test only. */
function loopbackCertificate(): { key: string; cert: string } {
  const out = mkdtempSync(path.join(tmpdir(), 'tokenvend-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-sha256',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
      ].concat([
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        `${out}/key.pem`,
        '-out',
        `${out}/cert.pem`,
      ]),
      { stdio: 'ignore' },
    );
    return { key: readFileSync(`${out}/key.pem`, 'utf8'), cert: readFileSync(`${out}/cert.pem`, 'utf8') };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function event(
  method: string,
  rawPath: string,
  headers: Record<string, string>,
  body?: string,
): APIGatewayProxyEventV2 {
  const params = /^\/(?:vend|connect)\/([^/]+)$/.exec(rawPath);
  return {
    version: '2.0',
    routeKey: `${method} ${rawPath}`,
    rawPath,
    rawQueryString: '',
    headers: { host: 'api.test.example', ...headers },
    pathParameters: params ? { integration: params[1] as string } : undefined,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.test.example',
      domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: crypto.randomUUID(),
      routeKey: `${method} ${rawPath}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
}

const context = {} as Context;

/** DynamoDB Local keeps tables per region and access key: use the ones the app gets from the environment. */
function appDynamoClient() {
  return dynamo.client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

async function callerToken(sub: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(signingKey);
}

beforeAll(async () => {
  [dynamo, moto] = await Promise.all([startDynamoDbLocal(), startMoto()]);
  await ensureTable(appDynamoClient(), TABLE);
  const kms = moto.client(KMSClient);
  keyArn = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.Arn as string;
  clientId = `client-${crypto.randomUUID()}`;
  await moto.client(SecretsManagerClient).send(
    new CreateSecretCommand({
      Name: `${SECRET_PREFIX}genesys-eu`,
      SecretString: JSON.stringify({ client_id: clientId, client_secret: `canary-${crypto.randomUUID()}` }),
    }),
  );

  const pair = await generateKeyPair('RS256', { extractable: true });
  signingKey = pair.privateKey;
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const tls = loopbackCertificate();
  jwks = https.createServer(tls, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  https.globalAgent.options.ca = [tls.cert];
  const jwksUri = `https://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;

  dir = mkdtempSync(path.join(tmpdir(), 'tokenvend-aws-app-'));
  // As `cdk synth` does: the config file checked and compiled (lib/deployment-config.ts); the App reads the result.
  const sourceFile = path.join(dir, 'tokenvend.config.json');
  writeFileSync(
    sourceFile,
    JSON.stringify({
      publicBaseUrl: 'https://tokens.test.example',
      integrations: {
        'genesys-eu': { provider: 'genesys-cloud', vars: { region: 'mypurecloud.ie', orgName: 'acme' } },
      },
      callers: [{ issuer: ISSUER, audience: AUDIENCE, jwksUri }],
      returnUrls: ['https://crm.test.example/'],
    }),
  );
  const configFile = path.join(dir, COMPILED_DEPLOYMENT_FILE);
  writeFileSync(configFile, JSON.stringify(readDeployment(sourceFile).compiled));
  Object.assign(process.env, {
    [ENV.tableName]: TABLE,
    [ENV.keyArn]: keyArn,
    [ENV.secretPrefix]: SECRET_PREFIX,
    [ENV.configFile]: configFile,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_KMS: moto.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
  });
}, 60_000);

afterAll(async () => {
  process.env = saved;
  https.globalAgent.options.ca = undefined;
  await new Promise<void>((resolve) => jwks?.close(() => resolve()));
  await Promise.all([dynamo?.stop(), moto?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('the handlers wired for AWS', () => {
  it('answers /health', async () => {
    const { handler } = await import('../../functions/handlers/health.js');
    const result = await handler(event('GET', '/health', {}), context);
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['cache-control']).toBe('no-store');
  });

  it('starts a connect flow with the client id from Secrets Manager and state in DynamoDB', async () => {
    const { handler } = await import('../../functions/handlers/connect.js');
    const result = await handler(
      event(
        'POST',
        '/connect/genesys-eu',
        {
          authorization: `Bearer ${await callerToken('alice')}`,
          'content-type': 'application/json',
        },
        JSON.stringify({ return_to: 'https://crm.test.example/agent' }),
      ),
      context,
    );
    expect(result.statusCode).toBe(200);
    const url = new URL(JSON.parse(result.body ?? '{}').authorize_url);
    expect(url.origin).toBe('https://login.mypurecloud.ie');
    expect(url.searchParams.get('client_id')).toBe(clientId);
    expect(url.searchParams.get('redirect_uri')).toBe(
      'https://tokens.test.example/oauth/genesys-eu/callback',
    );
  });

  it('vends a KMS-encrypted connection to its own subject only', async () => {
    const kms = new KMSClient({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    });
    const store = new DynamoConnectionStore({
      tableName: TABLE,
      client: appDynamoClient(),
      cipher: createKmsCipher({ keyId: keyArn, kms }),
    });
    const now = Math.floor(Date.now() / 1000);
    const accessToken = `at-${crypto.randomUUID()}`;
    await store.put({
      integration: 'genesys-eu',
      subject: userSubject(ISSUER, 'alice'),
      grant: 'authorization_code',
      tokens: { accessToken, tokenType: 'Bearer', issuedAt: now, expiresAt: now + 3600 },
      now,
    });
    const { handler } = await import('../../functions/handlers/vend.js');
    const mine = await handler(
      event('GET', '/vend/genesys-eu', { authorization: `Bearer ${await callerToken('alice')}` }),
      context,
    );
    expect(mine.statusCode).toBe(200);
    expect(JSON.parse(mine.body ?? '{}')).toMatchObject({
      access_token: accessToken,
      authorization: { header: 'Authorization', value: `Bearer ${accessToken}` },
    });
    const theirs = await handler(
      event('GET', '/vend/genesys-eu', { authorization: `Bearer ${await callerToken('bob')}` }),
      context,
    );
    expect(theirs.statusCode).toBe(404);
    expect(theirs.body).not.toContain(accessToken);
  });

  it('refuses a caller JWT from an untrusted issuer with 401', async () => {
    const { handler } = await import('../../functions/handlers/vend.js');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer('https://evil.test.example')
      .setAudience(AUDIENCE)
      .setSubject('alice')
      .setExpirationTime('10m')
      .sign(signingKey);
    const result = await handler(
      event('GET', '/vend/genesys-eu', { authorization: `Bearer ${forged}` }),
      context,
    );
    expect(result.statusCode).toBe(401);
    expect(result.headers?.['www-authenticate']).toMatch(/^Bearer/);
  });
});
