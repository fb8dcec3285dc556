/**
 * Whether a group's refresh has anything that would notice a bad image. An image that boots but whose
 * application fails passes EC2 status checks, so a refresh under EC2 health checks alone, with no alarm, ends
 * Successful on it (Auto Scaling user guide, "Health checks for instances in an Auto Scaling group"). What
 * notices: ELB (or VPC Lattice) health checks from a load balancer the group is attached to, or a CloudWatch
 * alarm in the refresh's AlarmSpecification.
 */

/** What DescribeAutoScalingGroups says about a group's health checks. */
export interface GroupHealthFacts {
  readonly autoScalingGroupName: string;
  /** `HealthCheckType` split at its commas: EC2, ELB, VPC_LATTICE, EBS. */
  readonly healthCheckTypes: readonly string[];
  /** Target group ARNs, Classic Load Balancer names and ELB traffic sources attached to the group. */
  readonly loadBalancers: readonly string[];
  /** VPC Lattice target groups attached as traffic sources. */
  readonly vpcLatticeTargetGroups: readonly string[];
}

/** Why a group has no health signal. */
export type NoSignalReason =
  /** EC2 (and EBS) status checks only: they pass an instance whose application fails. */
  | 'ec2-only'
  /** HealthCheckType ELB with no target group or load balancer attached: ELB has nothing to check. */
  | 'elb-without-load-balancer'
  /** HealthCheckType VPC_LATTICE with no VPC Lattice target group attached. */
  | 'lattice-without-target-group';

export type HealthSignal =
  | { readonly kind: 'load-balancer'; readonly sources: readonly string[] }
  | { readonly kind: 'alarms'; readonly alarmNames: readonly string[] }
  /** No signal, and the configuration accepts that (`groupsWithoutHealthSignal`). */
  | { readonly kind: 'opted-out'; readonly reason: NoSignalReason }
  | { readonly kind: 'none'; readonly reason: NoSignalReason };

/**
 * The group's health signal: a load balancer's health checks first, then the refresh's alarms (the configured
 * `alarmNames` go into every group's AlarmSpecification), then the opt-out.
 */
export function healthSignalOf(
  group: GroupHealthFacts,
  options: { readonly alarmNames: readonly string[]; readonly optedOut: boolean },
): HealthSignal {
  const types = new Set(group.healthCheckTypes.map((type) => type.toUpperCase()));
  const sources = [
    ...(types.has('ELB') ? group.loadBalancers : []),
    ...(types.has('VPC_LATTICE') ? group.vpcLatticeTargetGroups : []),
  ];
  if (sources.length > 0) return { kind: 'load-balancer', sources };
  if (options.alarmNames.length > 0) return { kind: 'alarms', alarmNames: options.alarmNames };
  const reason: NoSignalReason = types.has('ELB')
    ? 'elb-without-load-balancer'
    : types.has('VPC_LATTICE')
      ? 'lattice-without-target-group'
      : 'ec2-only';
  return options.optedOut ? { kind: 'opted-out', reason } : { kind: 'none', reason };
}

const described: Readonly<Record<NoSignalReason, string>> = {
  'ec2-only': 'EC2 health checks only',
  'elb-without-load-balancer': 'HealthCheckType ELB but no target group or load balancer attached',
  'lattice-without-target-group': 'HealthCheckType VPC_LATTICE but no VPC Lattice target group attached',
};

/** One group's problem, as the refusal names it: `web (EC2 health checks only)`. */
export function describeNoSignal(name: string, reason: NoSignalReason): string {
  return `${name} (${described[reason]})`;
}
