/** Telemetry without CloudWatch: `noTelemetry` drops everything, `MemoryTelemetry` keeps every call. */
import type { MetricName, RefreshFailureClass, Telemetry } from '../../core/ports.js';

/** Telemetry that records nothing (local runtime, tests that do not look at metrics). */
export const noTelemetry: Telemetry = Object.freeze({ metric() {} });

/** One recorded `metric` call. */
export interface RecordedMetric {
  name: MetricName;
  value: number;
  dimensions: { integration?: string; class?: RefreshFailureClass };
}

/** Telemetry that records every call, in order, for tests and the local runtime. */
export class MemoryTelemetry implements Telemetry {
  readonly calls: RecordedMetric[] = [];

  metric(name: MetricName, value: number, dimensions: RecordedMetric['dimensions'] = {}): void {
    this.calls.push({ name, value, dimensions: { ...dimensions } });
  }

  /** The values recorded for `name`, optionally only those whose dimensions include `dimensions`. */
  values(name: MetricName, dimensions: RecordedMetric['dimensions'] = {}): number[] {
    return this.calls
      .filter(
        (call) =>
          call.name === name &&
          (dimensions.integration === undefined || call.dimensions.integration === dimensions.integration) &&
          (dimensions.class === undefined || call.dimensions.class === dimensions.class),
      )
      .map((call) => call.value);
  }

  /** Forgets every recorded call. */
  clear(): void {
    this.calls.length = 0;
  }
}
