import type { LocalAccount } from '../account.ts';
import { AwsApiError } from '../errors.ts';
import type { Input } from '../protocols/input.ts';
import { loadBalancingOf } from '../simulation/load-balancing.ts';
import type { Listener, LoadBalancer, TargetGroup } from '../state.ts';
import type { ServiceDefinition } from './service.ts';

const validation = (message: string): AwsApiError => new AwsApiError('ValidationError', message);
const invalidConfiguration = (message: string): AwsApiError =>
  new AwsApiError('InvalidConfigurationRequest', message);
const targetGroupNotFound = (): AwsApiError =>
  new AwsApiError('TargetGroupNotFound', 'One or more target groups not found');
const loadBalancerNotFound = (): AwsApiError =>
  new AwsApiError('LoadBalancerNotFound', 'One or more load balancers not found');

/** Load balancer and target group names: 1-32 letters, digits and hyphens, not starting or ending with a hyphen. */
const RESOURCE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;

/** Target group attributes an instance target group behind an Application Load Balancer has, with defaults. */
const TARGET_GROUP_ATTRIBUTE_DEFAULTS: Readonly<Record<string, string>> = {
  'deregistration_delay.timeout_seconds': '300',
  'stickiness.enabled': 'false',
  'stickiness.type': 'lb_cookie',
  'stickiness.lb_cookie.duration_seconds': '86400',
  'stickiness.app_cookie.cookie_name': '',
  'stickiness.app_cookie.duration_seconds': '86400',
  'load_balancing.algorithm.type': 'round_robin',
  'load_balancing.algorithm.anomaly_mitigation': 'off',
  'load_balancing.cross_zone.enabled': 'use_load_balancer_configuration',
  'slow_start.duration_seconds': '0',
  'target_group_health.dns_failover.minimum_healthy_targets.count': '1',
  'target_group_health.dns_failover.minimum_healthy_targets.percentage': 'off',
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '1',
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': 'off',
};

const PROTOCOLS = ['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP'];

/**
 * Elastic Load Balancing v2 (query protocol, 2015-12-01): enough to put instances behind a load balancer and read
 * their health. Load balancers with forward listeners, target groups of instances with their health check
 * settings and attributes, registration, and DescribeTargetHealth in AWS's states and reason codes. Target health
 * itself is simulated in simulation/load-balancing.ts; Auto Scaling registers its groups' instances there.
 *
 * Not modelled: rules, certificates, IP and Lambda targets, security groups and subnets (a load balancer is
 * active at once, in the region's first two zones), tags (accepted and dropped).
 */
export function elbv2Service(account: LocalAccount): ServiceDefinition {
  const { targetGroups, loadBalancers, listeners } = account.state;
  const simulation = loadBalancingOf(account);
  const arnPrefix = `arn:aws:elasticloadbalancing:${account.region}:${account.accountId}`;

  const hexId = (kind: string): string => account.ids.uuid(kind).replace(/-/g, '').slice(-16);

  const targetGroup = (arn: string): TargetGroup => {
    const found = targetGroups.get(arn);
    if (!found) throw targetGroupNotFound();
    return found;
  };

  const loadBalancer = (arn: string): LoadBalancer => {
    const found = loadBalancers.get(arn);
    if (!found) throw loadBalancerNotFound();
    return found;
  };

  const checkName = (name: string, what: string): void => {
    if (!RESOURCE_NAME.test(name)) {
      throw validation(
        `${what} name '${name}' can only contain characters that are alphanumeric characters or hyphens(-), ` +
          'can have at most 32 characters, and must not begin or end with a hyphen',
      );
    }
  };

  /** The health check settings of a Create/ModifyTargetGroup request, over `base` (defaults or the group's own). */
  const readHealthCheck = (input: Input, base: HealthCheckSettings): HealthCheckSettings => {
    const settings: HealthCheckSettings = {
      healthCheckProtocol: input.optString('HealthCheckProtocol') ?? base.healthCheckProtocol,
      healthCheckPort: input.optString('HealthCheckPort') ?? base.healthCheckPort,
      healthCheckPath: input.optString('HealthCheckPath') ?? base.healthCheckPath,
      healthCheckIntervalSeconds:
        input.optInt('HealthCheckIntervalSeconds', 5, 300) ?? base.healthCheckIntervalSeconds,
      healthCheckTimeoutSeconds:
        input.optInt('HealthCheckTimeoutSeconds', 2, 120) ?? base.healthCheckTimeoutSeconds,
      healthyThresholdCount: input.optInt('HealthyThresholdCount', 2, 10) ?? base.healthyThresholdCount,
      unhealthyThresholdCount: input.optInt('UnhealthyThresholdCount', 2, 10) ?? base.unhealthyThresholdCount,
      matcherHttpCode: input.optString('Matcher.HttpCode') ?? base.matcherHttpCode,
    };
    if (!PROTOCOLS.includes(settings.healthCheckProtocol))
      throw validation(
        `Health check protocol '${settings.healthCheckProtocol}' must be one of ${PROTOCOLS.join(', ')}`,
      );
    if (settings.healthCheckTimeoutSeconds >= settings.healthCheckIntervalSeconds) {
      throw invalidConfiguration(
        `Health check timeout (${settings.healthCheckTimeoutSeconds}) must be smaller than the interval ` +
          `(${settings.healthCheckIntervalSeconds})`,
      );
    }
    if (!settings.healthCheckPath.startsWith('/'))
      throw validation(`Health check path '${settings.healthCheckPath}' must begin with a '/' character`);
    return settings;
  };

  return {
    name: 'elasticloadbalancing',
    protocol: 'query',
    apiVersion: '2015-12-01',
    xmlns: 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/',
    throttling: { code: 'Throttling', httpStatus: 400 },
    operations: {
      CreateLoadBalancer: (input) => {
        const name = input.string('Name');
        checkName(name, 'Load balancer');
        if (name.startsWith('internal-'))
          throw validation(`Load balancer name '${name}' cannot begin with 'internal-'`);
        const type = input.optString('Type') ?? 'application';
        if (type !== 'application' && type !== 'network')
          throw validation(`The local account models application and network load balancers, not '${type}'`);
        const scheme = input.optString('Scheme') ?? 'internet-facing';
        const existing = [...loadBalancers.values()].find((lb) => lb.loadBalancerName === name);
        // The API is idempotent: the same name again answers the load balancer already there.
        if (existing) return { LoadBalancers: [describeLoadBalancer(existing)] };
        const id = hexId('loadBalancer');
        const kind = type === 'application' ? 'app' : 'net';
        const created: LoadBalancer = {
          loadBalancerArn: `${arnPrefix}:loadbalancer/${kind}/${name}/${id}`,
          loadBalancerName: name,
          dnsName: `${scheme === 'internal' ? 'internal-' : ''}${name}-${id.slice(0, 10)}.${account.region}.elb.amazonaws.com`,
          createdTime: account.now(),
          scheme,
          type,
          availabilityZones: [`${account.region}a`, `${account.region}b`],
        };
        loadBalancers.set(created.loadBalancerArn, created);
        return { LoadBalancers: [describeLoadBalancer(created)] };
      },

      DescribeLoadBalancers: (input) => {
        const arns = input.strings('LoadBalancerArns');
        const names = input.strings('Names');
        let found = [...loadBalancers.values()];
        if (arns.length > 0) {
          if (arns.some((arn) => !loadBalancers.has(arn))) throw loadBalancerNotFound();
          found = found.filter((lb) => arns.includes(lb.loadBalancerArn));
        }
        if (names.length > 0) {
          if (names.some((n) => !found.some((lb) => lb.loadBalancerName === n))) throw loadBalancerNotFound();
          found = found.filter((lb) => names.includes(lb.loadBalancerName));
        }
        const { items, nextMarker } = pageOf(input, found);
        return { LoadBalancers: items.map(describeLoadBalancer), NextMarker: nextMarker };
      },

      DeleteLoadBalancer: (input) => {
        const arn = input.string('LoadBalancerArn');
        // Deleting a load balancer that is already gone succeeds (API reference, DeleteLoadBalancer).
        if (!loadBalancers.has(arn)) return {};
        for (const listener of [...listeners.values()]) {
          if (listener.loadBalancerArn !== arn) continue;
          listeners.delete(listener.listenerArn);
          const group = targetGroups.get(listener.targetGroupArn);
          if (group) simulation.usageChanged(group);
        }
        loadBalancers.delete(arn);
        return {};
      },

      CreateListener: (input) => {
        const lb = loadBalancer(input.string('LoadBalancerArn'));
        const port = input.optInt('Port', 1, 65535);
        if (port === undefined) throw validation('A listener port must be specified');
        const protocol = input.optString('Protocol') ?? (lb.type === 'application' ? 'HTTP' : 'TCP');
        const actions = input.objects('DefaultActions');
        if (actions.length !== 1 || actions[0]!.optString('Type') !== 'forward') {
          throw validation(
            'The local account models listeners with one default action of type forward to one target group',
          );
        }
        const action = actions[0]!;
        const targetGroupArn =
          action.optString('TargetGroupArn') ??
          action.objects('ForwardConfig.TargetGroups')[0]?.optString('TargetGroupArn');
        if (targetGroupArn === undefined) throw validation('A forward action must name a target group');
        const group = targetGroup(targetGroupArn);
        const certificateArns = input.objects('Certificates').map((c) => c.string('CertificateArn'));
        const sslPolicy = input.optString('SslPolicy');
        for (const other of listeners.values()) {
          if (other.loadBalancerArn === lb.loadBalancerArn && other.port === port)
            throw new AwsApiError(
              'DuplicateListener',
              'A listener already exists on this port for this load balancer',
            );
          if (other.targetGroupArn === targetGroupArn && other.loadBalancerArn !== lb.loadBalancerArn) {
            // "You can use each target group with only one load balancer" (TargetGroup.LoadBalancerArns).
            throw new AwsApiError(
              'TargetGroupAssociationLimit',
              `The following target groups cannot be associated with more than one load balancer: ${targetGroupArn}`,
            );
          }
        }
        const listener: Listener = {
          listenerArn: `${arnPrefix}:listener/${lb.loadBalancerArn.split(':loadbalancer/')[1]}/${hexId('listener')}`,
          loadBalancerArn: lb.loadBalancerArn,
          port,
          protocol,
          targetGroupArn,
          ...(certificateArns.length > 0 ? { certificateArns } : {}),
          ...(sslPolicy !== undefined ? { sslPolicy } : {}),
        };
        listeners.set(listener.listenerArn, listener);
        simulation.usageChanged(group);
        return { Listeners: [describeListener(listener)] };
      },

      DescribeListeners: (input) => {
        const arns = input.strings('ListenerArns');
        const lbArn = input.optString('LoadBalancerArn');
        if (lbArn === undefined && arns.length === 0)
          throw validation('You must specify either listener ARNs or a load balancer ARN');
        if (lbArn !== undefined) loadBalancer(lbArn);
        if (arns.some((arn) => !listeners.has(arn)))
          throw new AwsApiError('ListenerNotFound', 'One or more listeners not found');
        const found = [...listeners.values()].filter(
          (l) =>
            (lbArn === undefined || l.loadBalancerArn === lbArn) &&
            (arns.length === 0 || arns.includes(l.listenerArn)),
        );
        const { items, nextMarker } = pageOf(input, found);
        return { Listeners: items.map(describeListener), NextMarker: nextMarker };
      },

      DeleteListener: (input) => {
        const arn = input.string('ListenerArn');
        const listener = listeners.get(arn);
        if (!listener) throw new AwsApiError('ListenerNotFound', 'One or more listeners not found');
        listeners.delete(arn);
        const group = targetGroups.get(listener.targetGroupArn);
        if (group) simulation.usageChanged(group);
        return {};
      },

      CreateTargetGroup: (input) => {
        const name = input.string('Name');
        checkName(name, 'Target group');
        const targetType = input.optString('TargetType') ?? 'instance';
        if (targetType !== 'instance')
          throw validation(`The local account models target groups of instances only, not '${targetType}'`);
        const protocol = input.optString('Protocol');
        const port = input.optInt('Port', 1, 65535);
        if (protocol === undefined) throw validation('A protocol must be specified');
        if (!PROTOCOLS.includes(protocol))
          throw validation(`Protocol '${protocol}' must be one of ${PROTOCOLS.join(', ')}`);
        if (port === undefined) throw validation('A port must be specified');
        const vpcId = input.optString('VpcId');
        const http = protocol === 'HTTP' || protocol === 'HTTPS';
        const settings = readHealthCheck(input, {
          healthCheckProtocol: http ? protocol : 'TCP',
          healthCheckPort: 'traffic-port',
          healthCheckPath: '/',
          healthCheckIntervalSeconds: 30,
          healthCheckTimeoutSeconds: protocol === 'HTTP' ? 6 : 10,
          healthyThresholdCount: 5,
          unhealthyThresholdCount: 2,
          matcherHttpCode: http ? '200' : '200-399',
        });
        const existing = [...targetGroups.values()].find((g) => g.targetGroupName === name);
        if (existing) {
          const same =
            existing.protocol === protocol &&
            existing.port === port &&
            existing.vpcId === vpcId &&
            sameHealthCheck(existing, settings);
          if (!same) {
            throw new AwsApiError(
              'DuplicateTargetGroupName',
              `A target group with the same name '${name}' exists, but with different settings`,
            );
          }
          return { TargetGroups: [describeTargetGroup(existing)] };
        }
        const created: TargetGroup = {
          targetGroupArn: `${arnPrefix}:targetgroup/${name}/${hexId('targetGroup')}`,
          targetGroupName: name,
          protocol,
          port,
          ...(vpcId !== undefined ? { vpcId } : {}),
          ...settings,
          attributes: new Map(Object.entries(TARGET_GROUP_ATTRIBUTE_DEFAULTS)),
          targets: new Map(),
        };
        targetGroups.set(created.targetGroupArn, created);
        return { TargetGroups: [describeTargetGroup(created)] };
      },

      DescribeTargetGroups: (input) => {
        const arns = input.strings('TargetGroupArns');
        const names = input.strings('Names');
        const lbArn = input.optString('LoadBalancerArn');
        if (lbArn !== undefined) loadBalancer(lbArn);
        let found = [...targetGroups.values()];
        if (arns.length > 0) {
          if (arns.some((arn) => !targetGroups.has(arn))) throw targetGroupNotFound();
          found = found.filter((g) => arns.includes(g.targetGroupArn));
        }
        if (names.length > 0) {
          if (names.some((n) => !found.some((g) => g.targetGroupName === n))) throw targetGroupNotFound();
          found = found.filter((g) => names.includes(g.targetGroupName));
        }
        if (lbArn !== undefined) found = found.filter((g) => loadBalancerArnsOf(g).includes(lbArn));
        const { items, nextMarker } = pageOf(input, found);
        return { TargetGroups: items.map(describeTargetGroup), NextMarker: nextMarker };
      },

      ModifyTargetGroup: (input) => {
        const group = targetGroup(input.string('TargetGroupArn'));
        Object.assign(group, readHealthCheck(input, group));
        // New intervals and thresholds apply from the next health checks on.
        simulation.usageChanged(group);
        return { TargetGroups: [describeTargetGroup(group)] };
      },

      DeleteTargetGroup: (input) => {
        const arn = input.string('TargetGroupArn');
        if (!targetGroups.has(arn)) return {};
        if ([...listeners.values()].some((l) => l.targetGroupArn === arn)) {
          throw new AwsApiError(
            'ResourceInUse',
            `Target group '${arn}' is currently in use by a listener or a rule`,
          );
        }
        targetGroups.delete(arn);
        return {};
      },

      DescribeTargetGroupAttributes: (input) => {
        const group = targetGroup(input.string('TargetGroupArn'));
        return { Attributes: [...group.attributes].map(([Key, Value]) => ({ Key, Value })) };
      },

      ModifyTargetGroupAttributes: (input) => {
        const group = targetGroup(input.string('TargetGroupArn'));
        const changes = input
          .objects('Attributes')
          .map((a) => ({ key: a.string('Key'), value: a.optString('Value') ?? '' }));
        if (changes.length === 0) throw validation('At least one attribute must be specified');
        for (const { key, value } of changes) {
          if (!Object.hasOwn(TARGET_GROUP_ATTRIBUTE_DEFAULTS, key))
            throw validation(`Target group attribute key '${key}' is not recognized`);
          if (key === 'deregistration_delay.timeout_seconds') {
            const seconds = Number(value);
            if (!Number.isInteger(seconds) || seconds < 0 || seconds > 3600) {
              throw invalidConfiguration(
                `'${value}' must be a whole number of seconds between 0 and 3600 for deregistration_delay.timeout_seconds`,
              );
            }
          }
        }
        for (const { key, value } of changes) group.attributes.set(key, value);
        return { Attributes: [...group.attributes].map(([Key, Value]) => ({ Key, Value })) };
      },

      RegisterTargets: (input) => {
        const group = targetGroup(input.string('TargetGroupArn'));
        const targets = readTargets(input);
        const notRunning = targets.filter((t) => account.state.instances.get(t.id)?.ec2State !== 'running');
        if (notRunning.length > 0) {
          throw new AwsApiError(
            'InvalidTarget',
            `The following targets are not in a running state and cannot be registered: ${notRunning.map((t) => `'${t.id}'`).join(', ')}`,
          );
        }
        for (const target of targets) simulation.register(group, target.id, target.port ?? group.port);
        return {};
      },

      DeregisterTargets: (input) => {
        const group = targetGroup(input.string('TargetGroupArn'));
        const targets = readTargets(input);
        checkInstancesExist(targets.map((t) => t.id));
        for (const target of targets) simulation.deregister(group, target.id);
        return {};
      },

      DescribeTargetHealth: (input) => {
        const group = targetGroup(input.string('TargetGroupArn'));
        const asked = input.has('Targets') ? readTargets(input) : undefined;
        if (asked) checkInstancesExist(asked.map((t) => t.id));
        const rows = (
          asked ?? [...group.targets.values()].map((t) => ({ id: t.instanceId, port: t.port }))
        ).map((ask) => {
          const target = group.targets.get(ask.id);
          const port = target?.port ?? ask.port ?? group.port;
          const health = target
            ? simulation.describe(group, target)
            : {
                state: 'unused',
                reason: 'Target.NotRegistered',
                description: 'Target is not registered to the target group',
              };
          return {
            Target: {
              Id: ask.id,
              Port: port,
              AvailabilityZone: account.state.instances.get(ask.id)?.availabilityZone,
            },
            HealthCheckPort: group.healthCheckPort === 'traffic-port' ? String(port) : group.healthCheckPort,
            TargetHealth: { State: health.state, Reason: health.reason, Description: health.description },
          };
        });
        return { TargetHealthDescriptions: rows };
      },
    },
  };

  function readTargets(input: Input): { id: string; port?: number }[] {
    const targets = input.objects('Targets').map((t) => {
      const port = t.optInt('Port', 1, 65535);
      return { id: t.string('Id'), ...(port !== undefined ? { port } : {}) };
    });
    if (targets.length === 0)
      throw validation(
        "1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null",
      );
    return targets;
  }

  /** An id that names no instance of this account is refused, as EC2-backed target groups do. */
  function checkInstancesExist(ids: readonly string[]): void {
    const unknown = ids.filter((id) => !account.state.instances.has(id));
    if (unknown.length > 0) {
      throw new AwsApiError(
        'InvalidTarget',
        `The following targets are not valid instances: ${unknown.map((id) => `'${id}'`).join(', ')}`,
      );
    }
  }

  function loadBalancerArnsOf(group: TargetGroup): string[] {
    return [
      ...new Set(
        [...listeners.values()]
          .filter((l) => l.targetGroupArn === group.targetGroupArn)
          .map((l) => l.loadBalancerArn),
      ),
    ];
  }

  function describeTargetGroup(group: TargetGroup): Record<string, unknown> {
    return {
      TargetGroupArn: group.targetGroupArn,
      TargetGroupName: group.targetGroupName,
      Protocol: group.protocol,
      Port: group.port,
      VpcId: group.vpcId,
      HealthCheckProtocol: group.healthCheckProtocol,
      HealthCheckPort: group.healthCheckPort,
      HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: group.healthCheckIntervalSeconds,
      HealthCheckTimeoutSeconds: group.healthCheckTimeoutSeconds,
      HealthyThresholdCount: group.healthyThresholdCount,
      UnhealthyThresholdCount: group.unhealthyThresholdCount,
      HealthCheckPath: group.healthCheckProtocol.startsWith('HTTP') ? group.healthCheckPath : undefined,
      Matcher: group.healthCheckProtocol.startsWith('HTTP') ? { HttpCode: group.matcherHttpCode } : undefined,
      LoadBalancerArns: loadBalancerArnsOf(group),
      TargetType: 'instance',
      ProtocolVersion: group.protocol.startsWith('HTTP') ? 'HTTP1' : undefined,
      IpAddressType: 'ipv4',
    };
  }

  function describeLoadBalancer(lb: LoadBalancer): Record<string, unknown> {
    return {
      LoadBalancerArn: lb.loadBalancerArn,
      DNSName: lb.dnsName,
      CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
      CreatedTime: lb.createdTime,
      LoadBalancerName: lb.loadBalancerName,
      Scheme: lb.scheme,
      State: { Code: 'active' },
      Type: lb.type,
      AvailabilityZones: lb.availabilityZones.map((zone) => ({ ZoneName: zone })),
      IpAddressType: 'ipv4',
    };
  }

  function describeListener(listener: Listener): Record<string, unknown> {
    return {
      ListenerArn: listener.listenerArn,
      LoadBalancerArn: listener.loadBalancerArn,
      Port: listener.port,
      Protocol: listener.protocol,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: listener.targetGroupArn }],
      Certificates: listener.certificateArns?.map((arn) => ({ CertificateArn: arn })),
      SslPolicy: listener.sslPolicy,
    };
  }
}

type HealthCheckSettings = Pick<
  TargetGroup,
  | 'healthCheckProtocol'
  | 'healthCheckPort'
  | 'healthCheckPath'
  | 'healthCheckIntervalSeconds'
  | 'healthCheckTimeoutSeconds'
  | 'healthyThresholdCount'
  | 'unhealthyThresholdCount'
  | 'matcherHttpCode'
>;

function sameHealthCheck(group: TargetGroup, settings: HealthCheckSettings): boolean {
  return (Object.keys(settings) as (keyof HealthCheckSettings)[]).every(
    (key) => group[key] === settings[key],
  );
}

/** Marker (an offset, as this account issues them) and PageSize (1-400). */
function pageOf<T>(input: Input, items: readonly T[]): { items: T[]; nextMarker?: string } {
  const size = input.optInt('PageSize', 1, 400) ?? 400;
  const marker = input.optString('Marker');
  const start = marker === undefined ? 0 : Number(marker);
  if (!Number.isInteger(start) || start < 0 || start > items.length)
    throw new AwsApiError('ValidationError', `The marker '${marker}' is not valid`);
  return {
    items: items.slice(start, start + size),
    ...(start + size < items.length ? { nextMarker: String(start + size) } : {}),
  };
}
