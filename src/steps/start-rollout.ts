import { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { getBuiltImage, type BuiltImage } from '../adapters/imagebuilder.ts';
import {
  describeExecution,
  executionArnFor,
  listRunningExecutions,
  startExecution,
} from '../adapters/sfn.ts';
import { imageIdSchema } from '../config/schema.ts';
import {
  decideStart,
  rolloutExecutionInput,
  rolloutExecutionName,
  type StartDecision,
} from '../core/start-decision.ts';
import { ConfigError, InvalidEventError } from '../errors.ts';
import { createLogger, type LogSink } from '../log.ts';
import { parseEvent } from './dependencies.ts';

/**
 * Start rollout: the target of the EventBridge rule on Image Builder images becoming AVAILABLE. It is not a
 * state of the state machine; it starts one. The start logic (`startRollout`) is shared with the CLI.
 */

/**
 * `EC2 Image Builder Image State Change` as EventBridge delivers it. AWS documents `detail` as only
 * `previous-state` and `state`, with the image build version ARN in `resources`; some deliveries also carry
 * the image's `outputResources`, which saves a GetImage call when present.
 */
export const imageBuilderEventSchema = z.object({
  source: z.literal('aws.imagebuilder'),
  'detail-type': z.literal('EC2 Image Builder Image State Change'),
  region: z.string().optional(),
  resources: z
    .array(z.string())
    .min(1, 'must hold the image build version ARN (arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/1.0.0/1)'),
  detail: z.object({
    state: z.object({ status: z.literal('AVAILABLE') }),
    outputResources: z
      .object({
        amis: z
          .array(
            z.object({
              image: z.string().optional(),
              region: z.string().optional(),
              accountId: z.string().optional(),
            }),
          )
          .default([]),
      })
      .optional(),
  }),
});
export type ImageBuilderEvent = z.infer<typeof imageBuilderEventSchema>;

export type StartRolloutResult =
  | {
      readonly outcome: 'started';
      readonly imageId: string;
      readonly executionArn: string;
      readonly message: string;
    }
  | {
      readonly outcome: 'already-running' | 'already-attempted' | 'refused';
      readonly imageId: string;
      readonly executionArn: string;
      readonly message: string;
    };

/**
 * Starts the rollout of `imageId` on the state machine, unless this image's rollout exists already (running:
 * nothing to do; closed: never again automatically) or another rollout is running (refused, nothing changes).
 * Refusals are values: the caller decides how loud to be.
 */
export async function startRollout(
  sfn: SFNClient,
  stateMachineArn: string,
  imageId: string,
): Promise<StartRolloutResult> {
  const checked = imageIdSchema.safeParse(imageId);
  if (!checked.success) {
    throw new InvalidEventError(`cannot roll out "${imageId}": ${checked.error.issues[0]?.message ?? ''}`);
  }
  const name = rolloutExecutionName(imageId);
  const ownArn = executionArnFor(stateMachineArn, name);
  const decide = async (): Promise<StartDecision> => {
    const imageExecution = await describeExecution(sfn, ownArn);
    const running = await listRunningExecutions(sfn, stateMachineArn);
    return decideStart({ imageId, ...(imageExecution ? { imageExecution } : {}), running });
  };
  const decision = await decide();
  if (decision.kind === 'start') {
    const started = await startExecution(sfn, {
      stateMachineArn,
      name: decision.executionName,
      input: rolloutExecutionInput(imageId),
    });
    if (started.kind === 'started') {
      return {
        outcome: 'started',
        imageId,
        executionArn: started.executionArn,
        message: `started the rollout of ${imageId}: ${started.executionArn}`,
      };
    }
    // Someone started this image between our look and our start: report what is there now.
    const now = await decide();
    if (now.kind !== 'start') return fromDecision(imageId, now);
    return {
      outcome: 'already-attempted',
      imageId,
      executionArn: started.executionArn,
      message: `${imageId}: StartExecution reports ${started.executionArn} exists; nothing started`,
    };
  }
  return fromDecision(imageId, decision);
}

function fromDecision(
  imageId: string,
  decision: Exclude<StartDecision, { kind: 'start' }>,
): StartRolloutResult {
  const executionArn = decision.kind === 'refused' ? decision.runningExecutionArn : decision.executionArn;
  return { outcome: decision.kind, imageId, executionArn, message: decision.message };
}

export type StartFromEventResult =
  StartRolloutResult | { readonly outcome: 'ignored'; readonly imageId?: string; readonly message: string };

export interface StartRolloutDependencies {
  readonly sfn: SFNClient;
  /** Image Builder's GetImage, for events that do not carry the AMI ids (and for the pipeline filter). */
  readonly getImage: (imageBuildVersionArn: string) => Promise<BuiltImage>;
  readonly stateMachineArn: string;
  /** The region the AMI must be in (the state machine's). */
  readonly region: string;
  /** The account the AMI must be in, when Image Builder distributes to several. Default: any. */
  readonly accountId?: string;
  /** Only images built by this Image Builder pipeline start a rollout. Default: every image. */
  readonly imagePipelineArn?: string;
  /** Default: stdout (CloudWatch Logs in Lambda). */
  readonly logSink?: LogSink;
  readonly now?: () => Date;
}

/** The EventBridge target: Image Builder image AVAILABLE -> `startRollout` for its AMI in this region. */
export function createStartRolloutFromEvent(
  deps: StartRolloutDependencies,
): (event: unknown) => Promise<StartFromEventResult> {
  return async (event) => {
    const parsed = parseEvent(imageBuilderEventSchema, event, 'start_rollout');
    const imageBuildVersionArn = parsed.resources[0] ?? '';
    const log = createLogger(
      { step: 'start_rollout', imageBuildVersionArn },
      { ...(deps.logSink ? { sink: deps.logSink } : {}), ...(deps.now ? { now: deps.now } : {}) },
    );
    let amis = parsed.detail.outputResources?.amis ?? [];
    if (amis.length === 0 || deps.imagePipelineArn) {
      const built = await deps.getImage(imageBuildVersionArn);
      if (deps.imagePipelineArn && built.sourcePipelineArn !== deps.imagePipelineArn) {
        const message = `${imageBuildVersionArn} was built by ${built.sourcePipelineArn ?? 'no pipeline'}, not ${deps.imagePipelineArn}; ignored`;
        log.info('image-ignored', { message });
        return { outcome: 'ignored', message };
      }
      if (amis.length === 0) amis = [...built.amis];
    }
    const ami = amis.find(
      (a) =>
        a.image &&
        (a.region === undefined || a.region === deps.region) &&
        (deps.accountId === undefined || a.accountId === undefined || a.accountId === deps.accountId),
    );
    if (!ami?.image) {
      const message = `${imageBuildVersionArn} has no AMI in ${deps.region}${deps.accountId ? ` for account ${deps.accountId}` : ''} (AMIs: ${amis.map((a) => `${a.image ?? '?'}@${a.region ?? '?'}`).join(', ') || 'none'}); ignored`;
      log.warn('image-ignored', { message });
      return { outcome: 'ignored', message };
    }
    const result = await startRollout(deps.sfn, deps.stateMachineArn, ami.image);
    const fields = { imageId: result.imageId, executionArn: result.executionArn, message: result.message };
    if (result.outcome === 'refused') log.error('rollout-refused', fields);
    else log.info(`rollout-${result.outcome}`, fields);
    return result;
  };
}

/** Environment the CDK app gives the start function. */
export const START_ROLLOUT_ENV = {
  stateMachineArn: 'AMI_ROLLOUT_STATE_MACHINE_ARN',
  imagePipelineArn: 'AMI_ROLLOUT_IMAGE_PIPELINE_ARN',
  accountId: 'AMI_ROLLOUT_ACCOUNT_ID',
} as const;

let containerHandler: ((event: unknown) => Promise<StartFromEventResult>) | undefined;

function lambdaHandler(
  env: NodeJS.ProcessEnv = process.env,
): (event: unknown) => Promise<StartFromEventResult> {
  const stateMachineArn = env[START_ROLLOUT_ENV.stateMachineArn];
  const region = env.AWS_REGION;
  if (!stateMachineArn || !region) {
    throw new ConfigError(`${START_ROLLOUT_ENV.stateMachineArn} and AWS_REGION must be set`);
  }
  const clientConfig = { maxAttempts: 6, retryMode: 'standard' } as const;
  const imagebuilder = new ImagebuilderClient(clientConfig);
  const imagePipelineArn = env[START_ROLLOUT_ENV.imagePipelineArn];
  const accountId = env[START_ROLLOUT_ENV.accountId];
  return createStartRolloutFromEvent({
    sfn: new SFNClient(clientConfig),
    getImage: (arn) => getBuiltImage(imagebuilder, arn),
    stateMachineArn,
    region,
    ...(imagePipelineArn ? { imagePipelineArn } : {}),
    ...(accountId ? { accountId } : {}),
  });
}

/** The Lambda entry point: clients created once per container. */
export const handler = (event: unknown): Promise<StartFromEventResult> => {
  containerHandler ??= lambdaHandler();
  return containerHandler(event);
};
