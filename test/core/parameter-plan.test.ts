import { describe, expect, it } from 'vitest';
import { planParameterRollback, planParameterSwitch } from '../../src/core/parameter-plan.ts';

const P = '/ami-rollout/golden-ami';
const NEW = 'ami-00000000000000002';
const OLD = 'ami-00000000000000001';

describe('planParameterSwitch', () => {
  it('saves the current image at -previous, then writes the new one', () => {
    expect(
      planParameterSwitch({
        parameterName: P,
        imageId: NEW,
        rollbackTargetImageId: OLD,
        parameterValue: OLD,
      }),
    ).toEqual({
      writes: [
        { name: `${P}-previous`, value: OLD },
        { name: P, value: NEW },
      ],
      rollbackTargetImageId: OLD,
    });
  });

  it('on a first rollout, saves the rollback target preflight found', () => {
    expect(
      planParameterSwitch({ parameterName: P, imageId: NEW, rollbackTargetImageId: OLD }).writes,
    ).toEqual([
      { name: `${P}-previous`, value: OLD },
      { name: P, value: NEW },
    ]);
  });

  it('never overwrites -previous with the new image when re-run with the same image', () => {
    const plan = planParameterSwitch({
      parameterName: P,
      imageId: NEW,
      rollbackTargetImageId: OLD,
      parameterValue: NEW,
      previousParameterValue: OLD,
    });
    expect(plan).toEqual({ writes: [], rollbackTargetImageId: OLD });
  });

  it('repairs a missing -previous when the parameter already holds the new image', () => {
    expect(
      planParameterSwitch({ parameterName: P, imageId: NEW, rollbackTargetImageId: OLD, parameterValue: NEW })
        .writes,
    ).toEqual([{ name: `${P}-previous`, value: OLD }]);
  });

  it('skips rewriting -previous when it already holds the value (a retry after a crash between the writes)', () => {
    expect(
      planParameterSwitch({
        parameterName: P,
        imageId: NEW,
        rollbackTargetImageId: OLD,
        parameterValue: OLD,
        previousParameterValue: OLD,
      }).writes,
    ).toEqual([{ name: P, value: NEW }]);
  });
});

describe('planParameterRollback', () => {
  it('puts the parameter back to the rollback target', () => {
    expect(
      planParameterRollback({ parameterName: P, rollbackTargetImageId: OLD, parameterValue: NEW }),
    ).toEqual({
      name: P,
      value: OLD,
    });
  });

  it('does nothing when the parameter already holds the target', () => {
    expect(
      planParameterRollback({ parameterName: P, rollbackTargetImageId: OLD, parameterValue: OLD }),
    ).toBeUndefined();
  });
});
