/** `tokenvend config check --env <env>` and `tokenvend secrets set <integration> --env <env>`. */
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SecretError } from '../functions/adapters/secrets/errors.js';
import { parseSecretString, toClientSecret } from '../functions/adapters/secrets/parse.js';
import type { Integration } from '../functions/core/config/deployment.js';
import type { Command } from './command.js';
import {
  awsFailure,
  awsOptions,
  awsSettings,
  clientConfig,
  type Environment,
  envOptions,
  haveCredentials,
  loadEnvironment,
  type NeededField,
  neededSecretFields,
} from './environment.js';
import type { Io } from './io.js';
import { CliError, EXIT, json, table, usageError } from './output.js';

function grantsOf(integration: Integration): string[] {
  const { template } = integration.provider;
  const grants = new Set<string>();
  if (template.grants.authorization_code) grants.add('authorization_code');
  if (integration.config.saml) grants.add('saml2_bearer');
  for (const c of Object.values(integration.config.serviceConnections)) grants.add(c.grant);
  return [...grants];
}

interface SecretReport {
  status: 'ok' | 'missing' | 'invalid' | 'incomplete' | 'unchecked';
  /** Field names only, never values. */
  fields?: string[];
  problems: string[];
  notes: string[];
}

/** Reads a secret document; undefined when it does not exist. Never returns or reports a value. */
async function readSecret(
  client: SecretsManagerClient,
  integration: string,
  secretId: string,
): Promise<Record<string, string> | undefined> {
  let text: string | undefined;
  try {
    const out = await client.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
    );
    text = out.SecretString;
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw awsFailure(`cannot read secret ${secretId}`, error);
  }
  if (text === undefined)
    throw new SecretError(
      integration,
      `secret ${secretId} has no SecretString (binary secrets are not supported)`,
    );
  return { ...parseSecretString(integration, text, `secret ${secretId}`) } as Record<string, string>;
}

function checkFields(
  document: Record<string, string>,
  needed: readonly NeededField[],
): Pick<SecretReport, 'problems' | 'notes'> {
  const problems: string[] = [];
  const notes: string[] = [];
  for (const { field, reason, required } of needed) {
    if (document[field] !== undefined) continue;
    if (required) problems.push(`missing field ${field} (${reason})`);
    else notes.push(`no ${field}: fine only for ${reason.replace(/ \(unless (.*)\)$/, ': $1')}`);
  }
  return { problems, notes };
}

async function checkSecret(
  client: SecretsManagerClient,
  environment: Environment,
  integration: Integration,
): Promise<SecretReport> {
  const secretId = environment.secretId(integration.id);
  let document: Record<string, string> | undefined;
  try {
    document = await readSecret(client, integration.id, secretId);
  } catch (error) {
    if (error instanceof SecretError) return { status: 'invalid', problems: [error.problem], notes: [] };
    throw error;
  }
  if (!document) {
    return {
      status: 'missing',
      problems: [
        `secret ${secretId} does not exist: tokenvend secrets set ${integration.id} --env ${environment.name}`,
      ],
      notes: [],
    };
  }
  const { problems, notes } = checkFields(document, neededSecretFields(integration));
  return {
    status: problems.length ? 'incomplete' : 'ok',
    fields: Object.keys(document).sort(),
    problems,
    notes,
  };
}

export const configCheck: Command = {
  name: 'config check',
  usage:
    'tokenvend config check --env <env> [--config <file>] [--offline | --aws] [--region <region>] [--endpoint-url <url>] [--json]',
  summary: "validates an environment's config; with AWS credentials also its secrets",
  help: [
    'Checks config/<env>.json (or --config) with the same code and messages as cdk synth: the schema, every',
    'provider template and variable, callers, SAML certificates, deploy settings. When AWS credentials are at hand',
    "(or with --aws, which requires them) it also reads each integration's secret from Secrets Manager",
    '(integrations.<id>.secretId, default tokenvend/<env>/<id>) and checks that it exists, is a JSON object of',
    "strings and has the fields the integration's grants need. Values are never printed. --offline skips AWS.",
    'Exit code 1 when anything is wrong, 3 when AWS cannot be used.',
  ].join('\n'),
  options: { ...envOptions, ...awsOptions, offline: { type: 'boolean' }, aws: { type: 'boolean' } },
  positionals: { min: 0, max: 0 },
  async run({ io, values, jsonOutput }) {
    if (values.offline && values.aws) throw usageError('--offline and --aws contradict each other');
    const environment = loadEnvironment(io, values);
    const integrations = [...environment.checked.deployment.integrations.values()];
    let secrets: Map<string, SecretReport> | undefined;
    let region: string | undefined;
    let skipped: string | undefined;
    if (values.offline) {
      skipped = 'secrets not checked (--offline)';
    } else if (!values.aws && !(await haveCredentials())) {
      skipped =
        'secrets not checked: no AWS credentials (use --aws to require them, --offline to skip quietly)';
    } else {
      const settings = awsSettings(io, values, environment);
      region = settings.region;
      const client = new SecretsManagerClient(clientConfig(settings));
      secrets = new Map();
      try {
        for (const integration of integrations)
          secrets.set(integration.id, await checkSecret(client, environment, integration));
      } finally {
        client.destroy();
      }
    }
    const problems = [...(secrets?.values() ?? [])].filter((s) => s.problems.length > 0).length;
    const rows = integrations.map((integration) => ({
      id: integration.id,
      provider: integration.provider.template.id,
      grants: grantsOf(integration),
      secretId: environment.secretId(integration.id),
      needs: neededSecretFields(integration),
      secret: secrets?.get(integration.id) ?? { status: 'unchecked' as const, problems: [], notes: [] },
    }));
    if (jsonOutput) {
      io.out(
        json({
          config: environment.checked.source,
          valid: true,
          region,
          secretsChecked: secrets !== undefined,
          integrations: rows,
        }),
      );
      return problems > 0 ? EXIT.problem : EXIT.ok;
    }
    io.out(
      `${environment.checked.source}: valid (${rows.length} integration${rows.length === 1 ? '' : 's'})`,
    );
    io.out(
      table(
        ['INTEGRATION', 'PROVIDER', 'GRANTS', 'SECRET'],
        rows.map((r) => [r.id, r.provider, r.grants.join(', '), r.secretId]),
      ),
    );
    if (skipped) {
      io.err(skipped);
      return EXIT.ok;
    }
    io.out(`\nsecrets (Secrets Manager, ${region}):`);
    io.out(
      table(
        ['INTEGRATION', 'SECRET', 'STATUS'],
        rows.map((r) => [
          r.id,
          r.secretId,
          r.secret.problems.length
            ? `${r.secret.status}: ${r.secret.problems.join('; ')}`
            : `ok (${r.secret.fields?.join(', ')})`,
        ]),
      ),
    );
    for (const r of rows) for (const note of r.secret.notes) io.err(`note: ${r.id}: ${note}`);
    if (problems > 0) io.err(`${problems} secret${problems === 1 ? '' : 's'} need attention`);
    return problems > 0 ? EXIT.problem : EXIT.ok;
  },
};

/** The secret's fields: a JSON object on stdin, or prompted one by one on a terminal (nothing echoed). */
async function readValues(io: Io, needed: readonly NeededField[]): Promise<Record<string, string>> {
  if (!io.stdinIsTty) {
    const text = (await io.readStdin()).trim();
    if (text === '') {
      throw usageError(
        'no secret on stdin',
        `pipe a JSON object, e.g. tokenvend secrets set <integration> --env <env> < secret.json, or run in a terminal to be asked (fields: ${needed.map((n) => n.field).join(', ')})`,
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // The parser's message would quote the input: our own words only.
      throw new CliError(
        'stdin is not a JSON object',
        EXIT.problem,
        'e.g. {"client_id": "...", "client_secret": "..."}',
      );
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new CliError(
        'stdin is not a JSON object',
        EXIT.problem,
        'e.g. {"client_id": "...", "client_secret": "..."}',
      );
    }
    return value as Record<string, string>;
  }
  const values: Record<string, string> = {};
  for (const { field, required, reason } of needed) {
    const hidden = field !== 'client_id';
    const answer = await io.prompt(
      `${field}${required ? '' : ' (optional, Enter to leave out)'}${hidden ? ' (not shown)' : ''}: `,
      { hidden },
    );
    if (answer !== '') values[field] = answer;
    else if (required) throw new CliError(`${field} is required (${reason})`, EXIT.problem);
  }
  return values;
}

export const secretsSet: Command = {
  name: 'secrets set',
  usage:
    'tokenvend secrets set <integration> --env <env> [--merge] [--config <file>] [--region <region>] [--endpoint-url <url>] [--json] < secret.json',
  summary: "writes an integration's client secret to Secrets Manager (from stdin or a prompt)",
  help: [
    'Stores the integration\'s client secret document ({"client_id": ..., "client_secret": ..., ...}) in Secrets',
    'Manager under its secret id (integrations.<id>.secretId, default tokenvend/<env>/<id>): a new version of an',
    'existing secret, or a new secret. Values come from stdin (a JSON object) or, on a terminal, from a prompt per',
    'field that echoes nothing; never from the command line. --merge keeps fields of the current version that are',
    'not given. The fields are checked against what the grants need before anything is written. Only field names',
    'are printed. Running Lambdas pick the new version up within five minutes, or at once after invalid_client.',
  ].join('\n'),
  options: { ...envOptions, ...awsOptions, merge: { type: 'boolean' } },
  positionals: { min: 1, max: 1, names: '<integration>' },
  async run({ io, values, positionals, jsonOutput }) {
    const environment = loadEnvironment(io, values);
    const integration = environment.integration(positionals[0] as string);
    const secretId = environment.secretId(integration.id);
    const needed = neededSecretFields(integration);
    const given = await readValues(io, needed);
    const client = new SecretsManagerClient(clientConfig(awsSettings(io, values, environment)));
    try {
      const current = values.merge
        ? await readSecret(client, integration.id, secretId).catch((error: unknown) => {
            if (error instanceof SecretError)
              throw new CliError(`${error.problem}; cannot --merge with it`, EXIT.problem);
            throw error;
          })
        : undefined;
      let document: Record<string, string>;
      try {
        document = {
          ...toClientSecret(integration.id, { ...current, ...given }, 'the new secret'),
        } as Record<string, string>;
      } catch (error) {
        if (error instanceof SecretError)
          throw new CliError(error.problem, EXIT.problem, 'every field is a string; client_id is required');
        throw error;
      }
      const { problems } = checkFields(document, needed);
      if (problems.length > 0) throw new CliError(`not written: ${problems.join('; ')}`, EXIT.problem);
      const text = JSON.stringify(document);
      let created = false;
      let versionId: string | undefined;
      try {
        versionId = (await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: text })))
          .VersionId;
      } catch (error) {
        if ((error as { name?: string }).name !== 'ResourceNotFoundException')
          throw awsFailure(`cannot write secret ${secretId}`, error);
        try {
          versionId = (
            await client.send(
              new CreateSecretCommand({
                Name: secretId,
                SecretString: text,
                Description: `tokenvend ${environment.name}: client secret of integration ${integration.id}`,
              }),
            )
          ).VersionId;
          created = true;
        } catch (createError) {
          throw awsFailure(`cannot create secret ${secretId}`, createError);
        }
      }
      const fields = Object.keys(document).sort();
      if (jsonOutput) io.out(json({ integration: integration.id, secretId, created, versionId, fields }));
      else
        io.out(
          `secret ${secretId}: ${created ? 'created' : 'new version stored'} (version ${versionId ?? '?'}; fields: ${fields.join(', ')})`,
        );
      return EXIT.ok;
    } finally {
      client.destroy();
    }
  },
};
