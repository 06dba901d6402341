/**
 * PowertoolsTelemetry with the real Powertools Metrics: each test captures what Powertools writes to the
 * process streams (it logs EMF documents through a `Console` over process.stdout) and checks the EMF JSON
 * CloudWatch would read: namespace, dimension sets, units, values. Plus the in-memory and no-op telemetry.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  MemoryTelemetry,
  noTelemetry,
  PowertoolsTelemetry,
} from '../../../functions/adapters/telemetry/index.js';
import type { MetricName, RefreshFailureClass } from '../../../functions/core/ports.js';

interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** Everything written to stdout and stderr while `run` runs (not echoed), stdout split into EMF documents. */
function capture(run: () => void): { emf: EmfDocument[]; stdout: string; stderr: string } {
  const written = { stdout: '', stderr: '' };
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  for (const name of ['stdout', 'stderr'] as const) {
    process[name].write = ((chunk: unknown) => {
      written[name] += Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
      return true;
    }) as typeof process.stdout.write;
  }
  try {
    run();
  } finally {
    process.stdout.write = originals.stdout;
    process.stderr.write = originals.stderr;
  }
  const emf = written.stdout
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as EmfDocument);
  return { emf, ...written };
}

/** The one metric definition, namespace and dimension sets of a document, with its value. */
function directiveOf(document: EmfDocument, name: string) {
  const [directive] = document._aws.CloudWatchMetrics;
  return {
    namespace: directive!.Namespace,
    dimensions: directive!.Dimensions,
    metrics: directive!.Metrics,
    value: document[name],
  };
}

const savedEnv: Record<string, string | undefined> = {};
const POWERTOOLS_ENV = [
  'POWERTOOLS_DEV',
  'POWERTOOLS_METRICS_DISABLED',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_SERVICE_NAME',
];

beforeAll(() => {
  // POWERTOOLS_DEV would route output to the global console and disable metrics.
  for (const key of POWERTOOLS_ENV) {
    savedEnv[key] = process.env[key];
    delete process.env[key];
  }
});

afterAll(() => {
  for (const key of POWERTOOLS_ENV) {
    if (savedEnv[key] !== undefined) process.env[key] = savedEnv[key];
  }
});

describe('PowertoolsTelemetry', () => {
  it('emits RefreshFailed by (service, integration) and by (service, integration, class), at once', () => {
    const telemetry = new PowertoolsTelemetry();
    const before = Date.now();
    const { emf, stderr } = capture(() =>
      telemetry.metric('RefreshFailed', 1, { integration: 'genesys-eu', class: 'invalid_grant' }),
    );
    expect(emf).toHaveLength(2);
    expect(emf.map((document) => directiveOf(document, 'RefreshFailed'))).toEqual([
      {
        namespace: 'tokenvend',
        dimensions: [['service', 'integration']],
        metrics: [{ Name: 'RefreshFailed', Unit: 'Count' }],
        value: 1,
      },
      {
        namespace: 'tokenvend',
        dimensions: [['service', 'integration', 'class']],
        metrics: [{ Name: 'RefreshFailed', Unit: 'Count' }],
        value: 1,
      },
    ]);
    expect(emf[0]).toMatchObject({ service: 'tokenvend', integration: 'genesys-eu' });
    expect(emf[0]).not.toHaveProperty('class');
    expect(emf[1]).toMatchObject({ service: 'tokenvend', integration: 'genesys-eu', class: 'invalid_grant' });
    for (const document of emf) {
      expect(document._aws.Timestamp).toBeGreaterThanOrEqual(before);
      expect(document._aws.Timestamp).toBeLessThanOrEqual(Date.now());
    }
    // No Powertools warning either (one document with two sets sharing `integration` would log one).
    expect(stderr).toBe('');
  });

  it('emits RefreshFailed without a class by (service, integration) only', () => {
    const { emf } = capture(() =>
      new PowertoolsTelemetry().metric('RefreshFailed', 1, { integration: 'rc' }),
    );
    expect(emf.map((document) => directiveOf(document, 'RefreshFailed').dimensions)).toEqual([
      [['service', 'integration']],
    ]);
  });

  const units: [MetricName, string][] = [
    ['RefreshSucceeded', 'Count'],
    ['RefreshFailed', 'Count'],
    ['RefreshLagSeconds', 'Seconds'],
    ['LeaseContended', 'Count'],
    ['PlannerBatchSize', 'Count'],
    ['PlannerSendFailed', 'Count'],
  ];

  it.each(units)('emits %s in %s, by (service, integration) or (service)', (name, unit) => {
    const telemetry = new PowertoolsTelemetry();
    const { emf, stderr } = capture(() => {
      telemetry.metric(name, 42, { integration: 'sipgate' });
      telemetry.metric(name, 7);
    });
    expect(emf.map((document) => directiveOf(document, name))).toEqual([
      {
        namespace: 'tokenvend',
        dimensions: [['service', 'integration']],
        metrics: [{ Name: name, Unit: unit }],
        value: 42,
      },
      { namespace: 'tokenvend', dimensions: [['service']], metrics: [{ Name: name, Unit: unit }], value: 7 },
    ]);
    expect(emf[0]).toMatchObject({ service: 'tokenvend', integration: 'sipgate' });
    expect(emf[1]).not.toHaveProperty('integration');
    expect(stderr).toBe('');
  });

  it('ignores a class on metrics other than RefreshFailed', () => {
    const { emf } = capture(() =>
      new PowertoolsTelemetry().metric('RefreshSucceeded', 1, { integration: 'webex', class: 'store' }),
    );
    expect(emf).toHaveLength(1);
    expect(directiveOf(emf[0]!, 'RefreshSucceeded').dimensions).toEqual([['service', 'integration']]);
    expect(emf[0]).not.toHaveProperty('class');
  });

  it('uses the configured namespace and service', () => {
    const telemetry = new PowertoolsTelemetry({ namespace: 'acme/tokens', serviceName: 'tokenvend-prod' });
    const { emf } = capture(() => telemetry.metric('LeaseContended', 1, { integration: 'zoom' }));
    expect(directiveOf(emf[0]!, 'LeaseContended').namespace).toBe('acme/tokens');
    expect(emf[0]).toMatchObject({ service: 'tokenvend-prod', integration: 'zoom' });
  });

  it('emits through an injected Metrics: its defaults apply, its own buffer is left alone', () => {
    const metrics = new Metrics({
      namespace: 'shared',
      serviceName: 'planner',
      defaultDimensions: { environment: 'prod' },
    });
    const telemetry = new PowertoolsTelemetry({ metrics });
    const { emf } = capture(() => {
      metrics.addMetric('HandlerOwn', MetricUnit.Count, 1);
      telemetry.metric('RefreshFailed', 2, { integration: 'dialpad', class: 'rate_limited' });
    });
    expect(emf.map((document) => directiveOf(document, 'RefreshFailed'))).toEqual([
      {
        namespace: 'shared',
        dimensions: [['service', 'environment', 'integration']],
        metrics: [{ Name: 'RefreshFailed', Unit: 'Count' }],
        value: 2,
      },
      {
        namespace: 'shared',
        dimensions: [['service', 'environment', 'integration', 'class']],
        metrics: [{ Name: 'RefreshFailed', Unit: 'Count' }],
        value: 2,
      },
    ]);
    expect(emf[0]).toMatchObject({ service: 'planner', environment: 'prod' });
    for (const document of emf) expect(document).not.toHaveProperty('HandlerOwn');
    // The handler's metric is still buffered and goes out with its own flush.
    const flushed = capture(() => metrics.publishStoredMetrics());
    expect(flushed.emf).toHaveLength(1);
    expect(directiveOf(flushed.emf[0]!, 'HandlerOwn')).toMatchObject({
      dimensions: [['service', 'environment']],
      value: 1,
    });
  });

  it('never throws, and emits nothing for a value CloudWatch cannot take or an unknown name', () => {
    const telemetry = new PowertoolsTelemetry();
    const { emf } = capture(() => {
      telemetry.metric('PlannerBatchSize', Number.NaN);
      telemetry.metric('RefreshLagSeconds', Number.POSITIVE_INFINITY, { integration: 'rc' });
      telemetry.metric('NotOurs' as MetricName, 1);
      telemetry.metric('RefreshFailed', 1, { integration: 'rc', class: 'no_such' as RefreshFailureClass });
    });
    // The unknown class is still a non-empty dimension value: both documents go out.
    expect(emf.map((document) => Object.keys(document).filter((key) => key !== '_aws'))).toEqual([
      ['service', 'integration', 'RefreshFailed'],
      ['service', 'integration', 'class', 'RefreshFailed'],
    ]);
  });

  it('swallows a Powertools error (a default dimension named like the metric)', () => {
    const metrics = new Metrics({ namespace: 'x', defaultDimensions: { RefreshSucceeded: 'clash' } });
    const telemetry = new PowertoolsTelemetry({ metrics });
    let threw = false;
    const { emf } = capture(() => {
      try {
        telemetry.metric('RefreshSucceeded', 1, { integration: 'rc' });
      } catch {
        threw = true;
      }
    });
    expect(threw).toBe(false);
    expect(emf).toEqual([]);
  });
});

describe('MemoryTelemetry and noTelemetry', () => {
  it('records every call in order, with a copy of its dimensions', () => {
    const telemetry = new MemoryTelemetry();
    const dimensions: { integration: string; class: RefreshFailureClass } = {
      integration: 'genesys-eu',
      class: 'unavailable',
    };
    telemetry.metric('RefreshFailed', 1, dimensions);
    dimensions.integration = 'changed';
    telemetry.metric('RefreshFailed', 1, { integration: 'rc', class: 'invalid_grant' });
    telemetry.metric('PlannerBatchSize', 23);
    expect(telemetry.calls).toEqual([
      { name: 'RefreshFailed', value: 1, dimensions: { integration: 'genesys-eu', class: 'unavailable' } },
      { name: 'RefreshFailed', value: 1, dimensions: { integration: 'rc', class: 'invalid_grant' } },
      { name: 'PlannerBatchSize', value: 23, dimensions: {} },
    ]);
    expect(telemetry.values('RefreshFailed')).toEqual([1, 1]);
    expect(telemetry.values('RefreshFailed', { integration: 'rc' })).toEqual([1]);
    expect(telemetry.values('RefreshFailed', { class: 'unavailable' })).toEqual([1]);
    expect(telemetry.values('PlannerBatchSize')).toEqual([23]);
    telemetry.clear();
    expect(telemetry.calls).toEqual([]);
  });

  it('noTelemetry accepts every call and writes nothing', () => {
    const { stdout, stderr } = capture(() => {
      noTelemetry.metric('RefreshFailed', 1, { integration: 'rc', class: 'store' });
      noTelemetry.metric('PlannerSendFailed', 3);
    });
    expect(stdout + stderr).toBe('');
  });
});
