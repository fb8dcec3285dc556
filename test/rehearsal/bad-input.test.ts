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
