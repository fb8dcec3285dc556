/**
 * Where the fleet goes back to if the rollout fails, decided before anything changes. A rollout that cannot
 * be undone does not start.
 */

export interface RollbackTargetFacts {
  /** The image being rolled out. */
  readonly imageId: string;
  /** `{param}`, when it exists. */
  readonly parameterValue?: string;
  /** `{param}-previous`, when it exists. */
  readonly previousParameterValue?: string;
  /** The image of each configured template's current default version. */
  readonly templateImageIds: readonly (string | undefined)[];
}

export type RollbackTargetDecision =
  | {
      readonly kind: 'found';
      readonly rollbackTargetImageId: string;
      readonly source: 'parameter' | 'previous-parameter' | 'launch-templates';
    }
  | { readonly kind: 'none'; readonly reason: string };

export function decideRollbackTarget(facts: RollbackTargetFacts): RollbackTargetDecision {
  const { imageId, parameterValue, previousParameterValue } = facts;
  if (parameterValue && parameterValue !== imageId) {
    return { kind: 'found', rollbackTargetImageId: parameterValue, source: 'parameter' };
  }
  if (parameterValue === imageId) {
    // The image is already current (a re-run, or a retry after share_ami): the target was saved at -previous.
    if (previousParameterValue && previousParameterValue !== imageId) {
      return { kind: 'found', rollbackTargetImageId: previousParameterValue, source: 'previous-parameter' };
    }
  }
  const templateImages = new Set(facts.templateImageIds.filter((id) => id !== imageId));
  const missing = facts.templateImageIds.some((id) => id === undefined || id === '');
  if (!missing && templateImages.size === 1) {
    const [only] = [...templateImages];
    if (only) return { kind: 'found', rollbackTargetImageId: only, source: 'launch-templates' };
  }
  const seen = [...new Set(facts.templateImageIds.map((id) => id ?? '(no ImageId)'))].join(', ');
  if (parameterValue === imageId) {
    return {
      kind: 'none',
      reason: `the parameter already holds ${imageId} and its -previous parameter holds no other image; the templates' default versions launch ${seen}`,
    };
  }
  if (missing) {
    return {
      kind: 'none',
      reason: `the parameter does not exist and not every template's default version has an ImageId (${seen})`,
    };
  }
  if (templateImages.size === 0) {
    return {
      kind: 'none',
      reason: `the parameter does not exist and every template already launches ${imageId}, so there is no older image to return to`,
    };
  }
  return {
    kind: 'none',
    reason: `the parameter does not exist and the templates' default versions launch different images (${seen}); set the parameter to the image the fleet should return to`,
  };
}
