/**
 * The image parameters: `{param}` holds the image the fleet should run, `{param}-previous` the image to go
 * back to. SSM has no compare-and-swap, so the plans are decided from a fresh read and are safe to re-run.
 */

export interface ParameterWrite {
  readonly name: string;
  readonly value: string;
}

export interface ParameterFacts {
  readonly parameterName: string;
  readonly imageId: string;
  /** The rollback target preflight chose. */
  readonly rollbackTargetImageId: string;
  readonly parameterValue?: string;
  readonly previousParameterValue?: string;
}

export interface ParameterSwitchPlan {
  /** Writes in order: `-previous` before `{param}`, so a crash between them leaves a rollback target. */
  readonly writes: readonly ParameterWrite[];
  /** The image `{param}-previous` holds once the plan ran. */
  readonly rollbackTargetImageId: string;
}

export const previousParameterName = (parameterName: string): string => `${parameterName}-previous`;

/**
 * Moves `{param}` to the new image and saves what it held at `{param}-previous`. Once `{param}` holds the new
 * image, `-previous` is never touched again: copying `{param}` then would overwrite the rollback target with
 * the new image itself.
 */
export function planParameterSwitch(facts: ParameterFacts): ParameterSwitchPlan {
  const previousName = previousParameterName(facts.parameterName);
  if (facts.parameterValue === facts.imageId) {
    if (facts.previousParameterValue && facts.previousParameterValue !== facts.imageId) {
      return { writes: [], rollbackTargetImageId: facts.previousParameterValue };
    }
    return {
      writes: [{ name: previousName, value: facts.rollbackTargetImageId }],
      rollbackTargetImageId: facts.rollbackTargetImageId,
    };
  }
  // First rollout: no {param} yet, so the target preflight found on the templates is what we go back to.
  const target = facts.parameterValue ?? facts.rollbackTargetImageId;
  const writes: ParameterWrite[] = [];
  if (facts.previousParameterValue !== target) writes.push({ name: previousName, value: target });
  writes.push({ name: facts.parameterName, value: facts.imageId });
  return { writes, rollbackTargetImageId: target };
}

/** Puts `{param}` back to the rollback target, unless it already holds it. */
export function planParameterRollback(input: {
  readonly parameterName: string;
  readonly rollbackTargetImageId: string;
  readonly parameterValue?: string;
}): ParameterWrite | undefined {
  if (input.parameterValue === input.rollbackTargetImageId) return undefined;
  return { name: input.parameterName, value: input.rollbackTargetImageId };
}

/**
 * Puts `{param}-previous` back to what it held before the rollout, once `{param}` goes back to the image it held
 * then: the parameters end as they were before the rollout, so the next rollout's rollback target (and a rollback
 * after it) is the image before. Nothing when the rollout recorded nothing (a rollout from before that record, or
 * none was there), when `{param}` goes back elsewhere, or when `-previous` holds it already.
 */
export function planPreviousParameterRollback(input: {
  readonly parameterName: string;
  readonly rollbackTargetImageId: string;
  readonly before: { readonly value?: string; readonly previousValue?: string } | undefined;
  readonly previousParameterValue?: string;
}): ParameterWrite | undefined {
  const { before } = input;
  if (!before?.previousValue || before.value !== input.rollbackTargetImageId) return undefined;
  if (input.previousParameterValue === before.previousValue) return undefined;
  return { name: previousParameterName(input.parameterName), value: before.previousValue };
}
