import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { followExecution } from '../../src/execution/follow.ts';
import {
  createLocalAccountFromFleet,
  inProcessClientConfig,
  readFleetFile,
} from '../../src/local-account/index.ts';
import { deployToLocalAccount } from '../../src/rehearsal/pipeline.ts';

describe('an execution started by hand with malformed input', () => {
  it('fails in Preflight with a FAILED notification naming the problem, and changes nothing', async () => {
    const account = await createLocalAccountFromFleet(await readFleetFile('examples/fleet.json'));
    const { stateMachineArn } = await deployToLocalAccount(
      account,
      await loadConfig('examples/rollout.config.json'),
    );
    const sfn = new SFNClient(inProcessClientConfig(account));
    const callsBefore = account.calls.length;
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: 'by-hand',
        input: JSON.stringify({ image: 'ami-0a1b2c3d4e5f60002' }),
      }),
    );
    const result = await followExecution(sfn, executionArn, { onEvents: () => undefined, pollMs: 5 });
    // Not States.Runtime (which no Catch sees): the state machine's own failure path ran.
    expect(result).toMatchObject({ status: 'FAILED', error: 'PreflightFailed' });
    expect(account.state.published).toHaveLength(1);
    expect(account.state.published[0]!.subject).toContain('FAILED, nothing was changed');
    expect(account.state.published[0]!.message).toMatch(/InvalidEventError/);
    expect(account.state.published[0]!.message).toMatch(/imageId/);
    const mutations = account.calls
      .slice(callsBefore)
      .filter((c) => !/^(Describe|Get|List|Publish|StartExecution)/.test(c.action));
    expect(mutations).toEqual([]);
  });
});

describe('two rollouts started at the same moment (the CLI and the trigger racing past the start check)', () => {
  it('never both proceed: each preflight sees the other running and refuses, changing nothing', async () => {
    const account = await createLocalAccountFromFleet(await readFleetFile('examples/fleet.json'));
    const { stateMachineArn } = await deployToLocalAccount(
      account,
      await loadConfig('examples/rollout.config.json'),
    );
    const sfn = new SFNClient(inProcessClientConfig(account));
    const start = (name: string) =>
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn,
          name,
          input: JSON.stringify({ rolloutId: name, imageId: 'ami-0a1b2c3d4e5f60002' }),
        }),
      );
    const [first, second] = await Promise.all([start('from-cli'), start('from-trigger')]);
    const results = await Promise.all(
      [first, second].map((s) =>
        followExecution(sfn, s.executionArn ?? '', { onEvents: () => undefined, pollMs: 5 }),
      ),
    );
    expect(results.filter((r) => r.status === 'SUCCEEDED').length).toBeLessThanOrEqual(1);
    const refused = results.filter((r) => r.status === 'FAILED');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) expect(r.error).toBe('PreflightFailed');
    const messages = account.state.published.map((m) => m.message).join('\n');
    expect(messages).toMatch(/RolloutInProgressError/);
    expect(messages).toMatch(/another rollout is running: from-(cli|trigger)/);
    // Started in the same instant, each preflight saw the other: both refused, and nothing in the fleet changed.
    expect(refused).toHaveLength(2);
    expect(account.state.launchTemplates.get('lt-0a1b2c3d4e5f60001')!.defaultVersion).toBe(1);
    expect(account.calls.some((c) => c.action === 'StartInstanceRefresh')).toBe(false);
  });
});
