import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CONFIG_ENV } from '../../src/config/load.ts';
import type { StepDependencies } from '../../src/steps/dependencies.ts';
import { baseConfig } from './harness.ts';

/** A step that records the dependencies it was built with and answers with the event. */
function recordingStep<C extends 'ec2' | 'ssm'>() {
  const built: StepDependencies<C>[] = [];
  const create = (deps: StepDependencies<C>) => {
    built.push(deps);
    return (event: unknown) => Promise.resolve(event);
  };
  return { built, create };
}

/** A new Lambda container: the module, with its per-container clients and configuration, loaded afresh. */
async function freshContainer() {
  vi.resetModules();
  return import('../../src/steps/dependencies.ts');
}

describe('runInLambda', () => {
  beforeEach(() => {
    process.env[CONFIG_ENV] = JSON.stringify(baseConfig());
  });
  afterEach(() => {
    delete process.env[CONFIG_ENV];
  });

  it('builds a step once per container, with the configuration and only the clients it names', async () => {
    const { runInLambda } = await freshContainer();
    const step = recordingStep<'ec2'>();
    await expect(runInLambda(step.create, { ec2: EC2Client }, 'first')).resolves.toBe('first');
    await expect(runInLambda(step.create, { ec2: EC2Client }, 'second')).resolves.toBe('second');

    expect(step.built).toHaveLength(1);
    const [deps] = step.built;
    expect(Object.keys(deps ?? {}).sort()).toEqual(['config', 'ec2']);
    expect(deps?.ec2).toBeInstanceOf(EC2Client);
    expect(deps?.config.amiParameterName).toBe(baseConfig().amiParameterName);
  });

  it('creates each client once per container, shared by the steps that name it', async () => {
    const { runInLambda } = await freshContainer();
    const first = recordingStep<'ec2'>();
    const second = recordingStep<'ec2' | 'ssm'>();
    await runInLambda(first.create, { ec2: EC2Client }, {});
    await runInLambda(second.create, { ec2: EC2Client, ssm: SSMClient }, {});

    expect(second.built[0]?.ec2).toBe(first.built[0]?.ec2);
    expect(second.built[0]?.ssm).toBeInstanceOf(SSMClient);
    expect(second.built[0]?.config).toBe(first.built[0]?.config);
  });

  it('gives its clients the pipeline retry settings', async () => {
    const { runInLambda } = await freshContainer();
    const step = recordingStep<'ssm'>();
    await runInLambda(step.create, { ssm: SSMClient }, {});
    const ssm = step.built[0]?.ssm;
    expect(await ssm?.config.maxAttempts()).toBe(6);
    const retryMode = ssm?.config.retryMode;
    expect(typeof retryMode === 'function' ? await retryMode() : retryMode).toBe('standard');
  });

  it('fails with ConfigError naming AMI_ROLLOUT_CONFIG when it is not set, and builds nothing', async () => {
    const { runInLambda } = await freshContainer();
    delete process.env[CONFIG_ENV];
    const step = recordingStep<'ssm'>();
    await expect(runInLambda(step.create, { ssm: SSMClient }, {})).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining(CONFIG_ENV) as string,
    });
    expect(step.built).toHaveLength(0);
  });
});
