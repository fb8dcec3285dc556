import { App, CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../errors.ts';
import { AmiRolloutPipeline, projectRoot } from './pipeline.ts';

/**
 * The CDK app: `npx cdk deploy` (or `ami-rollout deploy --config FILE`) deploys the pipeline from the same
 * configuration file the rehearsal uses. Context (`-c key=value`):
 *   config            the configuration file (default: $AMI_ROLLOUT_CONFIG_FILE, else examples/rollout.config.json)
 *   stackName         default AmiRollout
 *   imagePipelineArn  only images from this Image Builder pipeline start a rollout (default: any image)
 *   instanceRoleArns  deprecated: comma-separated roles added to the configuration's instanceRoleArns
 *   imageBuilderTrigger  "false" to deploy without the Image Builder trigger (default true)
 */

/** The configuration file the app deploys. */
export function configPath(app: App, env: NodeJS.ProcessEnv = process.env): string {
  const fromContext: unknown = app.node.tryGetContext('config');
  if (typeof fromContext === 'string' && fromContext) return fromContext;
  return env.AMI_ROLLOUT_CONFIG_FILE || `${projectRoot}examples/rollout.config.json`;
}

export async function buildApp(
  app: App = new App(),
): Promise<{ app: App; stack: Stack; pipeline: AmiRolloutPipeline }> {
  const config = await loadConfig(configPath(app));
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const stackName = context('stackName') ?? 'AmiRollout';
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  const stack = new Stack(app, stackName, {
    description:
      'ami-rollout: rolls a new AMI across Auto Scaling groups in waves, rolls back every group touched on failure',
    ...(account && region ? { env: { account, region } } : {}),
  });
  const imagePipelineArn = context('imagePipelineArn');
  const instanceRoleArns = (context('instanceRoleArns') ?? '')
    .split(',')
    .map((arn) => arn.trim())
    .filter(Boolean);
  const pipeline = new AmiRolloutPipeline(stack, 'Pipeline', {
    config,
    instanceRoleArns,
    imageBuilderTrigger: context('imageBuilderTrigger') !== 'false',
    ...(imagePipelineArn ? { imagePipelineArn } : {}),
  });
  new CfnOutput(stack, 'StateMachineArn', { value: pipeline.stateMachine.stateMachineArn });
  new CfnOutput(stack, 'TopicArn', { value: pipeline.topic.topicArn });
  new CfnOutput(stack, 'StateMachineLogGroup', { value: pipeline.stateMachineLogGroup.logGroupName });
  new CfnOutput(stack, 'BatchStateMachineArn', { value: pipeline.batchStateMachine.stateMachineArn });
  new CfnOutput(stack, 'GroupStateMachineArn', { value: pipeline.groupStateMachine.stateMachineArn });
  // `status` and `history` read the rollout ledger (their --ledger-table, default <state machine name>-ledger).
  new CfnOutput(stack, 'LedgerTableName', { value: pipeline.ledgerTable.tableName });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, pipeline };
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  try {
    const { app } = await buildApp();
    app.synth();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`ami-rollout: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
