/** The CDK v2 infrastructure of ami-rollout, for use in your own CDK app. */
export {
  AmiRolloutPipeline,
  defaultBundling,
  type AmiRolloutPipelineProps,
  type RolePolicies,
} from './pipeline.ts';
export { nagAcknowledgments, type NagAcknowledgment } from './nag.ts';
export {
  configuredOperations,
  impliedPermissions,
  scopedArns,
  stepPolicyStatements,
  startRolloutPolicyStatements,
  unscopableActions,
  type ImpliedPermission,
  type StepPolicies,
} from './permissions.ts';
