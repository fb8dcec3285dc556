import { describe, expect, it } from 'vitest';
import { decideRollbackTarget } from '../../src/core/rollback-target.ts';

const NEW = 'ami-00000000000000002';
const OLD = 'ami-00000000000000001';
const OTHER = 'ami-00000000000000003';

describe('decideRollbackTarget', () => {
  it('returns to the image the parameter holds', () => {
    expect(decideRollbackTarget({ imageId: NEW, parameterValue: OLD, templateImageIds: [OTHER] })).toEqual({
      kind: 'found',
      rollbackTargetImageId: OLD,
      source: 'parameter',
    });
  });

  it('uses -previous when the parameter already holds the new image (a re-run)', () => {
    expect(
      decideRollbackTarget({
        imageId: NEW,
        parameterValue: NEW,
        previousParameterValue: OLD,
        templateImageIds: [NEW],
      }),
    ).toEqual({ kind: 'found', rollbackTargetImageId: OLD, source: 'previous-parameter' });
  });

  it('on a first rollout, uses the one image every template launches', () => {
    expect(decideRollbackTarget({ imageId: NEW, templateImageIds: [OLD, OLD] })).toEqual({
      kind: 'found',
      rollbackTargetImageId: OLD,
      source: 'launch-templates',
    });
  });

  it('on a first rollout, ignores templates already on the new image', () => {
    expect(decideRollbackTarget({ imageId: NEW, templateImageIds: [OLD, NEW] })).toMatchObject({
      kind: 'found',
      rollbackTargetImageId: OLD,
    });
  });

  it('fails when the templates disagree', () => {
    const decision = decideRollbackTarget({ imageId: NEW, templateImageIds: [OLD, OTHER] });
    expect(decision.kind).toBe('none');
    expect(decision.kind === 'none' && decision.reason).toContain('different images');
  });

  it('fails when a template has no ImageId', () => {
    expect(decideRollbackTarget({ imageId: NEW, templateImageIds: [OLD, undefined] }).kind).toBe('none');
  });

  it('fails when every template is already on the new image and no parameter exists', () => {
    const decision = decideRollbackTarget({ imageId: NEW, templateImageIds: [NEW, NEW] });
    expect(decision.kind === 'none' && decision.reason).toContain('no older image');
  });

  it('fails when the parameter holds the new image and nothing else names an older one', () => {
    expect(
      decideRollbackTarget({
        imageId: NEW,
        parameterValue: NEW,
        previousParameterValue: NEW,
        templateImageIds: [NEW],
      }).kind,
    ).toBe('none');
  });
});
