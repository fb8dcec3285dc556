import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../src/core/rollout.ts';
import { createRollbackAmi } from '../../src/steps/rollback-ami.ts';
import { createShareAmi } from '../../src/steps/share-ami.ts';
import { createUpdateLaunchTemplates } from '../../src/steps/update-launch-templates.ts';
import {
  BACKEND_TEMPLATE,
  harness,
  NEW_IMAGE,
  OLD_IMAGE,
  PARAM,
  preflighted,
  rolloutState,
  WEB_TEMPLATE,
  type Harness,
} from './harness.ts';

async function forward(h: Harness): Promise<Rollout> {
  const shared = await createShareAmi(h.deps)({ rollout: await preflighted(h) });
  return createUpdateLaunchTemplates(h.deps)({ rollout: shared });
}

const defaults = (h: Harness) =>
  [WEB_TEMPLATE, BACKEND_TEMPLATE].map((id) => {
    const t = h.account.state.launchTemplates.get(id)!;
    return [t.defaultVersion, t.versions.get(t.defaultVersion)?.data.ImageId];
  });
const parameterValue = (h: Harness) => h.account.state.parameters.get(PARAM)?.versions.at(-1)?.value;

describe('rollback_ami', () => {
  it('points every template back to its previous default version and puts the parameter back', async () => {
    const h = await harness();
    const rollout = await forward(h);
    expect(defaults(h)).toEqual([
      [2, NEW_IMAGE],
      [2, NEW_IMAGE],
    ]);
    const result = await createRollbackAmi(h.deps)({
      rollout,
      error: { Error: 'RefreshFailed', Cause: 'web failed' },
    });
    expect(defaults(h)).toEqual([
      [1, OLD_IMAGE],
      [1, OLD_IMAGE],
    ]);
    expect(parameterValue(h)).toBe(OLD_IMAGE);
    expect(result.rollback).toEqual({
      rollbackTargetImageId: OLD_IMAGE,
      templates: [
        { launchTemplateId: WEB_TEMPLATE, action: 'restored-default', defaultVersion: 1 },
        { launchTemplateId: BACKEND_TEMPLATE, action: 'restored-default', defaultVersion: 1 },
      ],
      parameter: 'restored',
      previousParameter: 'unchanged',
    });
  });

  it('is safe to run twice', async () => {
    const h = await harness();
    const rollout = await forward(h);
    await createRollbackAmi(h.deps)({ rollout });
    const state = rolloutState(h.account);
    const second = await createRollbackAmi(h.deps)({ rollout });
    expect(rolloutState(h.account)).toEqual(state);
    expect(second.rollback.templates.map((t) => t.action)).toEqual(['unchanged', 'unchanged']);
    expect(second.rollback.parameter).toBe('unchanged');
  });

  it('after only share_ami ran, puts the parameter back and leaves the templates alone', async () => {
    const h = await harness();
    const shared = await createShareAmi(h.deps)({ rollout: await preflighted(h) });
    const result = await createRollbackAmi(h.deps)({ rollout: shared });
    expect(parameterValue(h)).toBe(OLD_IMAGE);
    expect(result.rollback.templates.map((t) => t.action)).toEqual(['unchanged', 'unchanged']);
  });

  it('without a recorded previous version, creates a version with the rollback image read from {param}-previous', async () => {
    const h = await harness();
    await forward(h);
    const result = await createRollbackAmi(h.deps)({
      rollout: { rolloutId: 'rollout-1', imageId: NEW_IMAGE },
    });
    expect(defaults(h)).toEqual([
      [3, OLD_IMAGE],
      [3, OLD_IMAGE],
    ]);
    expect(result.rollback.templates[0]).toMatchObject({
      action: 'created-version',
      defaultVersion: 3,
      detail: 'no previous version recorded',
    });
    // And running it again creates nothing more.
    const state = rolloutState(h.account);
    await createRollbackAmi(h.deps)({ rollout: { rolloutId: 'rollout-1', imageId: NEW_IMAGE } });
    expect(rolloutState(h.account)).toEqual(state);
  });

  it('creates a version with the rollback image when the recorded version is gone', async () => {
    const h = await harness();
    const rollout = await forward(h);
    h.account.state.launchTemplates.get(WEB_TEMPLATE)!.versions.delete(1);
    const result = await createRollbackAmi(h.deps)({ rollout });
    expect(result.rollback.templates[0]).toMatchObject({
      action: 'created-version',
      detail: 'version 1 is gone',
    });
    expect(defaults(h)[0]).toEqual([3, OLD_IMAGE]);
  });

  it('fails with NoRollbackTargetError when nothing names an image to go back to', async () => {
    const h = await harness({ fleet: (f) => ({ ...f, parameters: [] }) });
    await expect(
      createRollbackAmi(h.deps)({ rollout: { rolloutId: 'r', imageId: NEW_IMAGE } }),
    ).rejects.toMatchObject({
      name: 'NoRollbackTargetError',
    });
  });

  it('restores what it can and fails with RollbackError listing what is left', async () => {
    const h = await harness();
    const rollout = await forward(h);
    h.account.state.launchTemplates.delete(WEB_TEMPLATE);
    const error: unknown = await createRollbackAmi(h.deps)({ rollout }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RollbackError', message: expect.stringContaining(WEB_TEMPLATE) });
    expect(h.account.state.launchTemplates.get(BACKEND_TEMPLATE)?.defaultVersion).toBe(1);
    expect(parameterValue(h)).toBe(OLD_IMAGE);
  });

  it('puts an aws:ec2:image parameter back as aws:ec2:image', async () => {
    const h = await harness({
      fleet: (f) => ({ ...f, parameters: [{ name: PARAM, value: OLD_IMAGE, dataType: 'aws:ec2:image' }] }),
    });
    const rollout = await forward(h);
    await createRollbackAmi(h.deps)({ rollout });
    const latest = h.account.state.parameters.get(PARAM)!.versions.at(-1)!;
    expect([latest.value, latest.dataType]).toEqual([OLD_IMAGE, 'aws:ec2:image']);
    expect(h.logs.find((l) => l.action === 'parameter-restored')).toMatchObject({
      dataType: 'aws:ec2:image',
    });
  });
});
