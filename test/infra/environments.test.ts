/**
 * Every documented environment synthesises offline (config/dev.json, staging.json, prod.json through the same
 * lib/environment.ts as `cdk synth -c env=<env>`, bundling off: cli-synth.test.ts runs the real CLI once), with
 * a clean cdk-nag report, pinned to an account and region only where its config says so, carrying the compiled
 * deployment that loadDeployment produces. A mistake in a config or a template fails the synth with one line:
 * file, JSON path, problem.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Token, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadProviderDirectorySync } from '../../functions/adapters/provider-files.js';
import {
  COMPILED_FORMAT,
  type CompiledDeployment,
  loadCompiledDeployment,
} from '../../functions/core/config/compiled.js';
import { loadDeployment } from '../../functions/core/config/deployment.js';
import { readDeployment } from '../../lib/deployment-config.js';
import { addEnvironmentStack } from '../../lib/environment.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const configOf = (env: string) => path.join(projectRoot, 'config', `${env}.json`);
const AWS_REGION = /\b(?:[a-z]{2}(?:-gov)?-[a-z]+-\d)\b/g;

let tmpDir: string;
beforeAll(() => {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenvend-envs-'));
});
afterAll(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

function writeFile(name: string, content: unknown): string {
  const file = path.join(tmpDir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function synthEnvironment(envName: string, configFile = configOf(envName)) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = addEnvironmentStack(app, { envName, configFile, projectRoot });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  const errors = assembly.stacks.flatMap((s) =>
    s.messages.filter((m) => m.level === 'error').map((m) => `${m.id}: ${String(m.entry.data)}`),
  );
  return { stack, template: Template.fromStack(stack), errors };
}

describe.each(['dev', 'staging', 'prod'])('config/%s.json', (envName) => {
  const saved = { ...process.env };
  // A shell with AWS defaults: none of them may reach the template.
  process.env.CDK_DEFAULT_REGION = 'ap-southeast-7';
  process.env.CDK_DEFAULT_ACCOUNT = '999988887777';
  const { stack, template, errors } = synthEnvironment(envName);
  process.env = saved;
  const raw = JSON.parse(fs.readFileSync(configOf(envName), 'utf8'));

  it('synthesises with a clean cdk-nag AwsSolutions report', () => {
    expect(stack.stackName).toBe(`tokenvend-${envName}`);
    expect(errors).toEqual([]);
  });

  it('takes its account and region from the config only', () => {
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toContain('ap-southeast-7');
    expect(json).not.toContain('999988887777');
    const pinned = raw.deploy?.region as string | undefined;
    if (pinned) {
      expect(stack.region).toBe(pinned);
      expect(stack.account).toBe(raw.deploy.account);
    } else {
      expect(Token.isUnresolved(stack.region)).toBe(true);
      expect(Token.isUnresolved(stack.account)).toBe(true);
      // No region literal at all (the table's replica is `Ref: AWS::Region`).
      expect(json.match(AWS_REGION)).toBeNull();
    }
  });

  it('carries the deployment loadDeployment makes of the config, compiled', () => {
    const compiled = JSON.parse(fs.readFileSync(stack.compiledFile, 'utf8')) as CompiledDeployment;
    expect(compiled.format).toBe(COMPILED_FORMAT);
    const expected = loadDeployment(raw, {
      builtins: loadProviderDirectorySync(path.join(projectRoot, 'providers')),
      source: `${envName}.json`,
    });
    const loaded = loadCompiledDeployment(compiled, 'tokenvend.compiled.json');
    expect(JSON.parse(JSON.stringify(loaded.config))).toEqual(JSON.parse(JSON.stringify(expected.config)));
    expect([...loaded.integrations.keys()]).toEqual([...expected.integrations.keys()]);
    for (const [id, integration] of expected.integrations) {
      expect(loaded.integrations.get(id)?.provider).toEqual(JSON.parse(JSON.stringify(integration.provider)));
      expect(loaded.integrations.get(id)?.config).toBe(loaded.config.integrations[id]);
    }
  });

  it('applies its retention and throttling settings', () => {
    const retention = raw.deploy.logRetentionDays as number;
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    // The audit trail keeps its own retention (docs/audit.md).
    const audit = groups.filter((g) => String(g.Properties.LogGroupName ?? '').endsWith('/audit'));
    expect(audit).toHaveLength(1);
    expect(audit[0]?.Properties.RetentionInDays).toBe(
      raw.deploy.auditRetentionDays ?? (raw.deploy.retainData === false ? 30 : 731),
    );
    for (const group of groups) {
      if (audit.includes(group)) continue;
      expect(group.Properties.RetentionInDays).toBe(retention);
      expect(group.DeletionPolicy).toBe(raw.deploy.retainData ? 'Retain' : 'Delete');
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: {
        ThrottlingRateLimit: raw.deploy.throttling.rateLimit,
        ThrottlingBurstLimit: raw.deploy.throttling.burstLimit,
      },
    });
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', raw.deploy.domain ? 1 : 0);
  });
});

describe('a mistake fails the synth with one line: file, JSON path, problem', () => {
  const base = JSON.parse(fs.readFileSync(configOf('dev'), 'utf8'));
  const webex = JSON.parse(fs.readFileSync(path.join(projectRoot, 'providers', 'webex.json'), 'utf8'));
  const problemOf = (name: string, config: unknown): string => {
    const file = writeFile(name, config);
    try {
      synthEnvironment('mistake', file);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).not.toContain('\n');
      return message;
    }
    throw new Error(`${name} synthesised`);
  };

  it.each([
    [
      'a refresh value out of range',
      { ...base, refresh: { maxConcurrency: 1 } },
      /^bad\.json: \$\.refresh\.maxConcurrency: /,
    ],
    [
      'an unknown built-in provider',
      { ...base, integrations: { x: { provider: 'nope' } } },
      /^bad\.json: \$\.integrations\.x\.provider: unknown provider "nope" \(built-in: .*genesys-cloud/,
    ],
    [
      'a variable the template refuses',
      { ...base, integrations: { x: { provider: 'genesys-cloud', vars: { region: 'evil.example' } } } },
      /^bad\.json: \$\.integrations\.x: \$\.vars\.region: must be one of /,
    ],
    [
      'an inline template with an undeclared placeholder',
      {
        ...base,
        integrations: {
          x: {
            provider: {
              ...webex,
              id: 'inline',
              endpoints: { ...webex.endpoints, token: 'https://${host}/token' },
            },
          },
        },
      },
      /^bad\.json: \$\.integrations\.x\.provider: \$\.endpoints\.token: undeclared variable \$\{host\}/,
    ],
    [
      'an inline secret',
      { ...base, integrations: { x: { provider: 'webex', secret: { client_id: 'a' } } } },
      /^bad\.json: \$\.integrations\.x\.secret: inline secrets are for local mode only/,
    ],
    [
      'a caller JWKS over http (the caller-auth schema the functions used to run at start)',
      {
        ...base,
        callers: [
          { issuer: 'https://idp.example.com', audience: 'a', jwksUri: 'http://idp.example.com/jwks' },
        ],
      },
      /^bad\.json: \$\.callers\[0\]\.jwksUri: must be an https:\/\/ URL/,
    ],
    [
      'a log retention CloudWatch does not offer',
      { ...base, deploy: { logRetentionDays: 42 } },
      /^bad\.json: \$\.deploy\.logRetentionDays: one of 1, 3, 5/,
    ],
    [
      'a certificate from another region than the stack',
      {
        ...base,
        publicBaseUrl: 'https://tokens.example.com',
        deploy: {
          region: 'eu-west-1',
          domain: {
            name: 'tokens.example.com',
            certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
          },
        },
      },
      /^bad\.json: \$\.deploy\.domain\.certificateArn: the certificate is in us-east-1, the stack in eu-west-1/,
    ],
    ['text that is not JSON', '{"integrations": ', /^bad\.json: \$: not valid JSON: /],
  ])('%s', (_, config, expected) => {
    expect(problemOf('bad.json', config)).toMatch(expected);
  });

  it('names a built-in template file and the path in it', () => {
    const providers = fs.mkdtempSync(path.join(tmpDir, 'providers-'));
    fs.writeFileSync(path.join(providers, 'acme.json'), JSON.stringify({ id: 'acme', endpoints: 'nope' }));
    expect(() => readDeployment(configOf('dev'), { providersDirectory: providers })).toThrow(
      /^acme\.json: \$\.[a-z]+: /,
    );
  });

  it('names a SAML certificate that does not parse', () => {
    const saml = {
      idpCert: 'not a certificate',
      idpIssuer: 'https://idp.example.com',
      spEntityId: 'tokenvend',
    };
    const config = { ...base, integrations: { x: { provider: 'genesys-cloud', saml } } };
    expect(problemOf('saml.json', config)).toMatch(
      /^saml\.json: integration x: saml\.idpCert\[0\]: not an X\.509 certificate/,
    );
  });
});
