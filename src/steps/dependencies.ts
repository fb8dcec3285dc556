import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { z } from 'zod';
import { configFromEnvironment } from '../config/load.ts';
import type { RolloutConfig } from '../config/schema.ts';
import { InvalidEventError } from '../errors.ts';
import { createLogger, type LogContext, type Logger, type LogSink } from '../log.ts';

/**
 * The AWS clients the steps call. A step names the ones it uses (`StepDependencies<'ec2' | 'ssm'>`), and its
 * Lambda bundle holds only those: this file imports the clients' types, never their code.
 */
export interface StepClients {
  readonly ec2: EC2Client;
  readonly autoscaling: AutoScalingClient;
  readonly ssm: SSMClient;
  readonly sns: SNSClient;
  /** IAM, for preflight's instance profile check. */
  readonly iam: IAMClient;
  readonly sfn: SFNClient;
  /** CloudWatch, for preflight's check that the alarms in `alarmNames` exist. */
  readonly cloudwatch: CloudWatchClient;
  /** DynamoDB, for the rollout ledger (its table: `ledgerTable`). */
  readonly dynamodb: DynamoDBClient;
}

/** What every step gets besides its clients. */
export interface StepContext {
  readonly config: RolloutConfig;
  /** The ledger's table (AMI_ROLLOUT_LEDGER_TABLE in Lambda). */
  readonly ledgerTable?: string;
  /** Default: wall-clock time. Local mode passes the local account's virtual clock. */
  readonly now?: () => Date;
  /** Default: stdout (CloudWatch Logs in Lambda). */
  readonly logSink?: LogSink;
}

/**
 * Everything a step needs from the outside world, handed in so tests and local mode can swap it: the context
 * and the clients named by `C`. Default: every client (local mode hands all of them to every step).
 */
export type StepDependencies<C extends keyof StepClients = keyof StepClients> = StepContext &
  Pick<StepClients, C>;

/** How a step's Lambda entry point builds its clients: a client class for each name. */
export type StepClientClasses<C extends keyof StepClients> = {
  readonly [K in C]: new (config: typeof clientConfig) => StepClients[K];
};

/** The Lambda environment variable that names the ledger's DynamoDB table. */
export const LEDGER_TABLE_ENV = 'AMI_ROLLOUT_LEDGER_TABLE';

/** Standard retry mode with more attempts than the default 3: throttling is ridden out inside one invocation. */
const clientConfig = { maxAttempts: 6, retryMode: 'standard' } as const;

// One Lambda container runs one step: its configuration, clients and handler are built at the first invocation
// and reused by every later one.
let containerConfig: RolloutConfig | undefined;
const containerClients: { -readonly [K in keyof StepClients]?: StepClients[K] } = {};
const containerHandlers = new Map<unknown, (event: unknown) => Promise<unknown>>();

function containerClient<K extends keyof StepClients>(
  name: K,
  Client: new (config: typeof clientConfig) => StepClients[K],
): StepClients[K] {
  const client = (containerClients[name] ??= new Client(clientConfig));
  return client as StepClients[K];
}

/**
 * The dependencies of a Lambda container: the configuration from AMI_ROLLOUT_CONFIG and only the clients the
 * step names, each created once.
 */
export function lambdaDependencies<C extends keyof StepClients>(
  classes: StepClientClasses<C>,
): StepDependencies<C> {
  containerConfig ??= configFromEnvironment();
  const clients = {} as { -readonly [K in C]: StepClients[K] };
  for (const name of Object.keys(classes) as C[]) clients[name] = containerClient(name, classes[name]);
  const ledgerTable = process.env[LEDGER_TABLE_ENV];
  return {
    config: containerConfig,
    ...(ledgerTable ? { ledgerTable } : {}),
    ...clients,
  } as StepDependencies<C>;
}

/**
 * Runs `event` through the step `create` builds, with its Lambda dependencies (`lambdaDependencies(classes)`):
 * the handler is built at the first invocation of the container and reused. A step's entry point is
 * `export const handler = (event) => runInLambda(createStep, { ec2: EC2Client }, event)`: an arrow, so a bundle
 * that imports the step's module for something else drops the client classes with it.
 */
export async function runInLambda<C extends keyof StepClients, R>(
  create: (deps: NoInfer<StepDependencies<C>>) => (event: unknown) => Promise<R>,
  classes: StepClientClasses<C>,
  event: unknown,
): Promise<R> {
  let handler = containerHandlers.get(create) as ((event: unknown) => Promise<R>) | undefined;
  if (!handler) {
    handler = create(lambdaDependencies(classes));
    containerHandlers.set(create, handler);
  }
  return handler(event);
}

export function stepLogger(deps: StepContext, step: string, context: LogContext): Logger {
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
