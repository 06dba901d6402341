/** Telemetry: Powertools EMF metrics in AWS; in-memory or none locally and in tests. */
export { MemoryTelemetry, noTelemetry, type RecordedMetric } from './memory.js';
export {
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_METRICS_SERVICE,
  PowertoolsTelemetry,
  type PowertoolsTelemetryOptions,
} from './powertools-metrics.js';
