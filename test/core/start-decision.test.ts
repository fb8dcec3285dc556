import { describe, expect, it } from 'vitest';
import { decideStart, rolloutExecutionInput, rolloutExecutionName } from '../../src/core/start-decision.ts';

const IMAGE = 'ami-0a1b2c3d4e5f60002';
const OTHER = 'ami-0a1b2c3d4e5f60009';
const arn = (name: string) => `arn:aws:states:us-east-1:111122223333:execution:ami-rollout:${name}`;

describe('decideStart', () => {
  it('starts rollout-<imageId> when nothing runs and the image was never rolled out', () => {
    expect(decideStart({ imageId: IMAGE, running: [] })).toEqual({
      kind: 'start',
      executionName: `rollout-${IMAGE}`,
    });
  });

  it("treats the image's own running execution as already running (a repeated delivery)", () => {
    const own = { executionArn: arn(`rollout-${IMAGE}`), name: `rollout-${IMAGE}`, status: 'RUNNING' };
    expect(decideStart({ imageId: IMAGE, imageExecution: own, running: [own] })).toMatchObject({
      kind: 'already-running',
      executionArn: own.executionArn,
    });
  });

  it('never starts an image whose rollout ended, whatever the outcome', () => {
    for (const status of ['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT']) {
      const own = { executionArn: arn(`rollout-${IMAGE}`), name: `rollout-${IMAGE}`, status };
      const decision = decideStart({ imageId: IMAGE, imageExecution: own, running: [] });
      expect(decision).toMatchObject({ kind: 'already-attempted', status });
      expect(decision.kind === 'already-attempted' && decision.message).toContain(`ended ${status}`);
    }
  });

  it('refuses while another rollout runs, naming it and when it started', () => {
    const other = {
      executionArn: arn(`rollout-${OTHER}`),
      name: `rollout-${OTHER}`,
      status: 'RUNNING',
      startDate: new Date('2026-11-26T09:00:00Z'),
    };
    const decision = decideStart({ imageId: IMAGE, running: [other] });
    expect(decision).toMatchObject({ kind: 'refused', runningExecutionArn: other.executionArn });
    expect(decision.kind === 'refused' && decision.message).toBe(
      `refused to roll out ${IMAGE}: rollout rollout-${OTHER} is running since 2026-11-26T09:00:00.000Z (${other.executionArn}); one rollout at a time. Wait for it to finish (or stop it), then start ${IMAGE} again`,
    );
  });

  it('reports an image already attempted before looking at other running rollouts', () => {
    const own = { executionArn: arn(`rollout-${IMAGE}`), name: `rollout-${IMAGE}`, status: 'FAILED' };
    const other = { executionArn: arn('rehearsal-1'), name: 'rehearsal-1', status: 'RUNNING' };
    expect(decideStart({ imageId: IMAGE, imageExecution: own, running: [other] }).kind).toBe(
      'already-attempted',
    );
  });
});

describe('rolloutExecutionInput', () => {
  it('is the same for the same image, so StartExecution is idempotent while the rollout runs', () => {
    expect(rolloutExecutionInput(IMAGE)).toEqual({ rolloutId: rolloutExecutionName(IMAGE), imageId: IMAGE });
    expect(JSON.stringify(rolloutExecutionInput(IMAGE))).toBe(JSON.stringify(rolloutExecutionInput(IMAGE)));
  });
});
