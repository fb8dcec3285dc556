import { describe, expect, it } from 'vitest';
import { ledgerTableName, rolloutIdOf } from '../../src/cli/execution-view.ts';

const machine = 'arn:aws:states:us-east-1:111122223333:stateMachine:ami-rollout';

describe('the ledger a CLI command reads', () => {
  it('takes --ledger-table, else AMI_ROLLOUT_LEDGER_TABLE, else the state machine`s name with -ledger', () => {
    expect(ledgerTableName(machine, 'mine', { AMI_ROLLOUT_LEDGER_TABLE: 'env' })).toBe('mine');
    expect(ledgerTableName(machine, undefined, { AMI_ROLLOUT_LEDGER_TABLE: 'env' })).toBe('env');
    expect(ledgerTableName(machine, undefined, {})).toBe('ami-rollout-ledger');
  });

  it('finds the rollout id in the execution input, else uses the execution name', () => {
    expect(rolloutIdOf({ input: '{"rolloutId":"rollout-x","imageId":"ami-1"}', name: 'other' })).toBe(
      'rollout-x',
    );
    expect(rolloutIdOf({ input: 'not json', name: 'rollout-y' })).toBe('rollout-y');
  });
});
