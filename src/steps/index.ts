import type { StepFunctionName } from '../statemachine/definition.ts';
import { createCheckRefreshStatus } from './check-refresh-status.ts';
import { createCheckRollbackRefresh } from './check-rollback-refresh.ts';
import type { StepDependencies } from './dependencies.ts';
import { createNotify } from './notify.ts';
import { createPreflight } from './preflight.ts';
import { createRollbackAmi } from './rollback-ami.ts';
import { createShareAmi } from './share-ami.ts';
import { createTriggerInstanceRefresh } from './trigger-instance-refresh.ts';
import { createTriggerRollbackRefresh } from './trigger-rollback-refresh.ts';
import { createUpdateLaunchTemplates } from './update-launch-templates.ts';

export type StepHandler = (event: unknown) => Promise<unknown>;

/** One Lambda per step of the state machine: how to build its handler, and the file the CDK app bundles. */
export const steps: Readonly<
  Record<
    StepFunctionName,
    { readonly create: (deps: StepDependencies) => StepHandler; readonly entry: string }
  >
> = {
  Preflight: { create: createPreflight, entry: 'src/steps/preflight.ts' },
  ShareAmi: { create: createShareAmi, entry: 'src/steps/share-ami.ts' },
  UpdateLaunchTemplates: {
    create: createUpdateLaunchTemplates,
    entry: 'src/steps/update-launch-templates.ts',
  },
  TriggerInstanceRefresh: {
    create: createTriggerInstanceRefresh,
    entry: 'src/steps/trigger-instance-refresh.ts',
  },
  CheckRefreshStatus: { create: createCheckRefreshStatus, entry: 'src/steps/check-refresh-status.ts' },
  RollbackAmi: { create: createRollbackAmi, entry: 'src/steps/rollback-ami.ts' },
  TriggerRollbackRefresh: {
    create: createTriggerRollbackRefresh,
    entry: 'src/steps/trigger-rollback-refresh.ts',
  },
  CheckRollbackRefresh: { create: createCheckRollbackRefresh, entry: 'src/steps/check-rollback-refresh.ts' },
  Notify: { create: createNotify, entry: 'src/steps/notify.ts' },
};

/** The Image Builder trigger's function, which starts the state machine and is not one of its steps. */
export const startRolloutEntry = 'src/steps/start-rollout.ts';
