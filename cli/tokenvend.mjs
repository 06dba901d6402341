#!/usr/bin/env node
/**
 * The package's `tokenvend` command. It runs the TypeScript sources of this repository through tsx (a
 * devDependency, like the CDK app), so it works from a clone after `npm ci`: `npx tokenvend --help`.
 */
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
