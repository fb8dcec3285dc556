import type { HistoryEvent } from '@aws-sdk/client-sfn';

/**
 * How big each execution of a rollout grew: the quantities Step Functions limits (25,000 history events per
 * execution, 256 KiB per input or output). Pure: give it the histories, from the local account's executions
 * or read through GetExecutionHistory.
 */

/** Any history event: the SDK's, or the local account's own record of it (same member names). */
export interface AnyHistoryEvent {
  readonly id?: number;
  readonly type?: string;
}

export interface ExecutionHistory {
  readonly executionArn: string;
  /** The rollout's own execution, one of its batch executions, or one of its group executions. */
  readonly kind: 'parent' | 'batch' | 'group';
  readonly events: readonly AnyHistoryEvent[];
}

export interface HistoryStats {
  readonly parent: { readonly executionArn: string; readonly events: number };
  readonly batches: readonly { readonly executionArn: string; readonly events: number }[];
  readonly groups: {
    readonly executions: number;
    readonly maxEvents: number;
    readonly meanEvents: number;
    /** The group execution with the most events. */
    readonly maxExecutionArn?: string;
  };
  /** Every execution's events together. */
  readonly totalEvents: number;
  /** State transitions, as Step Functions bills them: one per state entered, in every execution. */
  readonly stateTransitions: number;
}

export interface LargestPayload {
  /** UTF-8 bytes of the largest input, output or parameters any event of any execution carries. */
  readonly bytes: number;
  readonly executionArn: string;
  readonly eventId: number;
  readonly eventType: string;
  /** Which field: `input`, `output`, `parameters`, ... */
  readonly field: string;
}

/** The payload fields of an event's details (`stateEnteredEventDetails.input`, `taskSucceededEventDetails.output`...). */
const PAYLOAD_FIELDS = ['input', 'output', 'parameters', 'cause'] as const;

/** The largest payload of one event: the field and its size in bytes. */
export function eventPayload(event: AnyHistoryEvent): { bytes: number; field: string } | undefined {
  let largest: { bytes: number; field: string } | undefined;
  for (const [key, details] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || !details || typeof details !== 'object') continue;
    for (const field of PAYLOAD_FIELDS) {
      const value = (details as Record<string, unknown>)[field];
      if (typeof value !== 'string') continue;
      const bytes = Buffer.byteLength(value, 'utf8');
      if (!largest || bytes > largest.bytes) largest = { bytes, field };
    }
  }
  return largest;
}

export function historyStats(executions: readonly ExecutionHistory[]): HistoryStats {
  const parent = executions.find((e) => e.kind === 'parent');
  const groups = executions.filter((e) => e.kind === 'group');
  const most = groups.reduce<ExecutionHistory | undefined>(
    (best, e) => (!best || e.events.length > best.events.length ? e : best),
    undefined,
  );
  const groupEvents = groups.reduce((n, e) => n + e.events.length, 0);
  return {
    parent: { executionArn: parent?.executionArn ?? '', events: parent?.events.length ?? 0 },
    batches: executions
      .filter((e) => e.kind === 'batch')
      .map((e) => ({ executionArn: e.executionArn, events: e.events.length })),
    groups: {
      executions: groups.length,
      maxEvents: most?.events.length ?? 0,
      meanEvents: groups.length > 0 ? Math.round((groupEvents / groups.length) * 10) / 10 : 0,
      ...(most ? { maxExecutionArn: most.executionArn } : {}),
    },
    totalEvents: executions.reduce((n, e) => n + e.events.length, 0),
    stateTransitions: executions.reduce(
      (n, e) => n + e.events.filter((event) => event.type?.endsWith('StateEntered')).length,
      0,
    ),
  };
}

export function largestPayload(executions: readonly ExecutionHistory[]): LargestPayload | undefined {
  let largest: LargestPayload | undefined;
  for (const execution of executions) {
    for (const event of execution.events) {
      const found = eventPayload(event);
      if (found && (!largest || found.bytes > largest.bytes)) {
        largest = {
          bytes: found.bytes,
          executionArn: execution.executionArn,
          eventId: event.id ?? 0,
          eventType: event.type ?? '',
          field: found.field,
        };
      }
    }
  }
  return largest;
}

/**
 * The child executions a history started (`states:startExecution` Tasks): their ARNs, from the Task events'
 * outputs (StartExecution's response at TaskSubmitted, DescribeExecution's at TaskSucceeded, its JSON as the
 * cause of TaskFailed). The same on AWS and on the local account, so a rollout's tree can be walked through
 * GetExecutionHistory alone.
 */
export function childExecutionArns(events: readonly HistoryEvent[]): string[] {
  const found = new Set<string>();
  for (const event of events) {
    const details =
      event.taskSubmittedEventDetails ?? event.taskSucceededEventDetails ?? event.taskFailedEventDetails;
    if (!details || details.resourceType !== 'states') continue;
    const text =
      'output' in details && typeof details.output === 'string'
        ? details.output
        : 'cause' in details && typeof details.cause === 'string'
          ? details.cause
          : undefined;
    if (!text) continue;
    try {
      const parsed = JSON.parse(text) as { ExecutionArn?: unknown; executionArn?: unknown };
      const arn = parsed.ExecutionArn ?? parsed.executionArn;
      if (typeof arn === 'string') found.add(arn);
    } catch {
      // Not JSON: not a child's description.
    }
  }
  return [...found];
}
