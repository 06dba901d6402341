/** Which secret fields `secrets set` / `config check` ask for, from the template's client authentication and assertion source. */
import { neededSecretFields } from '../../cli/environment.js';
import { loadDeployment } from '../../functions/core/config/deployment.js';
import { loadProviderTemplate } from '../../functions/core/provider/load.js';

function integrationWith(grants: Record<string, unknown>, serviceConnections: Record<string, unknown> = {}) {
  const template = loadProviderTemplate({
    id: 'keyed',
    name: 'Keyed',
    endpoints: {
      authorize: 'https://login.keyed.example/authorize',
      token: 'https://login.keyed.example/token',
    },
    grants,
  });
  const deployment = loadDeployment(
    { integrations: { keyed: { provider: 'keyed', serviceConnections } } },
    { builtins: new Map([['keyed', template]]), local: true },
  );
  const integration = deployment.integrations.get('keyed');
  if (!integration) throw new Error('no integration');
  return Object.fromEntries(neededSecretFields(integration).map((f) => [f.field, f.required]));
}

describe('neededSecretFields', () => {
  it('asks for a private key, not a client secret, with private_key_jwt', () => {
    expect(
      integrationWith({
        authorization_code: { clientAuth: 'private_key_jwt' },
        refresh_token: { clientAuth: 'private_key_jwt' },
      }),
    ).toEqual({ client_id: true, private_key: true, key_id: false });
  });

  it('asks for the field a secret-sourced assertion names, and nothing from the caller', () => {
    const grants = { jwt_bearer: { assertion: { source: 'secret', field: 'jwt' } } };
    expect(integrationWith(grants, { bot: { grant: 'jwt_bearer' } })).toMatchObject({ jwt: true });
    expect(integrationWith(grants, { bot: { grant: 'jwt_bearer' } })).not.toHaveProperty('jwt_assertion');
  });

  it('asks for the private key of a signed assertion, and a caller assertion by default', () => {
    const signed = {
      jwt_bearer: { clientAuth: 'none', assertion: { source: 'signed', claims: { iss: '${client_id}' } } },
    };
    expect(integrationWith(signed, { bot: { grant: 'jwt_bearer' } })).toMatchObject({ private_key: true });
    expect(
      integrationWith({ jwt_bearer: { clientAuth: 'none' } }, { bot: { grant: 'jwt_bearer' } }),
    ).toMatchObject({
      jwt_assertion: true,
    });
  });
});
