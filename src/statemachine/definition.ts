/**
 * The rollout's three state machines, in Amazon States Language (JSONPath; no JSONata or Variables, which the
 * local interpreter cannot run). The CDK app deploys them with `DefinitionSubstitutions` for the function and
 * child state machine ARNs; the local account runs the very same text with the same substitutions.
 *
 * rollout: Preflight (plan and lock into the ledger) -> ShareAmi -> UpdateLaunchTemplates -> RunBatch (a batch
 *          execution, `.sync:2`) -> EvaluateBatch: more -> RunBatch, done -> NotifySuccess, failed -> rollback.
 *          Rollback: RollbackAmi (templates + parameter) -> RunRollbackBatch ... -> NotifyRollback -> Fail.
 *          A rollback-only execution (`ami-rollout rollback`; Preflight answers `mode: rollback`) goes from
 *          Preflight straight to the rollback, on the ledger record of the rollout it puts back.
 *          Before any change, a failure only notifies (NotifyPreflightFailure -> PreflightFailed). A failure of
 *          the rollback itself notifies loudly (NotifyRollbackFailure -> RollbackFailed).
 * batch:   PlanBatch (the next slice of the plan) -> CheckGate / Bake (the health gate, and what is left of the bake
 *          or watch window, checked every poll interval) -> Groups (lanes of Inline Maps, one group
 *          execution per group) -> FinishBatch (moves the ledger's cursor; says more, done or failed).
 * group:   TriggerInstanceRefresh -> WaitForRefresh -> CheckRefreshStatus ... until the refresh has ended (or
 *          the rollback twins of those). The outcome goes to the ledger, never up the execution tree.
 * Every execution's history stays small whatever the fleet size: the rollout's grows by 8 events a batch, a
 * batch's by about 8 a group, a group's by about 10 a poll.
 */

/** The Lambda steps, by the placeholder their ARN fills in the definition (`${PreflightFunctionArn}`). */
export const stepFunctionNames = [
  'Preflight',
  'ShareAmi',
  'UpdateLaunchTemplates',
  'PlanBatch',
  'CheckGate',
  'FinishBatch',
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

/** The child state machines, by the placeholder their ARN fills in the definition that starts them. */
export const childMachinePlaceholders = {
  batch: 'BatchStateMachineArn',
  group: 'GroupStateMachineArn',
} as const;

export interface Definitions {
  /** The rollout: preflight, the fleet-wide steps, the batches one after another, the rollback, the notices. */
  readonly rollout: Record<string, unknown>;
  /** One batch: a slice of the plan's groups, each in an execution of the group machine, in lanes. */
  readonly batch: Record<string, unknown>;
  /** One group: trigger, wait, check, until its refresh (forward or back) has ended. */
  readonly group: Record<string, unknown>;
}

/** A Task that runs a child state machine and waits for it (`.sync:2`: its output arrives as JSON). */
const runChild = (placeholder: string, input: State, fields: State): State => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::states:startExecution.sync:2',
  Parameters: {
    StateMachineArn: `\${${placeholder}}`,
    Input: { ...input, 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id' },
  },
  // Step Functions' own hiccups starting or watching the child; the child's failure itself is not retried.
  Retry: [
    {
      ErrorEquals: ['StepFunctions.SdkClientException', 'StepFunctions.ExecutionLimitExceededException'],
      IntervalSeconds: 2,
      MaxAttempts: 6,
      BackoffRate: 2,
      MaxDelaySeconds: 60,
      JitterStrategy: 'FULL',
    },
  ],
  ...fields,
});

export function buildDefinitions(options: DefinitionOptions): Definitions {
  const { pollIntervalSeconds } = options;
  if (!Number.isInteger(pollIntervalSeconds) || pollIntervalSeconds < 1) {
    throw new RangeError(
      `pollIntervalSeconds ${pollIntervalSeconds}: must be a whole number of seconds, 1 or more`,
    );
  }
  return {
    rollout: rolloutDefinition(),
    batch: batchDefinition(),
    group: groupDefinition(pollIntervalSeconds),
  };
}

function rolloutDefinition(): Record<string, unknown> {
  const toRollback = { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RollbackAmi' };
  const toRollbackFailure = {
    ErrorEquals: ['States.ALL'],
    ResultPath: '$.error',
    Next: 'NotifyRollbackFailure',
  };
  const batch = (phase: 'forward' | 'rollback', next: string, onError: State): State =>
    runChild(
      childMachinePlaceholders.batch,
      { 'rolloutId.$': '$.rollout.rolloutId', phase },
      {
        ResultSelector: {
          'next.$': '$.Output.next',
          'failure.$': '$.Output.failure',
          'error.$': '$.Output.error',
        },
        ResultPath: '$.batch',
        Catch: [onError],
        Next: next,
      },
    );
  return {
    Comment:
      'ami-rollout: share a new AMI, point launch templates at it, refresh Auto Scaling groups in waves (each batch of groups a child execution); roll back templates, parameter and instances on failure. The ledger (DynamoDB) holds the plan and every group.',
    StartAt: 'Preflight',
    States: {
      // The whole execution input (a path to a missing field would fail the execution with States.Runtime,
      // which no Catch sees; Preflight validates the input itself) and the execution's own ARN.
      Preflight: task('Preflight', {
        Parameters: { 'input.$': '$', 'executionArn.$': '$$.Execution.Id' },
        ResultPath: '$.rollout',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NotifyPreflightFailure' }],
        Next: 'Mode',
      }),
      // A rollback-only execution (`ami-rollout rollback`) goes straight to the rollback, with the operator's
      // request as the error it answers.
      Mode: {
        Type: 'Choice',
        Choices: [{ Variable: '$.rollout.mode', StringEquals: 'rollback', Next: 'RollbackRequested' }],
        Default: 'ShareAmi',
      },
      RollbackRequested: {
        Type: 'Pass',
        Parameters: { Error: 'RollbackRequested', 'Cause.$': '$.rollout.rollbackReason' },
        ResultPath: '$.error',
        Next: 'RollbackAmi',
      },
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
        Next: 'RunBatch',
      }),
      RunBatch: batch('forward', 'EvaluateBatch', toRollback),
      EvaluateBatch: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.batch.next', StringEquals: 'more', Next: 'RunBatch' },
          { Variable: '$.batch.next', StringEquals: 'done', Next: 'NotifySuccess' },
        ],
        Default: 'RecordRefreshFailure',
      },
      RecordRefreshFailure: {
        Type: 'Pass',
        // The failed group's refresh record, as the notification and `status` read it.
        // InstanceRefreshFailed (a group's refresh) or GateAlarmFired (the health gate), as FinishBatch says.
        Parameters: { 'Error.$': '$.batch.error', 'Cause.$': 'States.JsonToString($.batch.failure)' },
        ResultPath: '$.error',
        Next: 'RollbackAmi',
      },
      RollbackAmi: task('RollbackAmi', {
        Parameters: { 'rollout.$': '$.rollout' },
        ResultPath: '$.rollout',
        Catch: [toRollbackFailure],
        Next: 'RunRollbackBatch',
      }),
      RunRollbackBatch: batch('rollback', 'EvaluateRollbackBatch', toRollbackFailure),
      EvaluateRollbackBatch: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.batch.next', StringEquals: 'more', Next: 'RunRollbackBatch' },
          { Variable: '$.batch.next', StringEquals: 'done', Next: 'NotifyRollback' },
        ],
        Default: 'RecordRollbackRefreshFailure',
      },
      RecordRollbackRefreshFailure: {
        Type: 'Pass',
        Parameters: { Error: 'RollbackRefreshFailed', 'Cause.$': 'States.JsonToString($.batch.failure)' },
        ResultPath: '$.error',
        Next: 'NotifyRollbackFailure',
      },
      NotifySuccess: notify('SUCCEEDED', { 'rollout.$': '$.rollout' }, { Next: 'Succeeded' }),
      Succeeded: { Type: 'Succeed' },
      NotifyRollback: notify(
        'ROLLED_BACK',
        { 'rollout.$': '$.rollout', 'error.$': '$.error' },
        { Next: 'RolledBackWhy' },
      ),
      RolledBackWhy: {
        Type: 'Choice',
        Choices: [{ Variable: '$.rollout.mode', StringEquals: 'rollback', Next: 'RolledBackOnRequest' }],
        Default: 'NotifyFailure',
      },
      NotifyFailure: {
        Type: 'Fail',
        Error: 'RolloutRolledBack',
        Cause:
          'The new image failed; templates, parameter and instances were rolled back. See the rollback notification.',
      },
      // Ends as any rolled-back rollout does (status: ROLLED_BACK, exit 3): the fleet is on the image before.
      RolledBackOnRequest: {
        Type: 'Fail',
        Error: 'RolloutRolledBack',
        Cause:
          'Rolled back on request (ami-rollout rollback): templates, parameter and instances are as before the rollout. See the rollback notification.',
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

/** Number of lanes (Inline Maps side by side) a batch has; core/wave-plan.ts deals the groups to them. */
export const BATCH_LANES = 5;

function batchDefinition(): Record<string, unknown> {
  // Lanes: an outer Inline Map over the plan's lanes (at most BATCH_LANES), each an inner Inline Map over its
  // groups, at most its maxConcurrency (<= 40, Inline Map's limit) at once; the lanes' concurrencies add up to the
  // wave's maxParallel.
  const groups: State = {
    Type: 'Map',
    ItemsPath: '$.lane.items',
    MaxConcurrencyPath: '$.lane.maxConcurrency',
    ItemSelector: {
      'rolloutId.$': '$.rolloutId',
      'phase.$': '$.phase',
      'groupIndex.$': '$$.Map.Item.Value',
    },
    ItemProcessor: {
      ProcessorConfig: { Mode: 'INLINE' },
      StartAt: 'RunGroup',
      States: {
        RunGroup: runChild(
          childMachinePlaceholders.group,
          { 'rolloutId.$': '$.rolloutId', 'phase.$': '$.phase', 'groupIndex.$': '$.groupIndex' },
          { ResultSelector: { 'status.$': '$.Status' }, End: true },
        ),
      },
    },
    // Each group's outcome is in the ledger; the batch carries none of it.
    ResultPath: null,
    End: true,
  };
  return {
    Comment:
      'ami-rollout batch: the next slice of the plan (PlanBatch), what is left of the bake, every group of it in its own execution (up to maxParallel at once, in lanes of Inline Maps), then FinishBatch moves the ledger on.',
    StartAt: 'PlanBatch',
    States: {
      PlanBatch: task('PlanBatch', {
        Parameters: { 'rolloutId.$': '$.rolloutId', 'phase.$': '$.phase' },
        ResultPath: '$.plan',
        Next: 'CheckGate',
      }),
      // The health gate, and the bake of the wave before (or the watch window after the last): checked now and
      // every poll interval until the window ends; an alarm in ALARM ends the batch, failed.
      CheckGate: task('CheckGate', {
        Parameters: { 'rolloutId.$': '$.rolloutId', 'phase.$': '$.phase', 'from.$': '$.plan.from' },
        ResultPath: '$.gate',
        Next: 'GateOpen',
      }),
      GateOpen: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.gate.next', StringEquals: 'wait', Next: 'Bake' },
          { Variable: '$.gate.next', StringEquals: 'fired', Next: 'FinishBatch' },
        ],
        Default: 'Lanes',
      },
      Bake: { Type: 'Wait', SecondsPath: '$.gate.waitSeconds', Next: 'CheckGate' },
      Lanes: {
        Type: 'Map',
        ItemsPath: '$.plan.lanes',
        MaxConcurrency: BATCH_LANES,
        ItemSelector: { 'rolloutId.$': '$.rolloutId', 'phase.$': '$.phase', 'lane.$': '$$.Map.Item.Value' },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'Groups',
          States: { Groups: groups },
        },
        ResultPath: null,
        Next: 'FinishBatch',
      },
      FinishBatch: task('FinishBatch', {
        Parameters: {
          'rolloutId.$': '$.rolloutId',
          'phase.$': '$.phase',
          'from.$': '$.plan.from',
          'to.$': '$.plan.to',
        },
        ResultPath: '$.result',
        OutputPath: '$.result',
        End: true,
      }),
    },
  };
}

function groupDefinition(pollIntervalSeconds: number): Record<string, unknown> {
  const loop = (names: {
    trigger: StepFunctionName;
    check: StepFunctionName;
    started: string;
    wait: string;
    evaluate: string;
    retry?: unknown[];
  }): Record<string, State> => ({
    [names.trigger]: task(names.trigger, {
      Parameters: { 'group.$': '$' },
      ResultPath: '$.group',
      ...(names.retry ? { Retry: names.retry } : {}),
      Next: names.started,
    }),
    [names.started]: {
      Type: 'Choice',
      Choices: [{ Variable: '$.group.outcome', StringEquals: 'IN_PROGRESS', Next: names.wait }],
      Default: 'GroupDone',
    },
    [names.wait]: { Type: 'Wait', Seconds: pollIntervalSeconds, Next: names.check },
    [names.check]: task(names.check, {
      Parameters: { 'group.$': '$.group' },
      ResultPath: '$.group',
      Next: names.evaluate,
    }),
    [names.evaluate]: {
      Type: 'Choice',
      Choices: [{ Variable: '$.group.outcome', StringEquals: 'IN_PROGRESS', Next: names.wait }],
      Default: 'GroupDone',
    },
  });
  return {
    Comment:
      "ami-rollout group: one group's refresh (forward) or refresh back (rollback), polled to its end; the outcome goes to the ledger.",
    StartAt: 'Phase',
    States: {
      Phase: {
        Type: 'Choice',
        Choices: [{ Variable: '$.phase', StringEquals: 'rollback', Next: 'TriggerRollbackRefresh' }],
        Default: 'TriggerInstanceRefresh',
      },
      ...loop({
        trigger: 'TriggerInstanceRefresh',
        check: 'CheckRefreshStatus',
        started: 'RefreshStarted',
        wait: 'WaitForRefresh',
        evaluate: 'EvaluateRefreshStatus',
      }),
      ...loop({
        trigger: 'TriggerRollbackRefresh',
        check: 'CheckRollbackRefresh',
        started: 'RollbackRefreshStarted',
        wait: 'WaitForRollbackRefresh',
        evaluate: 'EvaluateRollbackRefresh',
        retry: retryWhileGroupBusy,
      }),
      // The group's outcome as the execution's output (a Succeed state takes no OutputPath in CloudFormation's schema).
      GroupDone: { Type: 'Pass', OutputPath: '$.group', End: true },
    },
  };
}

/** The definition as text with every `${...FunctionArn}` replaced, as CloudFormation's DefinitionSubstitutions do. */
export function renderDefinition(
  definition: Record<string, unknown>,
  functionArns: Readonly<Record<StepFunctionName, string>>,
  stateMachineArns?: Readonly<{ batch?: string; group?: string }>,
): string {
  const text = JSON.stringify(definition, null, 2);
  return text.replace(
    /\$\{([A-Za-z]+)(FunctionArn|StateMachineArn)\}/g,
    (placeholder, name: string, kind: string) => {
      const arn =
        kind === 'FunctionArn'
          ? (functionArns as Record<string, string>)[name]
          : stateMachineArns?.[name === 'Batch' ? 'batch' : name === 'Group' ? 'group' : ('' as 'batch')];
      if (!arn) throw new Error(`renderDefinition: no ARN for ${placeholder}`);
      return arn;
    },
  );
}
