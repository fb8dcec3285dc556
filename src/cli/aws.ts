import { paginateListStateMachines, SFNClient } from '@aws-sdk/client-sfn';
import { awsErrorCode } from '../adapters/aws-error.ts';
import { DEFAULT_STATE_MACHINE_NAME } from './aws-options.ts';
import { UsageError, type Output } from './usage.ts';

/**
 * What the commands that talk to a deployed state machine share: the SFN client (region, profile and
 * credentials resolved as the AWS CLI resolves them), finding the state machine, and turning the failures a
 * user will meet into one line with the fix.
 */

export interface AwsTarget {
  /** Endpoint URL (a local account). Default: AWS_ENDPOINT_URL(_SFN), else AWS. */
  readonly endpoint?: string;
  /** Default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region, as the AWS CLI does. */
  readonly region?: string;
  /** Default: AWS_PROFILE, else `default`. */
  readonly profile?: string;
  /** State machine ARN or name. Default: the one named `ami-rollout`. */
  readonly stateMachine?: string;
}

export interface Connection {
  readonly target: AwsTarget;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
}

/** The region a local account's client signs for when none is set anywhere: the local account's default. */
export const LOCAL_ACCOUNT_DEFAULT_REGION = 'us-east-1';

/** What every AWS command starts with: the target from its flags, a client, and the rollout state machine. */
export async function connect(
  values: Parameters<typeof awsTargetFrom>[0],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Connection> {
  let target = awsTargetFrom(values);
  let sfn = createSfnClient(target, env);
  // As with credentials: a local account needs no region set up, so a fresh shell can talk to the emulator.
  if (isLocalAccountEndpoint(target.endpoint) && !target.region && !(await hasRegion(sfn))) {
    sfn.destroy();
    target = { ...target, region: LOCAL_ACCOUNT_DEFAULT_REGION };
    sfn = createSfnClient(target, env);
  }
  return { target, sfn, stateMachineArn: await findStateMachine(sfn, target) };
}

/** True when the SDK's region chain (AWS_REGION, the profile) gives the client a region. */
async function hasRegion(sfn: SFNClient): Promise<boolean> {
  try {
    return Boolean(await sfn.config.region());
  } catch {
    return false;
  }
}

export function awsTargetFrom(values: {
  endpoint?: string;
  region?: string;
  profile?: string;
  'state-machine'?: string;
}): AwsTarget {
  if (values.endpoint !== undefined && !isHttpUrl(values.endpoint)) {
    throw new UsageError(
      `--endpoint ${values.endpoint}: must be an http:// or https:// URL, such as http://127.0.0.1:4566 for a local account.`,
    );
  }
  return {
    ...(values.endpoint ? { endpoint: values.endpoint } : {}),
    ...(values.region ? { region: values.region } : {}),
    ...(values.profile ? { profile: values.profile } : {}),
    ...(values['state-machine'] ? { stateMachine: values['state-machine'] } : {}),
  };
}

/**
 * An SFN client over the SDK's default chains: env credentials, then the profile's (SSO, assume-role,
 * credential_process, static keys), then container and instance roles. Setting `profile` on the client is the
 * SDK's `--profile`: it picks the profile for credentials and region alike.
 */
export function createSfnClient(target: AwsTarget, env: NodeJS.ProcessEnv = process.env): SFNClient {
  return new SFNClient({
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    ...(target.region ? { region: target.region } : {}),
    ...(target.profile ? { profile: target.profile } : {}),
    ...(usesLocalAccountCredentials(target, env)
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
}

/**
 * A local account on this machine (an endpoint on 127.0.0.1 or localhost) accepts any signature, so when no
 * credentials were given at all, dummy ones are used rather than asking the user to `aws configure`.
 */
function usesLocalAccountCredentials(target: AwsTarget, env: NodeJS.ProcessEnv): boolean {
  if (target.profile || env['AWS_PROFILE'] || env['AWS_ACCESS_KEY_ID']) return false;
  return isLocalAccountEndpoint(target.endpoint);
}

/** An endpoint on this machine (127.0.0.1, localhost or [::1]): a local account. */
function isLocalAccountEndpoint(endpoint: string | undefined): boolean {
  if (!endpoint) return false;
  try {
    const host = new URL(endpoint).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
  } catch {
    return false;
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** A failure the user can fix, already said in one line with the fix. Exit code 1. */
export class AwsCommandError extends Error {
  override readonly name = 'AwsCommandError';
}

/** Where the client points, for messages: `us-east-1`, or `us-east-1 at http://127.0.0.1:4566`. */
export async function describeTarget(sfn: SFNClient, target: AwsTarget): Promise<string> {
  let region: string;
  try {
    region = await sfn.config.region();
  } catch {
    region = target.region ?? '(no region)';
  }
  return target.endpoint ? `${region} at ${target.endpoint}` : region;
}

/** The ARN of the rollout state machine: --state-machine ARN as given, else looked up by name. */
export async function findStateMachine(sfn: SFNClient, target: AwsTarget): Promise<string> {
  const wanted = target.stateMachine ?? DEFAULT_STATE_MACHINE_NAME;
  if (wanted.startsWith('arn:')) return wanted;
  try {
    for await (const page of paginateListStateMachines({ client: sfn, pageSize: 1000 }, {})) {
      const found = page.stateMachines?.find((m) => m.name === wanted);
      if (found?.stateMachineArn) return found.stateMachineArn;
    }
  } catch (error) {
    throw await explainAwsError(error, sfn, target, 'ListStateMachines');
  }
  throw new AwsCommandError(
    `no state machine named ${wanted} in ${await describeTarget(sfn, target)}: ${deployHint(target)} (or pass --state-machine ARN)`,
  );
}

/** How the pipeline gets where the target points: `deploy` for AWS; the emulator deploys it from --config. */
function deployHint(target: AwsTarget): string {
  return isLocalAccountEndpoint(target.endpoint)
    ? 'start the emulator with --config FILE to deploy the pipeline onto it'
    : 'deploy it with `ami-rollout deploy --config FILE`';
}

/** The SDK error behind ours (our adapters wrap SDK errors as `cause`). */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (!cause || typeof cause !== 'object') break;
    current = cause;
  }
  return current;
}

/**
 * One line with the fix for the failures people meet: no credentials, expired or rejected credentials, no
 * region, access denied, an unreachable endpoint, an unknown execution or state machine. Anything else keeps
 * its own message (and error code), still on one line.
 */
export async function explainAwsError(
  error: unknown,
  sfn: SFNClient,
  target: AwsTarget,
  action: string,
  subject?: string,
): Promise<AwsCommandError> {
  if (error instanceof AwsCommandError) return error;
  const sdkError = rootCause(error);
  const code = awsErrorCode(sdkError) ?? '';
  const message = (sdkError instanceof Error ? sdkError.message : String(sdkError)).split('\n')[0]!;
  const where = () => describeTarget(sfn, target);
  const say = (line: string) => new AwsCommandError(line, { cause: error });

  if (code === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    const profile = target.profile ?? process.env.AWS_PROFILE;
    if (profile)
      return say(
        `no AWS credentials for profile ${profile} (missing from ~/.aws/config and ~/.aws/credentials, or unusable): set it up with \`aws configure --profile ${profile}\` (or \`aws sso login --profile ${profile}\`), or pick another profile`,
      );
    return say(
      'no AWS credentials found: run `aws configure` (or `aws sso login`), set AWS_PROFILE or pass --profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    );
  }
  if (/region is missing/i.test(message)) {
    return say(
      'no AWS region: pass --region, set AWS_REGION, or set a region in your profile (`aws configure set region us-east-1`)',
    );
  }
  if (/^(ExpiredToken|ExpiredTokenException|TokenRefreshRequired)$/.test(code) || /expired/i.test(message)) {
    return say(
      `AWS credentials expired (${code || message}): refresh them (\`aws sso login\`, or new session keys) and run again`,
    );
  }
  if (/^(UnrecognizedClientException|InvalidSignatureException|InvalidClientTokenId)$/.test(code)) {
    return say(
      `AWS rejected the credentials (${code}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile's keys (\`aws sts get-caller-identity\` shows who you are)`,
    );
  }
  if (/^(AccessDenied|AccessDeniedException)$/.test(code)) {
    // AWS says who and what: "User: arn:... is not authorized to perform: states:X on resource: arn:..."
    const principal = /User: (\S+)/.exec(message)?.[1];
    const denied = /perform: (\S+)/.exec(message)?.[1] ?? `states:${action}`;
    const resource = /on resource: (\S+)/.exec(message)?.[1];
    return say(
      `access denied: ${principal ?? 'your AWS identity'} may not call ${denied}${resource ? ` on ${resource}` : ''}: ` +
        `allow it in that identity's IAM policy, or use a profile that may (\`aws sts get-caller-identity\` shows who you are)`,
    );
  }
  if (code === 'ExecutionDoesNotExist') {
    return say(
      `unknown execution ${subject ?? ''} in ${await where()}: list them with \`ami-rollout history\``,
    );
  }
  if (code === 'StateMachineDoesNotExist') {
    return say(
      `state machine ${target.stateMachine ?? subject ?? ''} does not exist in ${await where()}: check --state-machine, or ${deployHint(target)}`,
    );
  }
  if (code === 'InvalidArn') {
    return say(`${subject ?? 'that'} is not a valid ARN here (${message})`);
  }
  const network = (sdkError as { code?: unknown } | null)?.code;
  if (
    typeof network === 'string' &&
    /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET)$/.test(network)
  ) {
    return say(
      target.endpoint
        ? `cannot reach ${target.endpoint} (${network}): is the local account running (\`ami-rollout emulator\`)? Check --endpoint`
        : `cannot reach Step Functions in ${await where()} (${network}): check the network, --region and AWS_ENDPOINT_URL`,
    );
  }
  return say(`${action} failed${code ? ` (${code})` : ''}: ${message}`);
}

/**
 * Runs a command body, printing an `AwsCommandError` as its one line (exit code 1). Other errors go on to
 * main's handler.
 */
export async function reportAwsErrors(
  command: string,
  output: Output,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof AwsCommandError)) throw error;
    output.err(`ami-rollout ${command}: ${error.message}`);
    return 1;
  }
}

/** Real milliseconds between polls while watching: 2 s against AWS (history calls are rate limited), less locally. */
export function pollMsFor(target: AwsTarget, env: NodeJS.ProcessEnv = process.env): number {
  return target.endpoint || env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_SFN ? 200 : 2000;
}
