/**
 * The options every command that talks to a deployed state machine takes, apart from the code that uses them
 * (aws.ts, which loads the AWS SDK), so that `--help` stays fast.
 */

/** The name `ami-rollout deploy` gives the state machine, and the default of --state-machine. */
export const DEFAULT_STATE_MACHINE_NAME = 'ami-rollout';

/** parseCommandLine options every AWS command takes. */
export const awsOptions = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  'state-machine': { type: 'string' },
} as const;

/** The --help lines for awsOptions. */
export const awsOptionsUsage = `  --endpoint URL        Step Functions endpoint, e.g. a local account (default: AWS_ENDPOINT_URL, else AWS)
  --region REGION       default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region
  --profile NAME        named profile from ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE)
  --state-machine ARN   the rollout state machine, by ARN or name (default: the one named ami-rollout)`;
