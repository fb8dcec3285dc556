import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { ExecutionFacts } from '../core/start-decision.ts';
import { hasAwsErrorCode, translateAwsError } from './aws-error.ts';

/** The execution ARN Step Functions gives execution `name` of a state machine. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** The execution, or undefined when the state machine has none of that name. */
export async function describeExecution(
  sfn: SFNClient,
  executionArn: string,
): Promise<ExecutionFacts | undefined> {
  try {
    const found = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return {
      executionArn: found.executionArn ?? executionArn,
      name: found.name ?? executionArn.split(':').pop() ?? '',
      status: found.status ?? 'UNKNOWN',
      ...(found.startDate ? { startDate: found.startDate } : {}),
    };
  } catch (error) {
    if (hasAwsErrorCode(error, 'ExecutionDoesNotExist')) return undefined;
    throw translateAwsError(error, `DescribeExecution ${executionArn}`);
  }
}

/** Every RUNNING execution of the state machine (all pages). */
export async function listRunningExecutions(
  sfn: SFNClient,
  stateMachineArn: string,
): Promise<ExecutionFacts[]> {
  const running: ExecutionFacts[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 100, nextToken }),
      );
      for (const e of page.executions ?? []) {
        if (!e.executionArn) continue;
        running.push({
          executionArn: e.executionArn,
          name: e.name ?? '',
          status: e.status ?? 'RUNNING',
          ...(e.startDate ? { startDate: e.startDate } : {}),
        });
      }
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (error) {
    throw translateAwsError(error, `ListExecutions ${stateMachineArn}`);
  }
  return running;
}

export type StartExecutionResult =
  | { readonly kind: 'started'; readonly executionArn: string }
  /** The name is taken by a closed execution, or a running one with another input. */
  | { readonly kind: 'exists'; readonly executionArn: string };

/** StartExecution: the same name and input while that execution runs returns it again (AWS's idempotency). */
export async function startExecution(
  sfn: SFNClient,
  input: { stateMachineArn: string; name: string; input: unknown },
): Promise<StartExecutionResult> {
  try {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: input.stateMachineArn,
        name: input.name,
        input: JSON.stringify(input.input),
      }),
    );
    return {
      kind: 'started',
      executionArn: executionArn ?? executionArnFor(input.stateMachineArn, input.name),
    };
  } catch (error) {
    if (hasAwsErrorCode(error, 'ExecutionAlreadyExists')) {
      return { kind: 'exists', executionArn: executionArnFor(input.stateMachineArn, input.name) };
    }
    throw translateAwsError(error, `StartExecution ${input.name} on ${input.stateMachineArn}`);
  }
}
