import { describe, expect, it } from 'vitest';
import { describeNoSignal, healthSignalOf, type GroupHealthFacts } from '../../src/core/health-signal.ts';

const group = (facts: Partial<GroupHealthFacts>): GroupHealthFacts => ({
  autoScalingGroupName: 'web',
  healthCheckTypes: ['EC2'],
  loadBalancers: [],
  vpcLatticeTargetGroups: [],
  ...facts,
});
const none = { alarmNames: [], optedOut: false };

describe('healthSignalOf', () => {
  it('takes ELB health checks with a target group or load balancer attached as a signal', () => {
    const tg = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web/0123456789abcdef';
    expect(healthSignalOf(group({ healthCheckTypes: ['ELB'], loadBalancers: [tg] }), none)).toEqual({
      kind: 'load-balancer',
      sources: [tg],
    });
    // HealthCheckType is comma-separated: "EC2,ELB" is ELB checks too.
    expect(
      healthSignalOf(group({ healthCheckTypes: ['EC2', 'ELB'], loadBalancers: ['classic'] }), none).kind,
    ).toBe('load-balancer');
  });

  it('takes VPC Lattice health checks with a Lattice target group as a signal', () => {
    expect(
      healthSignalOf(
        group({ healthCheckTypes: ['VPC_LATTICE'], vpcLatticeTargetGroups: ['tg-lattice'] }),
        none,
      ).kind,
    ).toBe('load-balancer');
  });

  it('finds no signal in EC2 checks alone, however many load balancers the group has', () => {
    expect(healthSignalOf(group({ loadBalancers: ['tg'] }), none)).toEqual({
      kind: 'none',
      reason: 'ec2-only',
    });
  });

  it('finds no signal in ELB checks with nothing attached', () => {
    expect(healthSignalOf(group({ healthCheckTypes: ['ELB'] }), none)).toEqual({
      kind: 'none',
      reason: 'elb-without-load-balancer',
    });
  });

  it('takes the refresh alarms as a signal for any group', () => {
    expect(healthSignalOf(group({}), { alarmNames: ['a'], optedOut: false })).toEqual({
      kind: 'alarms',
      alarmNames: ['a'],
    });
  });

  it('lets an opted-out group through without a signal, saying why it has none', () => {
    expect(healthSignalOf(group({ healthCheckTypes: ['ELB'] }), { alarmNames: [], optedOut: true })).toEqual({
      kind: 'opted-out',
      reason: 'elb-without-load-balancer',
    });
    expect(describeNoSignal('web', 'ec2-only')).toBe('web (EC2 health checks only)');
  });
});
