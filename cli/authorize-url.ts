/** `tokenvend authorize-url <integration> --env <env>`: the vendor login URL an integration sends users to. */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretError } from '../functions/adapters/secrets/errors.js';
import { SecretsManagerSecretSource } from '../functions/adapters/secrets/index.js';
import { DiscoveredProviders } from '../functions/core/config/discovered-providers.js';
import { TokenvendError } from '../functions/core/errors.js';
import { callbackUrl } from '../functions/core/flows/deps.js';
import {
  buildAuthorizationUrl,
  createNonce,
  createPkce,
  createState,
  usesPkce,
} from '../functions/core/oauth/authorize.js';
import type { ClientSecret } from '../functions/core/oauth/client-auth.js';
import { isOidc } from '../functions/core/oauth/engine.js';
import type { Command } from './command.js';
import {
  awsFailure,
  awsOptions,
  awsSettings,
  clientConfig,
  envOptions,
  loadEnvironment,
} from './environment.js';
import { CliError, EXIT, json, usageError } from './output.js';

export const authorizeUrl: Command = {
  name: 'authorize-url',
  usage:
    'tokenvend authorize-url <integration> --env <env> [--client-id <id>] [--base-url <url>] [--scope <scope>]... [--json]',
  summary: "the vendor's login URL for an integration, for debugging the vendor's login page",
  help: [
    "Builds the authorization URL POST /connect/<integration> would answer: the template's authorize endpoint (after",
    'OIDC discovery where configured), client_id, redirect_uri = <publicBaseUrl>/oauth/<integration>/callback, scopes,',
    "the template's directives (Genesys org/provider, ...), a PKCE challenge and an OpenID Connect nonce where the",
    "flow sends them. The client_id comes from --client-id or the integration's secret in Secrets Manager (only the",
    'id is printed). Its state is not stored: the vendor login page can be checked, the callback will refuse the',
    'answer. Start real connections from your app (docs/frontend-connect.md).',
  ].join('\n'),
  options: {
    ...envOptions,
    ...awsOptions,
    'client-id': { type: 'string' },
    'base-url': { type: 'string' },
    scope: { type: 'string', multiple: true },
  },
  positionals: { min: 1, max: 1, names: '<integration>' },
  async run({ io, values, positionals, jsonOutput }) {
    const environment = loadEnvironment(io, values);
    const integration = environment.integration(positionals[0] as string);
    const base = (values['base-url'] as string | undefined) ?? environment.checked.config.publicBaseUrl;
    if (!base)
      throw usageError(
        'the config names no publicBaseUrl',
        'pass --base-url <the API URL> to build the redirect_uri',
      );
    if (!URL.canParse(base)) throw usageError(`--base-url ${base}: not an absolute URL`);
    let client: ClientSecret;
    const given = values['client-id'] as string | undefined;
    if (given !== undefined) {
      if (given === '') throw usageError('--client-id is empty');
      client = { client_id: given };
    } else {
      const sm = new SecretsManagerClient(clientConfig(awsSettings(io, values, environment)));
      try {
        client = await new SecretsManagerSecretSource({
          client: sm,
          secretIds: (id) => environment.secretId(id),
        }).getClientSecret(integration.id);
      } catch (error) {
        if (error instanceof SecretError && !/cannot read secret/.test(error.problem)) {
          throw new CliError(error.problem, EXIT.problem, 'or pass --client-id <id>');
        }
        throw awsFailure(
          `cannot read the client_id from secret ${environment.secretId(integration.id)} (or pass --client-id)`,
          (error as { cause?: unknown }).cause ?? error,
        );
      } finally {
        sm.destroy();
      }
    }
    let provider = integration.provider;
    try {
      provider = await new DiscoveredProviders({
        fetch: (input, init) => globalThis.fetch(input, init),
        timeoutMs: 10_000,
        allowInsecureLoopback: false,
      }).provider(integration);
    } catch (error) {
      if (error instanceof TokenvendError)
        throw new CliError(`OIDC discovery failed: ${error.message}`, EXIT.unavailable);
      throw error;
    }
    if (!provider.template.grants.authorization_code) {
      throw new CliError(
        `${integration.id} (${provider.template.id}) has no browser login (no authorization_code grant)`,
        EXIT.problem,
      );
    }
    const redirectUri = callbackUrl(base, integration.id);
    const pkce = usesPkce(provider, client) ? await createPkce() : undefined;
    const nonce = isOidc(provider) ? createNonce() : undefined;
    const scopes = (values.scope as string[] | undefined) ?? integration.config.scopes;
    const url = buildAuthorizationUrl(provider, {
      client,
      redirectUri,
      state: createState(),
      pkce,
      nonce,
      scopes,
    });
    if (jsonOutput) {
      io.out(
        json({
          integration: integration.id,
          authorize_url: url.toString(),
          redirect_uri: redirectUri,
          client_id: client.client_id,
          pkce: pkce !== undefined,
          nonce: nonce !== undefined,
        }),
      );
    } else {
      io.out(url.toString());
      io.err(
        `redirect_uri ${redirectUri} must be registered at the vendor. This state is not stored: the callback will refuse the answer (use it to check the vendor's login page).`,
      );
    }
    return EXIT.ok;
  },
};
