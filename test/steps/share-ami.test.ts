import { describe, expect, it } from 'vitest';
import { addImage } from '../../src/local-account/seed.ts';
import { createShareAmi } from '../../src/steps/share-ami.ts';
import {
  ACCOUNT,
  FOREIGN_IMAGE,
  harness,
  NEW_IMAGE,
  OLD_IMAGE,
  PARAM,
  preflighted,
  rolloutState,
} from './harness.ts';

/** The central image account: images built there are shared with this one. */
const CENTRAL_ACCOUNT = '999988887777';
const CENTRAL_ROLLBACK_IMAGE = 'ami-0a1b2c3d4e5f60006';

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

  it('rolls out when the rollback image belongs to another account, warning that it could not be protected', async () => {
    // The last rollout set {param} to an image built and owned by the central account.
    const h = await harness({
      fleet: (f) => ({ ...f, parameters: [{ name: PARAM, value: CENTRAL_ROLLBACK_IMAGE }] }),
      config: (c) => ({ ...c, trustedImageOwners: [ACCOUNT, CENTRAL_ACCOUNT] }),
    });
    const central = addImage(h.account, {
      imageId: CENTRAL_ROLLBACK_IMAGE,
      name: 'golden-central',
      ownerId: CENTRAL_ACCOUNT,
    });
    central.launchPermissions.userIds.add(ACCOUNT);
    const rollout = await preflighted(h);
    expect(rollout.rollbackTargetImageId).toBe(CENTRAL_ROLLBACK_IMAGE);

    const result = await createShareAmi(h.deps)({ rollout });

    expect(result.rollbackTargetImageId).toBe(CENTRAL_ROLLBACK_IMAGE);
    expect(parameter(h, `${PARAM}-previous`)).toEqual([CENTRAL_ROLLBACK_IMAGE]);
    expect(parameter(h, PARAM)).toEqual([CENTRAL_ROLLBACK_IMAGE, NEW_IMAGE]);
    expect(central.deregistrationProtection).toBe('disabled');
    const warning = h.logs.find((l) => l['action'] === 'rollback-image-not-protected');
    expect(warning).toMatchObject({
      level: 'warn',
      rollbackTargetImageId: CENTRAL_ROLLBACK_IMAGE,
      ownerId: CENTRAL_ACCOUNT,
      errorCode: 'AuthFailure',
      reason: expect.stringContaining(`only the owner (account ${CENTRAL_ACCOUNT})`),
    });
  });

  it("fails with ImageShareError naming the owner and the fix when asked to share another account's image", async () => {
    const h = await harness({ config: (c) => ({ ...c, trustedImageOwners: [ACCOUNT, CENTRAL_ACCOUNT] }) });
    h.account.state.images.get(FOREIGN_IMAGE)!.launchPermissions.userIds.add(ACCOUNT);
    const rollout = await preflighted(h, FOREIGN_IMAGE);
    await expect(createShareAmi(h.deps)({ rollout })).rejects.toMatchObject({
      name: 'ImageShareError',
      message: expect.stringMatching(
        new RegExp(
          `owned by account ${CENTRAL_ACCOUNT}.*share it from account ${CENTRAL_ACCOUNT}, or remove shareWithAccountIds`,
        ),
      ),
    });
    expect(parameter(h, PARAM)).toEqual([OLD_IMAGE]);
    expect(parameter(h, `${PARAM}-previous`)).toBeUndefined();
  });

  it("rolls out another account's image without sharing it when no share targets are configured", async () => {
    const h = await harness({
      config: (c) => ({
        ...c,
        trustedImageOwners: [ACCOUNT, CENTRAL_ACCOUNT],
        shareWithAccountIds: [],
        shareWithOrganizationArns: [],
        shareWithOrganizationalUnitArns: [],
      }),
    });
    h.account.state.images.get(FOREIGN_IMAGE)!.launchPermissions.userIds.add(ACCOUNT);
    await createShareAmi(h.deps)({ rollout: await preflighted(h, FOREIGN_IMAGE) });
    const actions = h.account.calls.map((c) => c.action);
    expect(actions).not.toContain('ModifyImageAttribute');
    expect(actions).not.toContain('ModifySnapshotAttribute');
    expect(parameter(h, PARAM)).toEqual([OLD_IMAGE, FOREIGN_IMAGE]);
  });

  it('fails with InvalidEventError without a rollout', async () => {
    const h = await harness();
    await expect(createShareAmi(h.deps)({ imageId: NEW_IMAGE })).rejects.toMatchObject({
      name: 'InvalidEventError',
    });
  });

  it('keeps an aws:ec2:image parameter typed, and creates {param}-previous with the same type', async () => {
    const h = await harness({
      fleet: (f) => ({ ...f, parameters: [{ name: PARAM, value: OLD_IMAGE, dataType: 'aws:ec2:image' }] }),
    });
    await createShareAmi(h.deps)({ rollout: await preflighted(h) });
    for (const name of [PARAM, `${PARAM}-previous`]) {
      const versions = h.account.state.parameters.get(name)!.versions;
      expect(versions.map((v) => [v.value, v.dataType]).at(-1), name).toEqual([
        name === PARAM ? NEW_IMAGE : OLD_IMAGE,
        'aws:ec2:image',
      ]);
    }
  });

  it('shares each snapshot with one account per call (ec2:Add/userId names one account)', async () => {
    const h = await harness({
      config: (c) => ({ ...c, shareWithAccountIds: ['444455556666', '777788889999'] }),
    });
    const before = h.account.calls.length;
    await createShareAmi(h.deps)({ rollout: await preflighted(h) });
    const snapshotCalls = h.account.calls
      .slice(before)
      .filter((c) => c.action === 'ModifySnapshotAttribute' && !c.errorCode);
    expect(snapshotCalls).toHaveLength(2);
    expect([
      ...h.account.state.snapshots.get('snap-0a1b2c3d4e5f60002')!.createVolumePermissions.userIds,
    ]).toEqual(['444455556666', '777788889999']);
  });
});
