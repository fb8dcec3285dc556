#!/usr/bin/env node
// Runs the TypeScript CLI directly (through tsx), so `npx ami-rollout` works on a fresh clone with no build step.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../src/cli/main.ts');
const { exitQuietlyWhenOutputCloses } = await import('../src/cli/usage.ts');
exitQuietlyWhenOutputCloses();
process.exitCode = await main(process.argv.slice(2));
