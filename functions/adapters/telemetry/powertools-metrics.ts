/**
 * Metrics as CloudWatch EMF log lines through Powertools, one document per metric call, emitted at once
 * (`singleMetric()`), so nothing waits for a flush at the end of an invocation and nothing is lost when a
 * handler throws. Dimension sets, each with the `service` default dimension:
 * - `RefreshFailed`: (service, integration) and (service, integration, class) when a class is given, as two
 *   documents (an alarm per integration, and a breakdown by failure class);
 * - every other metric: (service, integration) when an integration is given, else (service).
 * `RefreshLagSeconds` is in Seconds, everything else a Count. `metric` never throws.
 *
 * Why two documents rather than one with two dimension sets: Powertools 2.36 logs a "key collision" warning
 * for every document whose dimension sets share a key (`integration` here), which would add a warning line to
 * every refresh failure. Each dimension combination is its own CloudWatch metric, so the value is counted
 * once per combination either way.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricName, Telemetry } from '../../core/ports.js';

/** Default CloudWatch namespace and `service` dimension. */
export const DEFAULT_METRICS_NAMESPACE = 'tokenvend';
export const DEFAULT_METRICS_SERVICE = 'tokenvend';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** How each metric is emitted: its unit, and whether a failure class adds a (…, class) dimension set. */
const METRICS: Readonly<Record<MetricName, { unit: Unit; byClass?: true }>> = {
  RefreshSucceeded: { unit: MetricUnit.Count },
  RefreshFailed: { unit: MetricUnit.Count, byClass: true },
  RefreshLagSeconds: { unit: MetricUnit.Seconds },
  LeaseContended: { unit: MetricUnit.Count },
  PlannerBatchSize: { unit: MetricUnit.Count },
  PlannerSendFailed: { unit: MetricUnit.Count },
};

export interface PowertoolsTelemetryOptions {
  /**
   * The Powertools instance to emit through (its namespace, `service` and default dimensions apply). Default:
   * a new one with `namespace` and `serviceName`.
   */
  metrics?: Metrics;
  /** Default `tokenvend`; ignored when `metrics` is given. */
  namespace?: string;
  /** The `service` dimension. Default `tokenvend`; ignored when `metrics` is given. */
  serviceName?: string;
}

export class PowertoolsTelemetry implements Telemetry {
  readonly #metrics: Metrics;

  constructor(options: PowertoolsTelemetryOptions = {}) {
    this.#metrics =
      options.metrics ??
      new Metrics({
        namespace: options.namespace ?? DEFAULT_METRICS_NAMESPACE,
        serviceName: options.serviceName ?? DEFAULT_METRICS_SERVICE,
      });
  }

  metric(name: MetricName, value: number, dimensions: Parameters<Telemetry['metric']>[2] = {}): void {
    try {
      const definition = Object.hasOwn(METRICS, name) ? METRICS[name] : undefined;
      if (!definition || !Number.isFinite(value)) return;
      const base: Record<string, string> = dimensions.integration
        ? { integration: dimensions.integration }
        : {};
      this.#emit(name, definition.unit, value, base);
      if (definition.byClass && dimensions.class) {
        this.#emit(name, definition.unit, value, { ...base, class: dimensions.class });
      }
    } catch {
      // Metrics are best effort: a bad value or a Powertools error must not fail a refresh.
    }
  }

  /** One EMF document: `name` = `value` under the dimension set `service` + `dimensions`. */
  #emit(name: MetricName, unit: Unit, value: number, dimensions: Record<string, string>): void {
    const single = this.#metrics.singleMetric();
    if (Object.keys(dimensions).length > 0) single.addDimensions(dimensions);
    single.addMetric(name, unit, value);
  }
}
