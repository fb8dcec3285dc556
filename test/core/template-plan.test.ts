import { describe, expect, it } from 'vitest';
import {
  planTemplateRollback,
  planTemplateUpdate,
  rollbackVersionDescription,
  rolloutVersionDescription,
} from '../../src/core/template-plan.ts';

const NEW = 'ami-00000000000000002';
const OLD = 'ami-00000000000000001';

describe('planTemplateUpdate', () => {
  it('creates a version from the current default', () => {
    expect(
      planTemplateUpdate({
        rolloutId: 'r1',
        imageId: NEW,
        defaultVersion: { versionNumber: 3, imageId: OLD },
      }),
    ).toEqual({
      kind: 'create',
      sourceVersion: 3,
    });
  });

  it('skips a template already on the image', () => {
    expect(
      planTemplateUpdate({
        rolloutId: 'r1',
        imageId: NEW,
        defaultVersion: { versionNumber: 4, imageId: NEW },
      }),
    ).toEqual({
      kind: 'skip',
      defaultVersion: 4,
    });
  });

  it('reuses the version this rollout created when a retry finds it not yet the default', () => {
    expect(
      planTemplateUpdate({
        rolloutId: 'r1',
        imageId: NEW,
        defaultVersion: { versionNumber: 3, imageId: OLD },
        latestVersion: { versionNumber: 4, imageId: NEW, description: rolloutVersionDescription('r1', NEW) },
      }),
    ).toEqual({ kind: 'set-default', version: 4 });
  });

  it("does not reuse another rollout's version", () => {
    expect(
      planTemplateUpdate({
        rolloutId: 'r1',
        imageId: NEW,
        defaultVersion: { versionNumber: 3, imageId: OLD },
        latestVersion: { versionNumber: 4, imageId: NEW, description: rolloutVersionDescription('r0', NEW) },
      }).kind,
    ).toBe('create');
  });
});

describe('planTemplateRollback', () => {
  const base = { rolloutId: 'r1', imageId: NEW, rollbackTargetImageId: OLD };

  it('points the default back to the recorded previous version', () => {
    expect(
      planTemplateRollback({
        ...base,
        currentDefault: { versionNumber: 4, imageId: NEW },
        previousVersion: { versionNumber: 3, imageId: OLD },
      }),
    ).toEqual({ kind: 'restore-default', version: 3 });
  });

  it('leaves a template the update never reached', () => {
    expect(
      planTemplateRollback({
        ...base,
        currentDefault: { versionNumber: 3, imageId: OLD },
        previousVersion: { versionNumber: 3, imageId: OLD },
      }).kind,
    ).toBe('unchanged');
  });

  it('leaves a template whose default launches some other image', () => {
    expect(
      planTemplateRollback({
        ...base,
        currentDefault: { versionNumber: 7, imageId: 'ami-00000000000000009' },
      }).kind,
    ).toBe('unchanged');
  });

  it('creates a version with the rollback image when the previous version is unknown or gone', () => {
    expect(planTemplateRollback({ ...base, currentDefault: { versionNumber: 4, imageId: NEW } })).toEqual({
      kind: 'create',
      sourceVersion: 4,
      imageId: OLD,
    });
  });

  it('reuses the rollback version it created when a retry finds it not yet the default', () => {
    expect(
      planTemplateRollback({
        ...base,
        currentDefault: { versionNumber: 4, imageId: NEW },
        latestVersion: { versionNumber: 5, imageId: OLD, description: rollbackVersionDescription('r1', OLD) },
      }),
    ).toEqual({ kind: 'restore-default', version: 5 });
  });
});
