/**
 * One request's log lines correlate: the requestContext middleware adds the Lambda invocation to the container's
 * Powertools logger (aws-app's appLogger), so every line a handler writes carries the request id.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { requestContext } from '../../../functions/handlers/middleware/request-context.js';
import type { HttpEvent, HttpResult } from '../../../functions/handlers/middleware/types.js';
import { appLogger } from '../../../functions/handlers/runtime/aws-app.js';

function invocation(requestId: string): Context {
  return {
    awsRequestId: requestId,
    functionName: 'tokenvend-vend',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:tokenvend-vend',
    memoryLimitInMB: '512',
    getRemainingTimeInMillis: () => 1000,
  } as Context;
}

it('stamps every log line of an invocation with its request id, and the next invocation with its own', async () => {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  const previousDev = process.env.POWERTOOLS_DEV;
  delete process.env.POWERTOOLS_DEV;
  try {
    const logger = appLogger(new Logger({ serviceName: 'tokenvend' }));
    const handler = middy<HttpEvent, HttpResult>()
      .use(requestContext(logger))
      .handler(async () => {
        logger.info('vended', { integration: 'genesys-eu' });
        return { statusCode: 200 };
      });
    await handler({} as HttpEvent, invocation('req-1'));
    await handler({} as HttpEvent, invocation('req-2'));
  } finally {
    process.stdout.write = original;
    if (previousDev !== undefined) process.env.POWERTOOLS_DEV = previousDev;
  }
  const records = lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(records.map((r) => [r.message, r.function_request_id, r.integration])).toEqual([
    ['vended', 'req-1', 'genesys-eu'],
    ['vended', 'req-2', 'genesys-eu'],
  ]);
});
