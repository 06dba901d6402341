/**
 * A stand-in for API Gateway's IAM authorizer in front of the local runtime's handlers: it verifies each
 * request's SigV4 signature (service `execute-api`, the gateway's region, a known access key, the session token,
 * a five-minute clock window, the payload hash) by signing the same canonical request again with the AWS SDK's
 * own signer and the key's secret, and compares. A good signature runs the route's real handler with the
 * identity's ARN as `requestContext.authorizer.iam.userArn`, as API Gateway does; anything else is API Gateway's
 * 403 `{"message": ...}`. Only the IAM routes of functions/handlers/routes.ts are served.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Context } from 'aws-lambda';
import { FUNCTIONS } from '../../../functions/handlers/routes.js';
import { matchRoute, readBody, toEvent, writeResult } from '../../../functions/local/api-gateway-event.js';
import { HANDLER_FACTORIES } from '../../../functions/local/handlers.js';
import type { LocalServer } from '../../../functions/local/server.js';

export interface GatewayIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** What API Gateway reports as `userArn` (an IAM user, or an STS assumed-role session). */
  arn: string;
}

export interface IamGateway {
  readonly url: string;
  readonly region: string;
  /** Requests that reached a handler, and refusals by reason. */
  readonly admitted: { path: string; arn: string }[];
  readonly refused: string[];
  close(): Promise<void>;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SKEW_MS = 5 * 60 * 1000;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

export async function startIamGateway(options: {
  local: LocalServer;
  region: string;
  identities: GatewayIdentity[];
}): Promise<IamGateway> {
  const { region } = options;
  const identities = new Map(options.identities.map((i) => [i.accessKeyId, i]));
  const getApp = async () => options.local.local.app;
  const routes = FUNCTIONS.flatMap((fn) =>
    fn.routes
      .filter((route) => route.auth === 'iam')
      .map((route) => ({
        route,
        handler: (HANDLER_FACTORIES[fn.entry] as NonNullable<(typeof HANDLER_FACTORIES)[string]>)(getApp),
      })),
  );
  const admitted: IamGateway['admitted'] = [];
  const refused: string[] = [];

  /** The identity whose signature this is, or the reason for API Gateway's 403. */
  async function verify(
    req: IncomingMessage,
    url: URL,
    body: Buffer,
  ): Promise<{ identity: GatewayIdentity } | { refusal: string; message: string }> {
    const deny = (refusal: string, message: string) => ({ refusal, message });
    const auth = header(req, 'authorization');
    if (!auth) return deny('unsigned', 'Missing Authentication Token');
    const m = AUTH.exec(auth);
    if (!m) return deny('malformed', 'Authorization header requires Credential, SignedHeaders and Signature');
    const [, keyId, scopeDate, scopeRegion, service, signedList, signature] = m as unknown as string[];
    if (service !== 'execute-api' || scopeRegion !== region) {
      return deny('scope', `Credential should be scoped to a valid region and service execute-api`);
    }
    const identity = identities.get(keyId as string);
    if (!identity) return deny('unknown_key', 'The security token included in the request is invalid.');
    const amzDate = header(req, 'x-amz-date') ?? '';
    const d = AMZ_DATE.exec(amzDate);
    if (!d || !amzDate.startsWith(scopeDate as string))
      return deny('date', 'Date is not in the credential scope');
    const signedAt = Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!);
    if (Math.abs(Date.now() - signedAt) > SKEW_MS) return deny('skew', 'Signature expired');
    const signed = (signedList as string).split(';');
    if (!signed.includes('host') || !signed.includes('x-amz-date'))
      return deny('headers', 'host and x-amz-date must be signed');
    if (identity.sessionToken !== undefined) {
      if (
        header(req, 'x-amz-security-token') !== identity.sessionToken ||
        !signed.includes('x-amz-security-token')
      ) {
        return deny('session', 'The security token included in the request is invalid.');
      }
    }
    const payloadHash = createHash('sha256').update(body).digest('hex');
    const claimedHash = header(req, 'x-amz-content-sha256');
    if (claimedHash !== undefined && claimedHash !== payloadHash)
      return deny('payload', 'payload hash mismatch');
    const headers: Record<string, string> = {};
    for (const name of signed) headers[name] = header(req, name) ?? '';
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(key);
      query[key] = values.length === 1 ? (values[0] as string) : values;
    }
    const signer = new SignatureV4({
      service: 'execute-api',
      region,
      credentials: {
        accessKeyId: identity.accessKeyId,
        secretAccessKey: identity.secretAccessKey,
        ...(identity.sessionToken === undefined ? {} : { sessionToken: identity.sessionToken }),
      },
      sha256: Sha256,
    });
    const expected = await signer.sign(
      {
        method: req.method ?? 'GET',
        protocol: 'http:',
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query,
        headers,
        body: body.length ? body : undefined,
      },
      { signingDate: new Date(signedAt) },
    );
    const ours = /Signature=([0-9a-f]{64})$/.exec(String(expected.headers.authorization))?.[1] ?? '';
    const theirs = Buffer.from(signature as string, 'hex');
    if (ours.length !== 64 || !timingSafeEqual(Buffer.from(ours, 'hex'), theirs)) {
      return deny(
        'signature',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      );
    }
    return { identity };
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    (async () => {
      const body = await readBody(req, 1024 * 1024);
      for (const { route, handler } of routes) {
        const params = matchRoute(route.path, url.pathname);
        if (!params || req.method !== route.method) continue;
        const verdict = await verify(req, url, body);
        if ('refusal' in verdict) {
          refused.push(verdict.refusal);
          res.writeHead(403, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: verdict.message }));
          return;
        }
        const { identity } = verdict;
        admitted.push({ path: url.pathname, arn: identity.arn });
        const event = toEvent(req, url, route, params, body);
        const account = identity.arn.split(':')[4] ?? '';
        (event.requestContext as unknown as Record<string, unknown>).authorizer = {
          iam: {
            accessKey: identity.accessKeyId,
            accountId: account,
            callerId: identity.accessKeyId,
            principalOrgId: null,
            userArn: identity.arn,
            userId: identity.accessKeyId,
          },
        };
        writeResult(res, await handler(event, { awsRequestId: 'gateway' } as Context));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Not Found' }));
    })().catch(() => {
      if (res.headersSent) return;
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal Server Error' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region,
    admitted,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
