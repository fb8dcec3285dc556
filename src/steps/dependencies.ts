import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import type { IAMClient } from '@aws-sdk/client-iam';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { z } from 'zod';
import { configFromEnvironment } from '../config/load.ts';
import type { RolloutConfig } from '../config/schema.ts';
import { InvalidEventError } from '../errors.ts';
import { createLogger, type LogContext, type Logger, type LogSink } from '../log.ts';

/** Everything a step needs from the outside world, handed in so tests and local mode can swap it. */
export interface StepDependencies {
  readonly config: RolloutConfig;
  readonly ec2: EC2Client;
  readonly autoscaling: AutoScalingClient;
  readonly ssm: SSMClient;
  readonly sns: SNSClient;
  /** IAM, for preflight's instance profile check (preflight.ts creates its own in Lambda). */
  readonly iam?: IAMClient;
  /** Step Functions, for preflight's "one rollout at a time" check. Without it the check is skipped. */
  readonly sfn?: SFNClient;
  /** Default: wall-clock time. Local mode passes the local account's virtual clock. */
  readonly now?: () => Date;
  /** Default: stdout (CloudWatch Logs in Lambda). */
  readonly logSink?: LogSink;
}

/** Standard retry mode with more attempts than the default 3: throttling is ridden out inside one invocation. */
const clientConfig = { maxAttempts: 6, retryMode: 'standard' } as const;

let containerDependencies: StepDependencies | undefined;

/**
 * The dependencies of a Lambda container: clients created once, at the first invocation, and reused by every
 * later one; the configuration from AMI_ROLLOUT_CONFIG.
 */
export function lambdaDependencies(): StepDependencies {
  containerDependencies ??= {
    config: configFromEnvironment(),
    ec2: new EC2Client(clientConfig),
    autoscaling: new AutoScalingClient(clientConfig),
    ssm: new SSMClient(clientConfig),
    sns: new SNSClient(clientConfig),
    sfn: new SFNClient(clientConfig),
  };
  return containerDependencies;
}

export function stepLogger(deps: StepDependencies, step: string, context: LogContext): Logger {
  return createLogger(
    { step, ...context },
    { ...(deps.logSink ? { sink: deps.logSink } : {}), ...(deps.now ? { now: deps.now } : {}) },
  );
}

/** Parses a step's event, or throws `InvalidEventError` naming each bad field. */
export function parseEvent<S extends z.ZodType>(schema: S, event: unknown, step: string): z.output<S> {
  const result = schema.safeParse(event);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`,
  );
  throw new InvalidEventError(`${step} received an invalid event: ${problems.join('; ')}`, {
    cause: result.error,
  });
}
