/**
 * A recording reverse proxy in front of the vendor's back channel (token and revocation endpoints): every
 * request tokenvend sends is forwarded unchanged to the real oidc-provider and kept here, so a test can assert
 * what the vendor saw (client authentication, grant parameters, the assertion bytes) and how often.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface VendorRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The form body parsed (every request tokenvend sends to these endpoints is a form post). */
  form: URLSearchParams;
  /** The vendor's answer: status and body (tokens included, for leak checks). */
  status?: number;
  response?: string;
  /** Epoch milliseconds when the request arrived. */
  at: number;
}

/** An answer the spy gives instead of forwarding. */
export interface FaultAnswer {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/**
 * A canned answer, one made from the request (a vendor that echoes what it was sent), or `hang`: never
 * answers, like a dead vendor.
 */
export type Fault = FaultAnswer | ((request: VendorRequest) => FaultAnswer) | 'hang';

export interface VendorSpy {
  /** `http://127.0.0.1:<port>`: use it as the origin of the template's token and revocation endpoints. */
  url: string;
  readonly requests: readonly VendorRequest[];
  /** Requests to a path (`/token`, `/token/revocation`), optionally of one `grant_type`. */
  count(path: string, grantType?: string): number;
  /**
   * Answers token requests of `grantType` with `fault` instead of the vendor, `times` times (Infinity: until
   * `heal`). The vendor never sees them.
   */
  inject(grantType: string, fault: Fault, times?: number): void;
  heal(): void;
  close(): Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startVendorSpy(target: string): Promise<VendorSpy> {
  const requests: VendorRequest[] = [];
  let injected: { grantType: string; fault: Fault; left: number } | undefined;
  const server: Server = createServer((req, res) => {
    (async () => {
      const body = await readAll(req);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = String(v);
      const path = new URL(req.url ?? '/', 'http://spy').pathname;
      const record: VendorRequest = {
        method: req.method ?? 'GET',
        path,
        headers,
        body: body.toString('utf8'),
        form: new URLSearchParams(body.toString('utf8')),
        at: Date.now(),
      };
      requests.push(record);
      if (injected && injected.left > 0 && record.form.get('grant_type') === injected.grantType) {
        injected.left--;
        const { fault } = injected;
        if (fault === 'hang') return;
        const answer = typeof fault === 'function' ? fault(record) : fault;
        record.status = answer.status;
        record.response = answer.body;
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body);
        return;
      }
      const forwarded: Record<string, string> = { ...headers };
      delete forwarded.host;
      delete forwarded.connection;
      delete forwarded['content-length'];
      const answer = await fetch(new URL(req.url ?? '/', target), {
        method: req.method,
        headers: forwarded,
        body: body.length ? new Uint8Array(body) : undefined,
        redirect: 'manual',
      });
      const out = Buffer.from(await answer.arrayBuffer());
      record.status = answer.status;
      record.response = out.toString('utf8');
      const outHeaders: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (name !== 'content-encoding' && name !== 'transfer-encoding' && name !== 'connection')
          outHeaders[name] = value;
      });
      outHeaders['content-length'] = String(out.length);
      res.writeHead(answer.status, outHeaders);
      res.end(out);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (path, grantType) =>
      requests.filter(
        (r) => r.path === path && (grantType === undefined || r.form.get('grant_type') === grantType),
      ).length,
    inject: (grantType, fault, times = Number.POSITIVE_INFINITY) => {
      injected = { grantType, fault, left: times };
    },
    heal: () => {
      injected = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
