import { describe, expect, it } from 'vitest';
import { createShareAmi } from '../../src/steps/share-ami.ts';
import { harness, NEW_IMAGE, OLD_IMAGE, PARAM, preflighted, rolloutState } from './harness.ts';

const parameter = (h: Awaited<ReturnType<typeof harness>>, name: string) =>
  h.account.state.parameters.get(name)?.versions.map((v) => v.value);

describe('share_ami', () => {
  it('shares the image and its snapshots, protects the rollback image, then switches the parameters', async () => {
    const h = await harness();
    const rollout = await preflighted(h);
    const result = await createShareAmi(h.deps)({ rollout });

    const image = h.account.state.images.get(NEW_IMAGE)!;
    expect([...image.launchPermissions.userIds]).toEqual(['444455556666']);
    expect([...image.launchPermissions.organizationArns]).toEqual([
      'arn:aws:organizations::111122223333:organization/o-abcde12345',
    ]);
    expect([...image.launchPermissions.organizationalUnitArns]).toEqual([
      'arn:aws:organizations::111122223333:ou/o-abcde12345/ou-ab12-cdefgh34',
    ]);
    expect([
      ...h.account.state.snapshots.get('snap-0a1b2c3d4e5f60002')!.createVolumePermissions.userIds,
    ]).toEqual(['444455556666']);
    expect(h.account.state.images.get(OLD_IMAGE)!.deregistrationProtection).not.toBe('disabled');
    expect(parameter(h, `${PARAM}-previous`)).toEqual([OLD_IMAGE]);
    expect(parameter(h, PARAM)).toEqual([OLD_IMAGE, NEW_IMAGE]);
    expect(result).toEqual({ ...rollout, rollbackTargetImageId: OLD_IMAGE });
    const writes = h.logs.filter((l) => l['action'] === 'parameter-written').map((l) => l['parameter']);
    expect(writes).toEqual([`${PARAM}-previous`, PARAM]);
  });

  it('never overwrites {param}-previous with the new image when re-run with the same image', async () => {
    const h = await harness();
    const rollout = await preflighted(h);
    await createShareAmi(h.deps)({ rollout });
    const state = rolloutState(h.account);
    const again = await createShareAmi(h.deps)({ rollout });
    expect(parameter(h, `${PARAM}-previous`)).toEqual([OLD_IMAGE]);
    expect(again.rollbackTargetImageId).toBe(OLD_IMAGE);
    expect(rolloutState(h.account)).toEqual(state);
  });

  it('keeps the rollback target when a whole new rollout of the same image runs after a success', async () => {
    const h = await harness();
    await createShareAmi(h.deps)({ rollout: await preflighted(h) });
    // A second execution: preflight now finds the target at -previous.
    const second = await preflighted(h, NEW_IMAGE, 'rollout-2');
    expect(second).toMatchObject({
      rollbackTargetImageId: OLD_IMAGE,
      rollbackTargetSource: 'previous-parameter',
    });
    await createShareAmi(h.deps)({ rollout: second });
    expect(parameter(h, `${PARAM}-previous`)).toEqual([OLD_IMAGE]);
  });

  it('on a first rollout, saves the image the templates launch as the rollback target', async () => {
    const h = await harness({ fleet: (f) => ({ ...f, parameters: [] }) });
    await createShareAmi(h.deps)({ rollout: await preflighted(h) });
    expect(parameter(h, `${PARAM}-previous`)).toEqual([OLD_IMAGE]);
    expect(parameter(h, PARAM)).toEqual([NEW_IMAGE]);
  });

  it('shares nothing when no accounts, organizations or OUs are configured', async () => {
    const h = await harness({
      config: (c) => ({
        ...c,
        shareWithAccountIds: [],
        shareWithOrganizationArns: [],
        shareWithOrganizationalUnitArns: [],
      }),
    });
    await createShareAmi(h.deps)({ rollout: await preflighted(h) });
    expect(h.account.calls.map((c) => c.action)).not.toContain('ModifyImageAttribute');
    expect(parameter(h, PARAM)).toEqual([OLD_IMAGE, NEW_IMAGE]);
  });

  it('fails with ImageShareError when EC2 refuses to share a snapshot, before touching the parameters', async () => {
    const h = await harness();
    const rollout = await preflighted(h);
    h.account.state.snapshots.delete('snap-0a1b2c3d4e5f60002');
    await expect(createShareAmi(h.deps)({ rollout })).rejects.toMatchObject({
      name: 'ImageShareError',
      message: expect.stringContaining('snap-0a1b2c3d4e5f60002'),
    });
    expect(parameter(h, PARAM)).toEqual([OLD_IMAGE]);
    expect(parameter(h, `${PARAM}-previous`)).toBeUndefined();
  });

  it('fails with InvalidEventError without a rollout', async () => {
    const h = await harness();
    await expect(createShareAmi(h.deps)({ imageId: NEW_IMAGE })).rejects.toMatchObject({
      name: 'InvalidEventError',
    });
  });
});
