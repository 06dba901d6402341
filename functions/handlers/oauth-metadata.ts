/**
 * `GET /.well-known/oauth-authorization-server`: the RFC 8414 metadata of tokenvend's token endpoint, so a standard
 * OAuth client finds `POST /oauth2/token` and the token exchange grant by discovery. Touches nothing but the
 * deployment's configuration (like `/health`).
 */
import { oauthServerMetadata } from '../core/flows/token-exchange.js';
import { json } from './middleware/types.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { baseUrl } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

export function createOAuthMetadataHandler(getApp: AppProvider) {
  return httpHandler(getApp, async (app, event) => json(200, oauthServerMetadata(baseUrl(app, event))));
}

export const handler = createOAuthMetadataHandler(awsApp);
