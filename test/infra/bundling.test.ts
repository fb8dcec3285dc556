import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { functionHandler } from '../../src/infra/bundle.ts';
import { functionCode } from '../../src/infra/pipeline.ts';

/**
 * The pipeline's bundling, for real, on one function through CDK's asset staging: the locally installed
 * esbuild (no Docker, no network) turns a step into an ESM bundle that loads in Node and runs its handler.
 * One function takes about 2 s; the template tests skip bundling for all ten.
 */
describe('function bundling', () => {
  it('bundles a step with the local esbuild into an ESM module whose handler runs', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'ami-rollout-bundle-'));
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bundle');
    new lambda.Function(stack, 'StartRollout', {
      code: functionCode('src/steps/start-rollout.ts'),
      handler: functionHandler,
      runtime: lambda.Runtime.NODEJS_24_X,
    });
    app.synth();
    const [asset] = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    if (!asset) throw new Error(`no bundled asset in ${outdir}`);
    expect(readdirSync(join(outdir, asset)).sort()).toEqual(['index.mjs', 'index.mjs.map']);

    process.env.AMI_ROLLOUT_STATE_MACHINE_ARN =
      'arn:aws:states:us-east-1:111122223333:stateMachine:ami-rollout';
    process.env.AWS_REGION ??= 'us-east-1';
    const bundle = (await import(pathToFileURL(join(outdir, asset, 'index.mjs')).href)) as {
      handler: (event: unknown) => Promise<unknown>;
    };
    expect(typeof bundle.handler).toBe('function');
    // The bundled zod schema refuses an event that is not an Image Builder state change, before any AWS call.
    await expect(bundle.handler({ source: 'aws.ec2' })).rejects.toMatchObject({ name: 'InvalidEventError' });
    delete process.env.AMI_ROLLOUT_STATE_MACHINE_ARN;
  });
});
