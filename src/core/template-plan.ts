/**
 * Launch template changes. Versions are immutable, so moving to an image means a new version from the
 * current default; going back means pointing the default at the old number again.
 */

export interface TemplateVersionFacts {
  readonly versionNumber: number;
  readonly imageId?: string;
  readonly description?: string;
}

/** The marker the rollback step writes into the versions it creates. */
export const rollbackVersionDescription = (rolloutId: string, imageId: string): string =>
  `ami-rollout ${rolloutId} rollback: ${imageId}`.slice(0, 255);

/** The marker the update step writes into the versions it creates, so a retry can find them. */
export const rolloutVersionDescription = (rolloutId: string, imageId: string): string =>
  `ami-rollout ${rolloutId}: ${imageId}`.slice(0, 255);

export type TemplateUpdatePlan =
  /** The default version already launches the image. */
  | { readonly kind: 'skip'; readonly defaultVersion: number }
  /** A retry: this rollout already created the version but did not get to make it the default. */
  | { readonly kind: 'set-default'; readonly version: number }
  | { readonly kind: 'create'; readonly sourceVersion: number };

export function planTemplateUpdate(input: {
  readonly rolloutId: string;
  readonly imageId: string;
  readonly defaultVersion: TemplateVersionFacts;
  readonly latestVersion?: TemplateVersionFacts;
}): TemplateUpdatePlan {
  const { defaultVersion, latestVersion } = input;
  if (defaultVersion.imageId === input.imageId) {
    return { kind: 'skip', defaultVersion: defaultVersion.versionNumber };
  }
  if (
    latestVersion &&
    latestVersion.versionNumber > defaultVersion.versionNumber &&
    latestVersion.imageId === input.imageId &&
    latestVersion.description === rolloutVersionDescription(input.rolloutId, input.imageId)
  ) {
    return { kind: 'set-default', version: latestVersion.versionNumber };
  }
  return { kind: 'create', sourceVersion: defaultVersion.versionNumber };
}

export type TemplateRollbackPlan =
  | { readonly kind: 'unchanged'; readonly reason: string }
  | { readonly kind: 'restore-default'; readonly version: number }
  /** The recorded version is gone (or was never recorded): a new version with the rollback image. */
  | { readonly kind: 'create'; readonly sourceVersion: number; readonly imageId: string };

/**
 * Puts a template back. Only a template whose default launches the rolled-out image is touched: one that is
 * already on its old version (the update never reached it, or a rollback ran before) is left alone.
 */
export function planTemplateRollback(input: {
  /** The image being rolled back. */
  readonly imageId: string;
  readonly rollbackTargetImageId: string;
  readonly currentDefault: TemplateVersionFacts;
  readonly rolloutId: string;
  /** The default version before the rollout, as recorded, when it still exists. */
  readonly previousVersion?: TemplateVersionFacts;
  readonly latestVersion?: TemplateVersionFacts;
}): TemplateRollbackPlan {
  const { currentDefault, previousVersion, latestVersion } = input;
  if (previousVersion && currentDefault.versionNumber === previousVersion.versionNumber) {
    return { kind: 'unchanged', reason: `default is already version ${previousVersion.versionNumber}` };
  }
  if (currentDefault.imageId !== input.imageId) {
    return {
      kind: 'unchanged',
      reason: `default version ${currentDefault.versionNumber} launches ${currentDefault.imageId ?? 'no ImageId'}, not ${input.imageId}`,
    };
  }
  if (previousVersion && previousVersion.imageId !== input.imageId) {
    return { kind: 'restore-default', version: previousVersion.versionNumber };
  }
  if (
    latestVersion &&
    latestVersion.versionNumber > currentDefault.versionNumber &&
    latestVersion.imageId === input.rollbackTargetImageId &&
    latestVersion.description === rollbackVersionDescription(input.rolloutId, input.rollbackTargetImageId)
  ) {
    // A retry: this rollback already created the version but did not get to make it the default.
    return { kind: 'restore-default', version: latestVersion.versionNumber };
  }
  return {
    kind: 'create',
    sourceVersion: currentDefault.versionNumber,
    imageId: input.rollbackTargetImageId,
  };
}
