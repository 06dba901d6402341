/**
 * SigV4 for the IAM-authorised routes with the AWS SDK's own signer (`@smithy/signature-v4`, the SDK's
 * SHA-256) and, unless given, the SDK's default credential chain (environment, SSO, shared config and
 * credentials files, web identity, ECS and EC2 instance metadata): nothing here computes a signature by hand.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

export type AwsCredentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/** `execute-api.<region>.amazonaws.com` (and `.amazonaws.com.cn`) hosts name their region. */
const EXECUTE_API_HOST = /\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?$/;

/** The signing region: given, else from an `execute-api` host name, else the environment's AWS region. */
export function regionFor(baseUrl: URL, given: string | undefined): string {
  if (given) return given;
  const fromHost = EXECUTE_API_HOST.exec(baseUrl.hostname)?.[1];
  if (fromHost) return fromHost;
  const fromEnv = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  throw new TypeError(
    `createTokenVendClient: cannot tell the AWS region of ${baseUrl.host} (a custom domain): pass { region }, or set AWS_REGION`,
  );
}

export interface Signer {
  /** The headers to send with the request (Authorization, X-Amz-Date, X-Amz-Security-Token, ...); the body is signed too. */
  sign(
    method: string,
    url: URL,
    headers?: Record<string, string>,
    body?: string,
  ): Promise<Record<string, string>>;
}

export function createSigner(options: { region: string; credentials?: AwsCredentials | undefined }): Signer {
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials: options.credentials ?? defaultProvider(),
    sha256: Sha256,
  });
  return {
    async sign(method, url, headers = {}, body = undefined) {
      const query: Record<string, string | string[]> = {};
      for (const [key, value] of url.searchParams) {
        const seen = query[key];
        query[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
      }
      const signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query,
        // `host` is signed as fetch will send it: with the port when it is not the scheme's default.
        headers: { ...headers, host: url.host },
        ...(body === undefined ? {} : { body }),
      });
      const { host: _host, ...rest } = signed.headers as Record<string, string>;
      return rest;
    },
  };
}
