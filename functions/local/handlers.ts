/** Every HTTP handler factory, by its entry name in functions/handlers/routes.ts. */
import type { Context } from 'aws-lambda';
import { createConnectHandler } from '../handlers/connect.js';
import { createConnectClaimHandler } from '../handlers/connect-claim.js';
import { createConnectCredentialsHandler } from '../handlers/connect-credentials.js';
import { createConnectionsHandler } from '../handlers/connections.js';
import { createHealthHandler } from '../handlers/health.js';
import type { HttpEvent, HttpResult } from '../handlers/middleware/types.js';
import { createOAuthCallbackHandler } from '../handlers/oauth-callback.js';
import { createOAuthMetadataHandler } from '../handlers/oauth-metadata.js';
import { createProxyHandler } from '../handlers/proxy.js';
import type { AppProvider } from '../handlers/runtime/app.js';
import { createSamlAcsHandler } from '../handlers/saml-acs.js';
import { createServiceVendHandler } from '../handlers/service-vend.js';
import { createTokenExchangeHandler } from '../handlers/token-exchange.js';
import { createVendHandler } from '../handlers/vend.js';

export type HttpLambda = (event: HttpEvent, context: Context) => Promise<HttpResult>;

export const HANDLER_FACTORIES: Record<string, (getApp: AppProvider) => HttpLambda> = {
  health: createHealthHandler,
  connect: createConnectHandler,
  'connect-claim': createConnectClaimHandler,
  'connect-credentials': createConnectCredentialsHandler,
  'oauth-callback': createOAuthCallbackHandler,
  'saml-acs': createSamlAcsHandler,
  vend: createVendHandler,
  proxy: createProxyHandler,
  'token-exchange': createTokenExchangeHandler,
  'oauth-metadata': createOAuthMetadataHandler,
  connections: createConnectionsHandler,
  'service-vend': createServiceVendHandler,
};
