import * as z from 'zod';

/**
 * The rollout record the state machine carries from state to state (at `$.rollout`): every step reads it and
 * returns the next version of it, so a step needs nothing but its event, and a rollback (now or in a later
 * execution) knows exactly what the forward steps changed.
 */

const imageId = z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id such as ami-0123456789abcdef0');
const version = z.number().int().min(1);

/** One launch template as the rollout found it (preflight) and left it (update launch templates). */
export const templateRecordSchema = z.object({
  launchTemplateId: z.string().min(1),
  launchTemplateName: z.string().optional(),
  /** The default version before the rollout: what a rollback points the template back to. */
  previousVersion: version,
  /** The image that default version launched. */
  previousImageId: z.string().optional(),
  /** The default version after the update step; absent until the update step has run for this template. */
  newVersion: version.optional(),
  /** False when the template was already on the image and the update step left it alone. */
  changed: z.boolean().optional(),
});
export type TemplateRecord = z.infer<typeof templateRecordSchema>;

/** One Auto Scaling group as preflight found it, and the pin the update step gave it. */
export const groupRecordSchema = z.object({
  autoScalingGroupName: z.string().min(1),
  launchTemplateId: z.string().min(1),
  /** The version the group itself asks for before the rollout (`$Default`, `$Latest` or a number). */
  previousLaunchTemplateVersion: z.string().min(1),
  /**
   * The numbered version the update step pinned the group to (a group on `$Default`/`$Latest`), before any
   * template's default moved: what its instances ran then. Absent for a group on a number.
   */
  pinnedVersion: version.optional(),
});
export type GroupRecord = z.infer<typeof groupRecordSchema>;

export const refreshOutcomeSchema = z.enum(['IN_PROGRESS', 'SUCCEEDED', 'FAILED']);
export type RefreshOutcome = z.infer<typeof refreshOutcomeSchema>;

/** The instance refresh the rollout started on one group, and what the last status check saw. */
export const refreshRecordSchema = z.object({
  groupIndex: z.number().int().min(0),
  autoScalingGroupName: z.string().min(1),
  instanceRefreshId: z.string().min(1),
  launchTemplateId: z.string().min(1),
  /** The numbered version the refresh moves the group to. */
  launchTemplateVersion: version,
  /** ISO time the refresh started (from Auto Scaling), for the refresh timeout. */
  startedAt: z.string().optional(),
  /** True when the step found this refresh already running (a retry after a lost response) instead of starting it. */
  adopted: z.boolean().optional(),
  status: z.string().optional(),
  outcome: refreshOutcomeSchema.optional(),
  percentageComplete: z.number().optional(),
  instancesToUpdate: z.number().optional(),
  statusReason: z.string().optional(),
  /** Auto Scaling rolled the group back itself (AutoRollback or RollbackInstanceRefresh). */
  nativeRollback: z.boolean().optional(),
  timedOut: z.boolean().optional(),
});
export type RefreshRecord = z.infer<typeof refreshRecordSchema>;

/** What the rollback step did, for the notification and the audit trail. */
export const rollbackRecordSchema = z.object({
  rollbackTargetImageId: z.string(),
  templates: z.array(
    z.object({
      launchTemplateId: z.string(),
      action: z.enum(['unchanged', 'restored-default', 'created-version', 'failed']),
      defaultVersion: version.optional(),
      detail: z.string().optional(),
    }),
  ),
  parameter: z.enum(['unchanged', 'restored']),
  /** `{param}-previous` put back to what it held before the rollout (absent: left as it was). */
  previousParameter: z.enum(['unchanged', 'restored']).optional(),
});
export type RollbackRecord = z.infer<typeof rollbackRecordSchema>;

/** The instances' rollback (see fleet-rollback.ts): every group this rollout refreshed, refreshed back. */
export const fleetRollbackGroupSchema = z.object({
  autoScalingGroupName: z.string().min(1),
  launchTemplateId: z.string().min(1),
  /** The numbered version the group's instances ran before the rollout. */
  launchTemplateVersion: version,
  /** Why the group is rolled back, for the notification. */
  reason: z.string(),
});
export type FleetRollbackGroup = z.infer<typeof fleetRollbackGroupSchema>;

export const fleetRollbackSchema = z.object({
  groups: z.array(fleetRollbackGroupSchema),
  /** The group the rollback trigger works on next (index into `groups`). */
  index: z.number().int().min(0),
  done: z.boolean(),
  /** The rollback refresh in flight (or last finished); its `groupIndex` indexes `groups`. */
  refresh: refreshRecordSchema.optional(),
  /** Every rollback refresh started, oldest first. */
  refreshes: z.array(refreshRecordSchema),
});
export type FleetRollback = z.infer<typeof fleetRollbackSchema>;

export const rolloutSchema = z.object({
  rolloutId: z.string().min(1),
  imageId,
  /** The image the fleet goes back to on failure. */
  rollbackTargetImageId: imageId,
  /** Where preflight found the rollback target. */
  rollbackTargetSource: z.enum(['parameter', 'previous-parameter', 'launch-templates']).optional(),
  /** `{param}` and `{param}-previous` before the rollout changed them (absent for rollouts from before). */
  parameterBefore: z
    .object({ value: z.string().optional(), previousValue: z.string().optional() })
    .optional(),
  templates: z.array(templateRecordSchema),
  groups: z.array(groupRecordSchema),
  /** The group the trigger step works on next (index into `groups`). */
  groupIndex: z.number().int().min(0),
  /** True once every group has refreshed successfully. */
  done: z.boolean(),
  /** The refresh in flight (or last finished). */
  refresh: refreshRecordSchema.optional(),
  /** Every refresh this rollout started, oldest first: what a fleet rollback must refresh back. */
  refreshes: z.array(refreshRecordSchema),
  rollback: rollbackRecordSchema.optional(),
  /** Set by the rollback refresh steps once the rollback reaches the instances. */
  fleetRollback: fleetRollbackSchema.optional(),
});
export type Rollout = z.infer<typeof rolloutSchema>;

/** The execution input, which preflight reads. */
export const startEventSchema = z.object({
  rolloutId: z
    .string()
    .min(1)
    .max(80)
    .regex(/^[A-Za-z0-9_.:-]+$/, 'must be letters, digits and _ . : - (the execution name works)'),
  imageId,
  /** `$$.Execution.Id`: lets preflight tell its own execution from another rollout's. */
  executionArn: z.string().optional(),
  /**
   * A rollback-only execution (`ami-rollout rollback`): roll back the rollout `rolloutId` (of `imageId`), which
   * stopped or ended, from its ledger record. Nothing goes forward.
   */
  rollback: z
    .object({
      reason: z.string().min(1).max(1000),
      /** Who asked (the caller's ARN, as the CLI found it). */
      requestedBy: z.string().max(2048).optional(),
    })
    .strict()
    .optional(),
});
export type StartEvent = z.infer<typeof startEventSchema>;

/**
 * What the state machine hands preflight: the execution input as it came (never a path into it, which would
 * fail the execution with States.Runtime when a field is missing) and the execution's ARN. A bare start event
 * is accepted too, for direct invocations.
 */
export function startEventFrom(event: unknown): unknown {
  if (event && typeof event === 'object' && 'input' in event) {
    const { input, executionArn } = event as { input: unknown; executionArn?: unknown };
    return input && typeof input === 'object'
      ? { ...input, ...(typeof executionArn === 'string' ? { executionArn } : {}) }
      : input;
  }
  return event;
}

/** The event of every step after preflight: the execution state, with the rollout at `$.rollout`. */
export const rolloutEventSchema = z.object({ rollout: rolloutSchema });
export type RolloutEvent = z.infer<typeof rolloutEventSchema>;

/** What a Step Functions `Catch` writes at its `ResultPath`. */
export const caughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type CaughtError = z.infer<typeof caughtErrorSchema>;
