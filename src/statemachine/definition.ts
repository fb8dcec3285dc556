/**
 * The rollout state machine, in Amazon States Language (JSONPath; no JSONata or Variables, which the local
 * interpreter cannot run). The CDK app deploys it with `DefinitionSubstitutions` for the function ARNs; the
 * local account runs the very same text with the same substitutions pointing at local code.
 *
 * Forward:  Preflight -> ShareAmi -> UpdateLaunchTemplates -> TriggerInstanceRefresh (group i) -> WaitForRefresh
 *           -> CheckRefreshStatus -> EvaluateRefreshStatus: SUCCEEDED -> next group, IN_PROGRESS -> wait again,
 *           FAILED -> rollback. After the last group: NotifySuccess.
 * Rollback: RollbackAmi (templates + parameter) -> TriggerRollbackRefresh (each group that got the new image,
 *           one at a time, back to its previous template version) -> WaitForRollbackRefresh ->
 *           CheckRollbackRefresh -> ... -> NotifyRollback -> NotifyFailure (Fail).
 * Before any change, a failure only notifies (NotifyPreflightFailure -> PreflightFailed). A failure of the
 * rollback itself notifies loudly (NotifyRollbackFailure -> RollbackFailed).
 */

/** The Lambda steps, by the placeholder their ARN fills in the definition (`${PreflightFunctionArn}`). */
export const stepFunctionNames = [
  'Preflight',
  'ShareAmi',
  'UpdateLaunchTemplates',
  'TriggerInstanceRefresh',
  'CheckRefreshStatus',
  'RollbackAmi',
  'TriggerRollbackRefresh',
  'CheckRollbackRefresh',
  'Notify',
] as const;
export type StepFunctionName = (typeof stepFunctionNames)[number];

export const arnPlaceholder = (step: StepFunctionName): string => `${step}FunctionArn`;

export interface DefinitionOptions {
  /** Seconds between two refresh status checks (config `pollIntervalSeconds`). */
  readonly pollIntervalSeconds: number;
}

/** Errors that mean "try again": Lambda's own transient failures and AWS throttling the SDK gave up on. */
const transientErrors = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  // A timed-out invocation may have done part of its work; every step is safe to run again.
  'Sandbox.Timedout',
  'TransientAwsError',
];

const retry = [
  {
    ErrorEquals: transientErrors,
    IntervalSeconds: 2,
    MaxAttempts: 6,
    BackoffRate: 2,
    MaxDelaySeconds: 60,
    JitterStrategy: 'FULL',
  },
];

/** A rollback refresh cannot start while the group's failed or timed-out refresh is still winding down (up to 2 h). */
const retryWhileGroupBusy = [
  { ErrorEquals: ['RefreshInProgressError'], IntervalSeconds: 60, MaxAttempts: 120, BackoffRate: 1 },
  ...retry,
];

type State = Record<string, unknown>;

const task = (step: StepFunctionName, fields: State): State => ({
  Type: 'Task',
  Resource: `\${${arnPlaceholder(step)}}`,
  Retry: retry,
  ...fields,
});

/** Notify with an outcome: the rollout (when there is one), the error (when one was caught) and the execution. */
const notify = (
  outcome: 'SUCCEEDED' | 'FAILED' | 'ROLLED_BACK' | 'ROLLBACK_FAILED',
  parameters: State,
  next: State,
): State =>
  task('Notify', {
    Parameters: { outcome, 'executionArn.$': '$$.Execution.Id', ...parameters },
    ResultPath: '$.notification',
    // A notification that cannot be sent must not change the rollout's outcome: the state after it still runs.
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.notificationError', ...next }],
    ...next,
  });

/**
 * One group at a time: trigger a refresh, wait, check, and decide: next group on SUCCEEDED, wait again on
 * IN_PROGRESS, `onFailure` on FAILED (with the refresh record as the error's cause). The forward rollout and the
 * fleet rollback are the same loop over different steps and records.
 */
function refreshLoop(loop: {
  readonly trigger: StepFunctionName;
  readonly check: StepFunctionName;
  /** Where the steps keep `done` and `refresh` ($.rollout, or $.rollout.fleetRollback). */
  readonly record: string;
  readonly names: {
    readonly allDone: string;
    readonly wait: string;
    readonly evaluate: string;
    readonly recordFailure: string;
  };
  readonly done: string;
  readonly failureError: string;
  readonly onFailure: string;
  readonly onError: State;
  readonly triggerRetry?: unknown[];
  readonly pollIntervalSeconds: number;
}): Record<string, State> {
  const { names } = loop;
  const outcome = `${loop.record}.refresh.outcome`;
  return {
    [loop.trigger]: task(loop.trigger, {
      Parameters: { 'rollout.$': '$.rollout' },
      ResultPath: '$.rollout',
      ...(loop.triggerRetry ? { Retry: loop.triggerRetry } : {}),
      Catch: [loop.onError],
      Next: names.allDone,
    }),
    [names.allDone]: {
      Type: 'Choice',
      Choices: [{ Variable: `${loop.record}.done`, BooleanEquals: true, Next: loop.done }],
      Default: names.wait,
    },
    [names.wait]: { Type: 'Wait', Seconds: loop.pollIntervalSeconds, Next: loop.check },
    [loop.check]: task(loop.check, {
      Parameters: { 'rollout.$': '$.rollout' },
      ResultPath: '$.rollout',
      Catch: [loop.onError],
      Next: names.evaluate,
    }),
    [names.evaluate]: {
      Type: 'Choice',
      Choices: [
        { Variable: outcome, StringEquals: 'SUCCEEDED', Next: loop.trigger },
        { Variable: outcome, StringEquals: 'IN_PROGRESS', Next: names.wait },
      ],
      Default: names.recordFailure,
    },
    [names.recordFailure]: {
      Type: 'Pass',
      // The whole refresh record: a path to one optional field would fail the Pass state when it is absent.
      Parameters: { Error: loop.failureError, 'Cause.$': `States.JsonToString(${loop.record}.refresh)` },
      ResultPath: '$.error',
      Next: loop.onFailure,
    },
  };
}

export function buildDefinition(options: DefinitionOptions): Record<string, unknown> {
  const { pollIntervalSeconds } = options;
  if (!Number.isInteger(pollIntervalSeconds) || pollIntervalSeconds < 1) {
    throw new RangeError(
      `pollIntervalSeconds ${pollIntervalSeconds}: must be a whole number of seconds, 1 or more`,
    );
  }
  const toRollback = { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RollbackAmi' };
  const toRollbackFailure = {
    ErrorEquals: ['States.ALL'],
    ResultPath: '$.error',
    Next: 'NotifyRollbackFailure',
  };
  return {
    Comment:
      'ami-rollout: share a new AMI, point launch templates at it, refresh Auto Scaling groups one at a time; roll back templates, parameter and instances on failure.',
    StartAt: 'Preflight',
    States: {
      // The whole execution input (a path to a missing field would fail the execution with States.Runtime,
      // which no Catch sees; Preflight validates the input itself) and the execution's own ARN.
      Preflight: task('Preflight', {
        Parameters: { 'input.$': '$', 'executionArn.$': '$$.Execution.Id' },
        ResultPath: '$.rollout',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NotifyPreflightFailure' }],
        Next: 'ShareAmi',
      }),
      ShareAmi: task('ShareAmi', {
        Parameters: { 'rollout.$': '$.rollout' },
        ResultPath: '$.rollout',
        Catch: [toRollback],
        Next: 'UpdateLaunchTemplates',
      }),
      UpdateLaunchTemplates: task('UpdateLaunchTemplates', {
        Parameters: { 'rollout.$': '$.rollout' },
        ResultPath: '$.rollout',
        Catch: [toRollback],
        Next: 'TriggerInstanceRefresh',
      }),
      ...refreshLoop({
        trigger: 'TriggerInstanceRefresh',
        check: 'CheckRefreshStatus',
        record: '$.rollout',
        names: {
          allDone: 'AllGroupsRefreshed',
          wait: 'WaitForRefresh',
          evaluate: 'EvaluateRefreshStatus',
          recordFailure: 'RecordRefreshFailure',
        },
        done: 'NotifySuccess',
        failureError: 'InstanceRefreshFailed',
        onFailure: 'RollbackAmi',
        onError: toRollback,
        pollIntervalSeconds,
      }),
      RollbackAmi: task('RollbackAmi', {
        Parameters: { 'rollout.$': '$.rollout' },
        ResultPath: '$.rollout',
        Catch: [toRollbackFailure],
        Next: 'TriggerRollbackRefresh',
      }),
      ...refreshLoop({
        trigger: 'TriggerRollbackRefresh',
        check: 'CheckRollbackRefresh',
        record: '$.rollout.fleetRollback',
        names: {
          allDone: 'AllGroupsRolledBack',
          wait: 'WaitForRollbackRefresh',
          evaluate: 'EvaluateRollbackRefresh',
          recordFailure: 'RecordRollbackRefreshFailure',
        },
        done: 'NotifyRollback',
        failureError: 'RollbackRefreshFailed',
        onFailure: 'NotifyRollbackFailure',
        onError: toRollbackFailure,
        triggerRetry: retryWhileGroupBusy,
        pollIntervalSeconds,
      }),
      NotifySuccess: notify('SUCCEEDED', { 'rollout.$': '$.rollout' }, { Next: 'Succeeded' }),
      Succeeded: { Type: 'Succeed' },
      NotifyRollback: notify(
        'ROLLED_BACK',
        { 'rollout.$': '$.rollout', 'error.$': '$.error' },
        { Next: 'NotifyFailure' },
      ),
      NotifyFailure: {
        Type: 'Fail',
        Error: 'RolloutRolledBack',
        Cause:
          'The new image failed; templates, parameter and instances were rolled back. See the rollback notification.',
      },
      NotifyPreflightFailure: notify(
        'FAILED',
        { 'input.$': '$', 'error.$': '$.error' },
        { Next: 'PreflightFailed' },
      ),
      PreflightFailed: {
        Type: 'Fail',
        Error: 'PreflightFailed',
        Cause: 'The rollout could not start; nothing was changed. See the failure notification.',
      },
      NotifyRollbackFailure: notify(
        'ROLLBACK_FAILED',
        { 'rollout.$': '$.rollout', 'error.$': '$.error' },
        { Next: 'RollbackFailed' },
      ),
      RollbackFailed: {
        Type: 'Fail',
        Error: 'RollbackFailed',
        Cause:
          'The rollback did not complete: the fleet needs a person. See the rollback failure notification.',
      },
    },
  };
}

/** The definition as text with every `${...FunctionArn}` replaced, as CloudFormation's DefinitionSubstitutions do. */
export function renderDefinition(
  definition: Record<string, unknown>,
  functionArns: Readonly<Record<StepFunctionName, string>>,
): string {
  const text = JSON.stringify(definition, null, 2);
  return text.replace(/\$\{([A-Za-z]+)FunctionArn\}/g, (placeholder, step: string) => {
    const arn = (functionArns as Record<string, string>)[step];
    if (!arn) throw new Error(`renderDefinition: no ARN for ${placeholder}`);
    return arn;
  });
}
