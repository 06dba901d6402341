/**
 * `GET /saml/{integration}/metadata` (DESIGN flow 2): the SP metadata an IdP admin imports, built from the
 * integration's SAML config (entity ID, NameID formats), the ACS URL this API serves, and the SP certificates in
 * the integration's secret.
 */
import type { Integration } from '../config/deployment.js';
import type { SamlConfig } from '../config/schema.js';
import { InvalidRequestError } from '../errors.js';
import { checkSamlConfig } from '../saml/config.js';
import { buildSpMetadata } from '../saml/metadata.js';
import { spKeysOf } from '../saml/sp-keys.js';
import { acsUrl, type FlowDeps, integrationOf } from './deps.js';

/** The integration named in the path when it accepts SAML sign-in; 404 `unknown_integration` otherwise. */
export async function samlIntegrationOf(
  deps: Pick<FlowDeps, 'deployment' | 'providers'>,
  id: string | undefined,
): Promise<{ integration: Integration; saml: SamlConfig }> {
  const integration = await integrationOf(deps, id);
  const saml = integration.config.saml;
  if (!saml || !integration.provider.template.grants.saml2_bearer) {
    throw new InvalidRequestError(`integration ${integration.id} does not accept SAML sign-in`, {
      status: 404,
      error: 'unknown_integration',
    });
  }
  return { integration, saml };
}

export interface SpMetadataRequest {
  integration: string;
  baseUrl: string;
}

export async function samlSpMetadata(deps: FlowDeps, input: SpMetadataRequest): Promise<string> {
  const { integration, saml } = await samlIntegrationOf(deps, input.integration);
  const acs = acsUrl(input.baseUrl, integration.id);
  const config = checkSamlConfig({ ...saml, acsUrl: acs }, integration.id);
  const secret = await deps.secrets.getClientSecret(integration.id);
  return buildSpMetadata({
    entityId: config.spEntityId,
    acsUrl: acs,
    nameIdFormats: config.nameIdFormats,
    keys: spKeysOf(secret, integration.id),
  });
}
