/** The CDK v2 infrastructure of ami-rollout, for use in your own CDK app. */
export { AmiRolloutPipeline, defaultBundling, type AmiRolloutPipelineProps } from './pipeline.ts';
export { nagAcknowledgments, type NagAcknowledgment } from './nag.ts';
export {
  scopedArns,
  stepPolicyStatements,
  startRolloutPolicyStatements,
  unscopableActions,
} from './permissions.ts';
