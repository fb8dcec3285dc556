import type { StepFunctionName } from '../statemachine/definition.ts';
import { createCheckGate } from './check-gate.ts';
import { createCheckRefreshStatusStep } from './check-refresh-status.ts';
import { createCheckRollbackRefreshStep } from './check-rollback-refresh.ts';
import type { StepDependencies } from './dependencies.ts';
import { createFinishBatch } from './finish-batch.ts';
import { createNotifyStep } from './notify.ts';
import { createPlanBatch } from './plan-batch.ts';
import { createPreflightStep } from './preflight.ts';
import { createRollbackAmiStep } from './rollback-ami.ts';
import { createShareAmiStep } from './share-ami.ts';
import { createTriggerInstanceRefreshStep } from './trigger-instance-refresh.ts';
import { createTriggerRollbackRefreshStep } from './trigger-rollback-refresh.ts';
import { createUpdateLaunchTemplatesStep } from './update-launch-templates.ts';

export type StepHandler = (event: unknown) => Promise<unknown>;

/** One Lambda per step of the state machine: how to build its handler, and the file the CDK app bundles. */
export const steps: Readonly<
  Record<
    StepFunctionName,
    { readonly create: (deps: StepDependencies) => StepHandler; readonly entry: string }
  >
> = {
  Preflight: { create: createPreflightStep, entry: 'src/steps/preflight.ts' },
  ShareAmi: { create: createShareAmiStep, entry: 'src/steps/share-ami.ts' },
  UpdateLaunchTemplates: {
    create: createUpdateLaunchTemplatesStep,
    entry: 'src/steps/update-launch-templates.ts',
  },
  PlanBatch: { create: createPlanBatch, entry: 'src/steps/plan-batch.ts' },
  CheckGate: { create: createCheckGate, entry: 'src/steps/check-gate.ts' },
  FinishBatch: { create: createFinishBatch, entry: 'src/steps/finish-batch.ts' },
  TriggerInstanceRefresh: {
    create: createTriggerInstanceRefreshStep,
    entry: 'src/steps/trigger-instance-refresh.ts',
  },
  CheckRefreshStatus: { create: createCheckRefreshStatusStep, entry: 'src/steps/check-refresh-status.ts' },
  RollbackAmi: { create: createRollbackAmiStep, entry: 'src/steps/rollback-ami.ts' },
  TriggerRollbackRefresh: {
    create: createTriggerRollbackRefreshStep,
    entry: 'src/steps/trigger-rollback-refresh.ts',
  },
  CheckRollbackRefresh: {
    create: createCheckRollbackRefreshStep,
    entry: 'src/steps/check-rollback-refresh.ts',
  },
  Notify: { create: createNotifyStep, entry: 'src/steps/notify.ts' },
};

/** The Image Builder trigger's function, which starts the state machine and is not one of its steps. */
export const startRolloutEntry = 'src/steps/start-rollout.ts';
