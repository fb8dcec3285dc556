import { z } from 'zod';

/** Why a launch fails, as the `launchFailure` fault names it. */
export const LAUNCH_FAILURE_REASONS = ['imageNotFound', 'kmsKeyNotUsable', 'insufficientCapacity'] as const;
export type LaunchFailureReason = (typeof LAUNCH_FAILURE_REASONS)[number];

/** The codes DynamoDB throttles with (botocore's DynamoDB model); the SDKs and the CLI retry each. */
export const DYNAMODB_THROTTLING_CODES = [
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
] as const;
export type DynamoDbThrottlingCode = (typeof DYNAMODB_THROTTLING_CODES)[number];

/**
 * Faults the local account can be told to show: declared in the fleet file, or added at run time
 * (`account.faults.add(...)`, or POST /_local/faults on a running emulator).
 */
export const faultSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('unhealthyInstances'),
      imageId: z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id such as ami-0123456789abcdef0'),
      group: z.string().min(1).optional(),
    })
    .strict()
    .describe(
      'The image fails to boot: new instances launched from imageId (in group, or in any group) fail their EC2 ' +
        'status checks, and so their health checks under either health check type.',
    ),
  z
    .object({
      kind: z.literal('appFailure'),
      imageId: z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id such as ami-0123456789abcdef0'),
      group: z.string().min(1).optional(),
    })
    .strict()
    .describe(
      'The image boots but its application is broken: instances from imageId (in group, or in any group) pass ' +
        'EC2 status checks, fail their load balancer target health checks, and move the application error metric. ' +
        'Under EC2 health checks alone Auto Scaling does not notice.',
    ),
  z
    .object({
      kind: z.literal('launchFailure'),
      imageId: z
        .string()
        .regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id such as ami-0123456789abcdef0')
        .optional(),
      group: z.string().min(1).optional(),
      reason: z.enum(LAUNCH_FAILURE_REASONS),
    })
    .strict()
    .describe(
      'Launches from imageId (or any image) in group (or any group) fail: imageNotFound (RunInstances answers ' +
        'InvalidAMIID.NotFound), kmsKeyNotUsable (the instance is terminated as it launches: ' +
        'Client.InvalidKMSKey.InvalidState), insufficientCapacity (InsufficientInstanceCapacity). Deregistering ' +
        'an image makes its launches fail by itself.',
    ),
  z
    .object({ kind: z.literal('stallRefresh'), group: z.string().min(1) })
    .strict()
    .describe('An instance refresh on group makes no progress: its new instances never finish launching.'),
  z
    .object({
      kind: z.literal('cancelRefresh'),
      group: z.string().min(1),
      atPercentage: z.number().int().min(0).max(100),
    })
    .strict()
    .describe('An operator cancels the refresh on group once it reaches atPercentage.'),
  z
    .object({ kind: z.literal('failRollback'), group: z.string().min(1) })
    .strict()
    .describe('A native rollback (AutoRollback or RollbackInstanceRefresh) on group ends in RollbackFailed.'),
  z
    .object({
      kind: z.literal('throttle'),
      operation: z
        .string()
        .regex(
          /^([a-z0-9-]+:)?[A-Z][A-Za-z0-9]+$/,
          'must be an operation name such as DescribeInstanceRefreshes or autoscaling:DescribeInstanceRefreshes',
        ),
      calls: z.number().int().min(1),
    })
    .strict()
    .describe("The next `calls` calls of operation are refused with the service's throttling error."),
  z
    .object({
      kind: z.literal('dynamodbThrottle'),
      operation: z
        .string()
        .regex(/^[A-Z][A-Za-z]+$/, 'must be a DynamoDB operation name such as PutItem or UpdateItem')
        .optional(),
      calls: z.number().int().min(1),
      code: z.enum(DYNAMODB_THROTTLING_CODES).optional(),
    })
    .strict()
    .describe(
      'The next `calls` DynamoDB calls (of operation, or of any operation) are refused with code (default ' +
        'ProvisionedThroughputExceededException), as a hot partition or an account quota would refuse them. The ' +
        'AWS SDKs retry these codes by themselves (3 attempts by default).',
    ),
  z
    .object({
      kind: z.literal('capacityChange'),
      group: z.string().min(1),
      atMinute: z.number().int().min(0).describe('Virtual minutes from the start of the account.'),
      desiredCapacity: z.number().int().min(0),
    })
    .strict()
    .describe(
      "At minute atMinute the group's desired capacity is set to desiredCapacity, as a scaling policy or an " +
        "operator would set it, and the group scales out or in. A value outside the group's MinSize/MaxSize at " +
        "that minute is clamped to them, as a scaling policy's change is. New instances launch from the version " +
        "the group's launch template setting ($Default, $Latest or a number) resolves to at launch, or, during an " +
        "instance refresh, from the refresh's desired configuration. A minute already past when the fault is " +
        'added applies at once.',
    ),
  z
    .object({
      kind: z.literal('alarm'),
      alarmName: z.string().min(1).max(255),
      atMinute: z.number().int().min(0).describe('Virtual minutes from the start of the account.'),
      state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
    })
    .strict()
    .describe(
      'From minute atMinute on, the CloudWatch alarm alarmName holds state, as if its metric kept breaching ' +
        '(or kept within its threshold), until the fault is cleared. Unlike SetAlarmState, the next evaluation ' +
        'does not undo it.',
    ),
]);

export type Fault = z.infer<typeof faultSchema>;
export type ActiveFault = Fault & { readonly id: number };
export type AlarmFault = Extract<ActiveFault, { kind: 'alarm' }>;

export class FaultInjector {
  private faults: ActiveFault[] = [];
  private nextId = 1;
  /** Throttle calls still to refuse, per fault id. */
  private remaining = new Map<number, number>();
  /** Called after each add: faults that act at a virtual time (an alarm fault) schedule themselves. */
  private readonly addListeners: ((fault: ActiveFault) => void)[] = [];
  /** Told after any fault is added or removed: simulations whose outcome depends on faults re-plan. */
  private readonly changeListeners: (() => void)[] = [];

  add(fault: Fault): ActiveFault {
    const active = { ...faultSchema.parse(fault), id: this.nextId++ };
    this.faults.push(active);
    if (active.kind === 'throttle' || active.kind === 'dynamodbThrottle')
      this.remaining.set(active.id, active.calls);
    for (const listener of this.addListeners) listener(active);
    this.changed();
    return active;
  }

  onAdd(listener: (fault: ActiveFault) => void): void {
    this.addListeners.push(listener);
  }

  remove(id: number): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    this.remaining.delete(id);
    const removed = this.faults.length < before;
    if (removed) this.changed();
    return removed;
  }

  clear(): void {
    this.faults = [];
    this.remaining.clear();
    this.changed();
  }

  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  list(): readonly ActiveFault[] {
    return this.faults;
  }

  /** True when this call should be throttled; consumes one of the fault's calls. */
  takeThrottle(service: string, action: string): boolean {
    for (const fault of this.faults) {
      if (fault.kind !== 'throttle') continue;
      const [svc, op] = fault.operation.includes(':')
        ? fault.operation.split(':')
        : [undefined, fault.operation];
      if (op !== action || (svc !== undefined && svc !== service)) continue;
      const left = this.remaining.get(fault.id) ?? 0;
      if (left <= 0) continue;
      this.remaining.set(fault.id, left - 1);
      return true;
    }
    return false;
  }

  /**
   * The throttling code a service-specific throttle fault (`dynamodbThrottle`) refuses this call with, if one
   * does; consumes one of the fault's calls.
   */
  takeServiceThrottle(service: string, action: string): DynamoDbThrottlingCode | undefined {
    if (service !== 'dynamodb') return undefined;
    for (const fault of this.faults) {
      if (fault.kind !== 'dynamodbThrottle') continue;
      if (fault.operation !== undefined && fault.operation !== action) continue;
      const left = this.remaining.get(fault.id) ?? 0;
      if (left <= 0) continue;
      this.remaining.set(fault.id, left - 1);
      return fault.code ?? 'ProvisionedThroughputExceededException';
    }
    return undefined;
  }

  /** Do instances from `imageId` in `group` fail to boot (`unhealthyInstances`), so fail EC2 status checks? */
  instancesUnhealthy(group: string, imageId: string): boolean {
    return this.faults.some(
      (f) =>
        f.kind === 'unhealthyInstances' &&
        f.imageId === imageId &&
        (f.group === undefined || f.group === group),
    );
  }

  /**
   * Does the application on instances from `imageId` in `group` fail (`appFailure`)? The shape of CloudWatch's
   * ApplicationFailurePredicate, so the application metric can read it directly.
   */
  applicationFails(group: string, imageId: string): boolean {
    return this.faults.some(
      (f) => f.kind === 'appFailure' && f.imageId === imageId && (f.group === undefined || f.group === group),
    );
  }

  /** Why a launch from `imageId` in `group` fails (`launchFailure`), if one does; the first declared wins. */
  launchFailure(group: string, imageId: string): LaunchFailureReason | undefined {
    const fault = this.faults.find(
      (f) =>
        f.kind === 'launchFailure' &&
        (f.imageId === undefined || f.imageId === imageId) &&
        (f.group === undefined || f.group === group),
    );
    return fault?.kind === 'launchFailure' ? fault.reason : undefined;
  }

  refreshStalls(group: string): boolean {
    return this.faults.some((f) => f.kind === 'stallRefresh' && f.group === group);
  }

  /** The percentage at which an operator cancels a refresh on `group`, if one is declared. */
  cancelAt(group: string): number | undefined {
    const fault = this.faults.find((f) => f.kind === 'cancelRefresh' && f.group === group);
    return fault?.kind === 'cancelRefresh' ? fault.atPercentage : undefined;
  }

  /**
   * The state an `alarm` fault holds `alarmName` in at `nowMs`, if one does (the latest added wins), given the
   * account's start time (atMinute counts from it).
   */
  heldAlarmState(alarmName: string, nowMs: number, accountStartMs: number): AlarmFault | undefined {
    let held: AlarmFault | undefined;
    for (const fault of this.faults) {
      if (
        fault.kind === 'alarm' &&
        fault.alarmName === alarmName &&
        nowMs >= accountStartMs + fault.atMinute * 60_000
      )
        held = fault;
    }
    return held;
  }

  rollbackFails(group: string): boolean {
    return this.faults.some((f) => f.kind === 'failRollback' && f.group === group);
  }
}
