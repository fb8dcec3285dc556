import type { DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';

/** How a rollout ended, for people (and exit codes): it went through, it was put back, or something else. */
export type RolloutResult = 'SUCCEEDED' | 'ROLLED_BACK' | 'FAILED';

export function rolloutResult(
  described: Pick<DescribeExecutionCommandOutput, 'status' | 'error'>,
): RolloutResult {
  if (described.status === 'SUCCEEDED') return 'SUCCEEDED';
  return described.error === 'RolloutRolledBack' ? 'ROLLED_BACK' : 'FAILED';
}
