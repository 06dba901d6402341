export { CloudWatchAuditTransport } from './cloudwatch-logs.js';
export { FileAuditTransport } from './file.js';
