/**
 * The `deploy` section of the deployment config: how the CDK stack of one environment is built (pinned account
 * and region, data and log retention, API throttling, an optional custom domain). Read only at synth (lib/);
 * the functions never need it. Every key is optional: without the section the stack is account- and
 * region-agnostic, keeps data and logs by the environment's defaults and throttles at the defaults below.
 */
import { z } from 'zod';

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Default-route throttling of the HTTP API stage when the config names none. */
export const DEFAULT_THROTTLING = { rateLimit: 100, burstLimit: 200 } as const;

const hostname = z
  .string()
  .max(253)
  .regex(
    /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/,
    'a lowercase DNS name such as tokens.example.com',
  );

export const deploySettingsSchema = z.strictObject({
  /** Pins the stack to this AWS account (12 digits); default: account-agnostic, the deploying credentials pick it. */
  account: z
    .string()
    .regex(/^\d{12}$/, '12 digits')
    .optional(),
  /** Pins the stack to this region (`eu-west-1`); default: region-agnostic, the deploying shell picks it. */
  region: z
    .string()
    .regex(/^[a-z]{2}(?:-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1')
    .optional(),
  /**
   * Keep the table, the token key and the log groups when the stack is deleted (they hold users' consents and
   * the audit trail). Default: true for every environment but `dev`.
   */
  retainData: z.boolean().optional(),
  /** Days CloudWatch keeps the functions' and the API's logs. Default: 365 when data is retained, else 30. */
  logRetentionDays: z
    .number()
    .int()
    .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
      message: `one of ${LOG_RETENTION_DAYS.join(', ')}`,
    })
    .optional(),
  /**
   * Days the audit trail's log group (`/tokenvend/<env>/audit`, docs/audit.md) keeps its records. Default: 731 when
   * data is retained, else 30.
   */
  auditRetentionDays: z
    .number()
    .int()
    .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
      message: `one of ${LOG_RETENTION_DAYS.join(', ')}`,
    })
    .optional(),
  /** Default-route throttling of the API stage (every route): steady requests per second and burst. */
  throttling: z
    .strictObject({
      rateLimit: z.number().positive().max(10_000),
      burstLimit: z.number().int().min(1).max(5_000),
    })
    .default({ ...DEFAULT_THROTTLING }),
  /**
   * A custom domain for the API: the name and a regional ACM certificate for it (in the stack's region). The
   * stack maps the domain to the API and outputs its URL; point a DNS alias at the `ApiDomainTarget` output.
   */
  domain: z
    .strictObject({
      name: hostname,
      certificateArn: z
        .string()
        .regex(
          /^arn:aws[a-z-]*:acm:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:certificate\/[A-Za-z0-9-]+$/,
          'an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)',
        ),
    })
    .optional(),
});

export type DeploySettings = z.output<typeof deploySettingsSchema>;
