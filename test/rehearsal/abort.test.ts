/**
 * An operator's abort through the real definitions: what `ami-rollout abort` does (core/abort.ts decides, the
 * ledger records it), done from inside a step while the rollout runs: mid-wave, and during a bake.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { getRollout, Ledger, requestAbort } from '../../src/adapters/ledger.ts';
import { parseConfig } from '../../src/config/load.ts';
import { decideAbort } from '../../src/core/abort.ts';
import { inProcessClientConfig, type LocalAccount } from '../../src/local-account/index.ts';
import { rehearse } from '../../src/rehearsal/rehearse.ts';
import { exampleConfig, fleet, inServiceImages, NEW_IMAGE, PREVIOUS_IMAGE } from './example-fleet.ts';

const ROLLOUT = `rollout-${NEW_IMAGE}`;

/** Aborts the rollout as the CLI does; returns what the decision was. */
async function abort(account: LocalAccount, reason: string): Promise<string> {
  const ledger = new Ledger(new DynamoDBClient(inProcessClientConfig(account)), 'ami-rollout-ledger');
  const item = await getRollout(ledger, ROLLOUT);
  const decision = decideAbort('RUNNING', item, 'arn:test');
  if (decision.kind !== 'abort') return decision.kind;
  const recorded = await requestAbort(ledger, ROLLOUT, {
    wave: 0,
    reason: `aborted by an operator: ${reason}`,
    at: account.now().toISOString(),
    abort: { reason },
  });
  return recorded ? 'abort' : 'lost';
}

const wavesConfig = () => {
  const { autoScalingGroupNames: _names, ...rest } = exampleConfig as Record<string, unknown>;
  return parseConfig({
    ...rest,
    waves: [
      { name: 'web', autoScalingGroupNames: ['web'], bakeMinutes: 20 },
      { name: 'api', autoScalingGroupNames: ['api'] },
      { name: 'worker', autoScalingGroupNames: ['worker'] },
    ],
  });
};

describe('an operator abort through the real definitions', () => {
  it('mid-wave: the refresh in flight finishes, nothing starts after it, everything is restored', async () => {
    let account: LocalAccount | undefined;
    const decisions: string[] = [];
    const { report, ledger } = await rehearse({
      config: wavesConfig(),
      fleet,
      imageId: NEW_IMAGE,
      prepare: (a) => {
        account = a;
      },
      wrapStep: (step, handler) =>
        step !== 'CheckRefreshStatus'
          ? handler
          : async (event) => {
              const group = (event as { group?: { groupIndex?: number } }).group;
              // api's first check: api is refreshing, web is done.
              if (group?.groupIndex === 1 && decisions.length === 0)
                decisions.push(await abort(account!, 'p99 up'));
              // A second abort while it winds down is harmless.
              else if (group?.groupIndex === 1 && decisions.length === 1)
                decisions.push(await abort(account!, 'again'));
              return handler(event);
            },
    });
    expect(decisions).toEqual(['abort', 'already-aborted']);
    expect(report.status).toBe('ROLLED_BACK');
    const byName = new Map(ledger!.groups.map((g) => [g.autoScalingGroupName, g]));
    expect(byName.get('api')?.status).toBe('SUCCEEDED');
    expect(byName.get('worker')?.status).toBe('SKIPPED');
    expect(account!.state.instanceRefreshes.get('worker') ?? []).toEqual([]);
    for (const [group, images] of Object.entries(inServiceImages(account!)))
      expect(Object.keys(images), group).toEqual([PREVIOUS_IMAGE]);
    expect(account!.state.published.at(-1)?.message).toMatch(
      /Cause \(operator abort\): aborted by an operator: p99 up/,
    );
  });

  it('during a bake: the next wave never starts, and web is restored', async () => {
    let account: LocalAccount | undefined;
    let aborted = false;
    const { report, ledger } = await rehearse({
      config: wavesConfig(),
      fleet,
      imageId: NEW_IMAGE,
      prepare: (a) => {
        account = a;
      },
      wrapStep: (step, handler) =>
        step !== 'CheckGate'
          ? handler
          : async (event) => {
              const result = (await handler(event)) as { next: string; window: { kind: string } };
              if (!aborted && result.next === 'wait' && result.window.kind === 'bake') {
                aborted = true;
                await abort(account!, 'bad canary');
              }
              return result;
            },
    });
    expect(aborted).toBe(true);
    expect(report.status).toBe('ROLLED_BACK');
    expect(account!.state.instanceRefreshes.get('api') ?? []).toEqual([]);
    expect(ledger!.rollout.failure?.abort?.reason).toBe('bad canary');
    for (const [group, images] of Object.entries(inServiceImages(account!)))
      expect(Object.keys(images), group).toEqual([PREVIOUS_IMAGE]);
  });
});
