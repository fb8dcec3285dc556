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
  it('lets exactly one proceed: the other preflight finds the lock held and refuses', async () => {
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
    // Started in the same instant: from-cli's Preflight takes the pipeline's lock (a conditional write) first;
    // from-trigger's finds it held and refuses.
    expect(results.map((r) => [r.name, r.status, r.error])).toEqual([
      ['from-cli', 'SUCCEEDED', undefined],
      ['from-trigger', 'FAILED', 'PreflightFailed'],
    ]);
    const refusal = account.state.published.find((m) => m.message.includes('RolloutInProgressError'));
    expect(refusal?.message).toMatch(/another rollout holds the pipeline's lock: from-cli/);
    expect(refusal?.message).toMatch(/stops here and changed nothing/);
    // Only one rollout changed the fleet: each template got exactly one new version.
    expect([...account.state.launchTemplates.values()].map((t) => t.latestVersion)).toEqual([2, 2]);
  });
});
