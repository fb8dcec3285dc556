import { describe, expect, it } from 'vitest';
import { unsupportedGroupReason } from '../../src/core/group-support.ts';

describe('unsupportedGroupReason', () => {
  it('accepts a group with a plain launch template', () => {
    expect(unsupportedGroupReason('web', {})).toBeUndefined();
    expect(unsupportedGroupReason('web', { mixedInstancesPolicy: false })).toBeUndefined();
  });

  it('refuses a group with a mixed instances policy, naming it and the fix', () => {
    const reason = unsupportedGroupReason('spot-workers', { mixedInstancesPolicy: true });
    expect(reason).toMatch(/^group spot-workers launches through a mixed instances policy/);
    expect(reason).toMatch(/Remove the group from autoScalingGroupNames/);
  });
});
