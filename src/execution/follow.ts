import { isRunningExecution } from '../core/start-decision.ts';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';

export interface FollowOptions {
  /** Called with each batch of new history events, oldest first. */
  readonly onEvents: (events: HistoryEvent[]) => void;
  /** Called after each poll, once its events are handed over (e.g. to read the ledger too). Default: none. */
  readonly onPoll?: () => Promise<void>;
  /** Real milliseconds between two polls. Default 2000 (against AWS); the rehearsal polls far more often. */
  readonly pollMs?: number;
}

/**
 * Every history event after `afterId`, each once, oldest first. Reads newest first and stops at the first event
 * already seen, so each poll costs the new events only, however long the history has grown (AWS pages are
 * opaque, and a forward read would start from event 1 every time).
 *
 * The history of a running execution grows while it is read. A token that counts from the newest event (as the
 * local account's do) then shifts, and the next page repeats events of the one before: the pages are merged by
 * event id, which grows by one per event, so nothing is handed over twice or out of order.
 */
export async function historySince(
  sfn: SFNClient,
  executionArn: string,
  afterId: number,
): Promise<HistoryEvent[]> {
  const byId = new Map<number, HistoryEvent>();
  let nextToken: string | undefined;
  // Small pages between two polls, when only a few events are new (each carries the whole state); large ones
  // for a first read of a long history. The size stays the same within one read: a token belongs to its request.
  const maxResults = afterId === 0 ? 1000 : 25;
  read: do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults,
        nextToken,
        reverseOrder: true,
        includeExecutionData: true,
      }),
    );
    for (const event of page.events ?? []) {
      const id = event.id ?? 0;
      if (id <= afterId) break read;
      byId.set(id, event);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return [...byId.values()].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
}

/**
 * Follows an execution through the Step Functions API until it ends, handing over its history as it grows: the
 * same code watches a rehearsal on the local account and a rollout on AWS.
 */
export async function followExecution(
  sfn: SFNClient,
  executionArn: string,
  options: FollowOptions,
): Promise<DescribeExecutionCommandOutput> {
  let lastId = 0;
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const events = await historySince(sfn, executionArn, lastId);
    if (events.length > 0) {
      lastId = events.at(-1)?.id ?? lastId;
      options.onEvents(events);
    }
    if (!isRunningExecution(described.status)) {
      // The history can hold events written after the describe: read once more so none is missed.
      const rest = await historySince(sfn, executionArn, lastId);
      if (rest.length > 0) options.onEvents(rest);
      await options.onPoll?.();
      return described;
    }
    await options.onPoll?.();
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2000));
  }
}
