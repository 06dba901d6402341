/**
 * Which audit action each route's request records (docs/audit.md). Routes that change or hand out nothing
 * (health, listings, metadata documents) record none; test/unit/api/audit-actions.test.ts keeps this table in
 * step with the route table.
 */
import type { AuditAction } from '../../core/ports.js';

export const AUDITED_ROUTES: Readonly<Record<string, AuditAction>> = {
  'POST /connect/{integration}': 'connect',
  'GET /oauth/{integration}/callback': 'callback',
  'POST /connect/{integration}/claim': 'claim',
  'POST /connect/{integration}/credentials': 'credentials',
  'GET /saml/{integration}/login': 'saml_login',
  'POST /saml/{integration}/acs': 'saml_exchange',
  'GET /vend/{integration}': 'vend',
  'POST /service/users/{integration}/vend': 'vend_on_behalf',
  'GET /service/vend/{integration}/{connection}': 'service_vend',
  'DELETE /connections/{integration}': 'disconnect',
  'POST /oauth2/token': 'token_exchange',
  'GET /proxy/{integration}/{path+}': 'proxy',
  'POST /proxy/{integration}/{path+}': 'proxy',
  'PUT /proxy/{integration}/{path+}': 'proxy',
  'PATCH /proxy/{integration}/{path+}': 'proxy',
  'DELETE /proxy/{integration}/{path+}': 'proxy',
};

/** Routes that record nothing, on purpose. */
export const UNAUDITED_ROUTES: ReadonlySet<string> = new Set([
  'GET /health',
  'GET /connections',
  'GET /saml/{integration}/metadata',
  'GET /.well-known/oauth-authorization-server',
]);

export function auditActionOf(routeKey: string | undefined): AuditAction | undefined {
  return routeKey !== undefined && Object.hasOwn(AUDITED_ROUTES, routeKey)
    ? AUDITED_ROUTES[routeKey]
    : undefined;
}
