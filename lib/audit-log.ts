/**
 * Where an environment's audit trail lives (docs/audit.md): the stack creates the group, every function writes to
 * it, and `tokenvend audit` queries it by this name. No CDK import, so the CLI loads it cheaply.
 */
export function auditLogGroupName(envName: string): string {
  return `/tokenvend/${envName}/audit`;
}
