/**
 * IAM allow-lists of service connections against the principal ARNs API Gateway's IAM authorizer really reports
 * in `requestContext.authorizer.iam.userArn`: an IAM user's ARN, or for a role the STS session ARN
 * `arn:aws:sts::<account>:assumed-role/<role name>/<session>` (no path). A role entry
 * `arn:aws:iam::<account>:role/<path/>Name` admits its sessions; nothing else matches.
 */
import type { Context } from 'aws-lambda';
import type { CallerVerifier } from '../../../../functions/adapters/caller-auth/index.js';
import { loadDeployment } from '../../../../functions/core/config/deployment.js';
import { DiscoveredProviders } from '../../../../functions/core/config/discovered-providers.js';
import type { FlowDeps } from '../../../../functions/core/flows/deps.js';
import { isPrincipalAllowed, serviceSubject } from '../../../../functions/core/flows/service-vend.js';
import type { HttpEvent } from '../../../../functions/handlers/middleware/types.js';
import { createServiceVendHandler } from '../../../../functions/handlers/service-vend.js';

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ReportingRole`;
const PATH_ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/team/BillingRole`;
const USER = `arn:aws:iam::${ACCOUNT}:user/ops/alice`;
const session = (role: string, name = 'i-0abc1234', account = ACCOUNT, partition = 'aws') =>
  `arn:${partition}:sts::${account}:assumed-role/${role}/${name}`;

describe('isPrincipalAllowed', () => {
  const allow = [ROLE, PATH_ROLE, USER];

  it.each([
    ['a session of the role (EC2 instance profile)', session('ReportingRole')],
    ['a session of the role (Lambda execution role)', session('ReportingRole', 'reporting-fn')],
    ['a session named like an email (SSO)', session('ReportingRole', 'alice@example.com')],
    ['a session of a role whose entry has a path (the STS ARN drops it)', session('BillingRole')],
    ['the IAM user, exactly', USER],
    ['the role ARN itself, exactly', ROLE],
  ])('admits %s', (_what, principal) => {
    expect(isPrincipalAllowed(allow, principal)).toBe(true);
  });

  it.each([
    ['no principal', undefined],
    ['an empty principal', ''],
    ['another account, same role name', session('ReportingRole', 's', '210987654321')],
    ['another partition, same account and role', session('ReportingRole', 's', ACCOUNT, 'aws-cn')],
    ['another role name', session('OtherRole')],
    ['a role whose name extends an allowed one', session('ReportingRoleAdmin')],
    ['a prefix of an allowed role name', session('Reporting')],
    ['the role name in another case', session('reportingrole')],
    ['the path as the role name', session('team')],
    ['an IAM user named like the role', `arn:aws:iam::${ACCOUNT}:user/ReportingRole`],
    ['another IAM user', `arn:aws:iam::${ACCOUNT}:user/ops/bob`],
    ['the user without its path', `arn:aws:iam::${ACCOUNT}:user/alice`],
    ['the account root', `arn:aws:iam::${ACCOUNT}:root`],
    ['a federated user named like the role', `arn:aws:sts::${ACCOUNT}:federated-user/ReportingRole`],
    ['an assumed-role ARN with an extra segment', `${session('ReportingRole')}/extra`],
    ['an assumed-role ARN without a session', `arn:aws:sts::${ACCOUNT}:assumed-role/ReportingRole`],
    ['the role ARN with a suffix', `${ROLE}x`],
  ])('refuses %s', (_what, principal) => {
    expect(isPrincipalAllowed(allow, principal)).toBe(false);
  });

  it('an allow-listed session ARN matches only itself', () => {
    const one = session('ReportingRole', 'job-1');
    expect(isPrincipalAllowed([one], one)).toBe(true);
    expect(isPrincipalAllowed([one], session('ReportingRole', 'job-2'))).toBe(false);
  });
});

describe('GET /service/vend with the IAM authorizer context API Gateway sends', () => {
  const vended: string[] = [];
  const deployment = loadDeployment(
    {
      integrations: {
        svc: {
          provider: {
            id: 'svc',
            name: 'svc',
            endpoints: { token: 'https://vendor.example.com/token' },
            grants: { client_credentials: { refreshable: false } },
          },
          serviceConnections: {
            reporting: { grant: 'client_credentials', allowedPrincipals: [ROLE, PATH_ROLE, USER] },
          },
        },
      },
    },
    { builtins: new Map() },
  );
  const lifecycle = {
    async getFreshToken(_integration: unknown, subject: string) {
      vended.push(subject);
      return { accessToken: 'svc-token', tokenType: 'Bearer', expiresAt: 2_000_000_000 };
    },
  };
  const flows = {
    deployment,
    providers: new DiscoveredProviders({
      fetch: () => Promise.reject(new Error('no network')),
      timeoutMs: 1,
      allowInsecureLoopback: false,
    }),
    lifecycle,
    now: () => 1_900_000_000,
  } as unknown as FlowDeps;
  const handler = createServiceVendHandler(async () => ({
    flows,
    callers: {} as CallerVerifier,
    logger: { error: () => undefined, info: () => undefined },
  }));

  /** An HTTP API (payload 2.0) event as the IAM authorizer leaves it. */
  function event(userArn: string): HttpEvent {
    return {
      version: '2.0',
      routeKey: 'GET /service/vend/{integration}/{connection}',
      rawPath: '/service/vend/svc/reporting',
      rawQueryString: '',
      headers: {},
      pathParameters: { integration: 'svc', connection: 'reporting' },
      requestContext: {
        accountId: ACCOUNT,
        apiId: 'abc123',
        domainName: 'tokens.example.com',
        http: { method: 'GET', path: '/service/vend/svc/reporting', protocol: 'HTTP/1.1' },
        authorizer: {
          iam: {
            accessKey: 'ASIAEXAMPLE',
            accountId: ACCOUNT,
            callerId: 'AROAEXAMPLE:i-0abc1234',
            cognitoIdentity: null,
            principalOrgId: 'o-example',
            userArn,
            userId: 'AROAEXAMPLE:i-0abc1234',
          },
        },
      },
      isBase64Encoded: false,
    } as unknown as HttpEvent;
  }

  it('admits a session of an allow-listed role, and vends the service subject', async () => {
    const answer = await handler(event(session('ReportingRole')), {} as Context);
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body ?? '{}').access_token).toBe('svc-token');
    expect(vended.at(-1)).toBe(serviceSubject('reporting'));
    expect((await handler(event(session('BillingRole', 'batch')), {} as Context)).statusCode).toBe(200);
    expect((await handler(event(USER), {} as Context)).statusCode).toBe(200);
  });

  it('refuses other accounts, other roles and prefixes with 403 access_denied', async () => {
    const before = vended.length;
    for (const arn of [
      session('ReportingRole', 's', '210987654321'),
      session('ReportingRoleAdmin'),
      session('Reporting'),
      `arn:aws:iam::${ACCOUNT}:user/ops/bob`,
    ]) {
      const answer = await handler(event(arn), {} as Context);
      expect({ arn, status: answer.statusCode }).toEqual({ arn, status: 403 });
      expect(JSON.parse(answer.body ?? '{}').error).toBe('access_denied');
    }
    expect(vended.length).toBe(before);
  });
});
