import { describe, expect, it } from 'vitest';
import type { LedgerGroup, LedgerRolloutItem } from '../../src/core/ledger-records.ts';
import {
  decideRollback,
  refuseChangedAccount,
  rollbackExecutionName,
  rollbackRestart,
} from '../../src/core/rollback-request.ts';

const item: LedgerRolloutItem = {
  rolloutId: 'rollout-ami-0a1b2c3d4e5f60002',
  imageId: 'ami-0a1b2c3d4e5f60002',
  executionArn: 'arn:aws:states:us-east-1:111122223333:execution:ami-rollout:rollout-ami-0a1b2c3d4e5f60002',
  createdAt: '2026-12-01T10:00:00.000Z',
  rollbackTargetImageId: 'ami-0a1b2c3d4e5f60001',
  groupCount: 2,
  waveCount: 1,
  forwardCursor: 2,
  rollbackCursor: 0,
  phase: 'ended',
  outcome: 'SUCCEEDED',
};
const newest = {
  rolloutId: item.rolloutId,
  executionArn: item.executionArn,
  imageId: item.imageId,
  createdAt: item.createdAt,
};

describe('decideRollback', () => {
  it('rolls back a rollout that succeeded and is the newest', () => {
    expect(decideRollback({ item, executionStatus: 'SUCCEEDED', newest })).toEqual({
      kind: 'rollback',
      after: 'SUCCEEDED',
    });
  });

  it('says STOPPED for an execution someone stopped', () => {
    const stopped = { ...item, phase: 'forward' as const, outcome: undefined };
    expect(decideRollback({ item: stopped, executionStatus: 'ABORTED', newest })).toEqual({
      kind: 'rollback',
      after: 'STOPPED',
    });
  });

  it('refuses when a newer rollout ran since, naming it', () => {
    const newer = { ...newest, rolloutId: 'rollout-ami-0a1b2c3d4e5f60003', imageId: 'ami-0a1b2c3d4e5f60003' };
    const decision = decideRollback({ item, executionStatus: 'SUCCEEDED', newest: newer });
    expect(decision.kind).toBe('refuse');
    expect(decision.kind === 'refuse' && decision.reason).toMatch(
      /a newer rollout has run since: rollout-ami-0a1b2c3d4e5f60003 \(image ami-0a1b2c3d4e5f60003/,
    );
  });

  it('refuses a running rollout, naming abort', () => {
    const decision = decideRollback({
      item: { ...item, outcome: undefined },
      executionStatus: 'RUNNING',
      newest,
    });
    expect(decision.kind === 'refuse' && decision.reason).toMatch(/still running: .*`ami-rollout abort /);
  });

  it('finds its own recorded run again (a retried Preflight)', () => {
    const own = 'arn:aws:states:us-east-1:111122223333:execution:ami-rollout:x-rollback-1';
    const taken = {
      ...item,
      rollbackRun: { executionArn: own, requestedAt: 'now', reason: 'bad', after: 'SUCCEEDED' },
    };
    expect(decideRollback({ item: taken, executionStatus: 'SUCCEEDED', newest, own })).toEqual({
      kind: 'resume',
    });
  });
});

describe('refuseChangedAccount', () => {
  const facts = { item, parameterName: '/golden', rollbackImageState: 'available' };
  it('goes on when {param} holds the image or its rollback target and the image is there', () => {
    expect(refuseChangedAccount({ ...facts, parameterValue: item.imageId })).toBeUndefined();
    expect(refuseChangedAccount({ ...facts, parameterValue: item.rollbackTargetImageId })).toBeUndefined();
  });
  it('refuses when {param} moved elsewhere, or the rollback image is gone', () => {
    expect(refuseChangedAccount({ ...facts, parameterValue: 'ami-0a1b2c3d4e5f60009' })?.kind).toBe(
      'parameter-moved',
    );
    expect(
      refuseChangedAccount({ ...facts, parameterValue: item.imageId, rollbackImageState: undefined }),
    ).toMatchObject({ kind: 'image-gone', reason: expect.stringMatching(/ami-0a1b2c3d4e5f60001 is gone/) });
  });
});

describe('rollbackRestart', () => {
  const group = (index: number, status: 'ROLLED_BACK' | 'FAILED' | 'PENDING'): LedgerGroup => ({
    autoScalingGroupName: `g${index}`,
    launchTemplateId: 'lt-1',
    previousLaunchTemplateVersion: '1',
    index,
    wave: 0,
    status: 'SUCCEEDED',
    rollback: { launchTemplateVersion: 1, reason: 'r', status },
  });
  it('tries failed rollback refreshes again from the first group not back', () => {
    const restart = rollbackRestart({ rollbackOrder: [1, 0] }, [group(0, 'PENDING'), group(1, 'FAILED')]);
    expect(restart.rollbackCursor).toBe(0);
    expect(restart.retried.map((g) => [g.index, g.rollback?.status])).toEqual([[1, 'PENDING']]);
    expect(
      rollbackRestart({ rollbackOrder: [1, 0] }, [group(0, 'PENDING'), group(1, 'ROLLED_BACK')]),
    ).toMatchObject({ rollbackCursor: 1, retried: [] });
  });
  it('starts from the plan when no rollback was planned', () => {
    expect(rollbackRestart({}, [])).toEqual({ retried: [], rollbackCursor: 0 });
  });
});

describe('rollbackExecutionName', () => {
  it('fits 80 characters and has no colon', () => {
    const name = rollbackExecutionName(`a:${'x'.repeat(90)}`, new Date('2026-12-02T21:40:05.123Z'));
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).not.toContain(':');
    expect(name).toMatch(/-rollback-20261202214005$/);
  });
});
