import { IAMClient } from '@aws-sdk/client-iam';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  describeGroups,
  describeRefreshes,
  groupNamesWithTags,
  type GroupFacts,
} from '../adapters/autoscaling.ts';
import type { LedgerGroup, LedgerRolloutItem, LedgerWave } from '../core/ledger-records.ts';
import { resolveWaves } from '../core/wave-plan.ts';
import { gateOf } from '../config/schema.ts';
import { acquireRolloutLock, ledgerOf, refOf, type RolloutRef } from './ledger-steps.ts';
import { existingAlarmNames, readAlarms } from '../adapters/cloudwatch.ts';
import {
  describeDefaultVersion,
  describeImage,
  describeTemplateVersion,
  imageOwnedBy,
  type ImageFacts,
  type TemplateVersion,
} from '../adapters/ec2.ts';
import { describeInstanceProfile, type InstanceProfileFacts } from '../adapters/iam.ts';
import { listRunningExecutions } from '../adapters/sfn.ts';
import { getParameterValue } from '../adapters/ssm.ts';
import { describeNoSignal, healthSignalOf } from '../core/health-signal.ts';
import {
  checkpointsReplaceEveryInstance,
  lastCheckpointMessage,
  namedGroupsOf,
  wavesOf,
  type RolloutConfig,
} from '../config/schema.ts';
import { unsupportedGroupReason } from '../core/group-support.ts';
import { previousParameterName } from '../core/parameter-plan.ts';
import { isActiveRefreshStatus } from '../core/refresh-status.ts';
import { decideRollbackTarget } from '../core/rollback-target.ts';
import {
  startEventFrom,
  startEventSchema,
  type GroupRecord,
  type Rollout,
  type TemplateRecord,
} from '../core/rollout.ts';
import {
  AlarmNotFoundError,
  AutoScalingGroupNotFoundError,
  GateAlarmInAlarmError,
  AwsCallError,
  ConfigError,
  GroupTemplateMismatchError,
  ImageNotAvailableError,
  ImageNotFoundError,
  InstanceRoleNotPassableError,
  NoHealthSignalError,
  NoRollbackTargetError,
  RefreshInProgressError,
  RollbackImageNotAvailableError,
  RolloutInProgressError,
  UntrustedImageOwnerError,
  LedgerError,
  WavePlanError,
} from '../errors.ts';
import {
  parseEvent,
  runInLambda,
  stepLogger,
  type StepClients,
  type StepDependencies,
} from './dependencies.ts';
import { getRollout, putNewest, writePlan } from '../adapters/ledger.ts';
import { preflightRollback } from './preflight-rollback.ts';

/**
 * Step Functions (`sfn`) is for the "one rollout at a time" check; without it the check is skipped. IAM and
 * CloudWatch are needed only when a template has an instance profile, or the configuration names alarms.
 */
export type PreflightDependencies = StepDependencies<'ec2' | 'autoscaling' | 'ssm'> &
  Partial<Pick<StepClients, 'sfn' | 'iam' | 'cloudwatch'>>;

/**
 * Preflight: proves, before anything changes, that the rollout can run and can be undone. It only reads.
 * Event: `{ rolloutId, imageId }` (the execution input). Result: the rollout record (`$.rollout`).
 */
export function createPreflight(deps: PreflightDependencies): (event: unknown) => Promise<Rollout> {
  const { config, ec2, autoscaling, ssm } = deps;
  return async (event) => {
    const { rolloutId, imageId, executionArn } = parseEvent(
      startEventSchema,
      startEventFrom(event),
      'preflight',
    );
    const log = stepLogger(deps, 'preflight', { rolloutId, imageId });
    refusePartialRefresh(config);
    if (executionArn && deps.sfn) await refuseConcurrentRollout(deps.sfn, executionArn, imageId);

    const image = await describeImage(ec2, imageId);
    if (!image)
      throw new ImageNotFoundError(
        `image ${imageId} does not exist in this account and region (or is not shared with it)`,
      );
    if (image.state !== 'available') {
      throw new ImageNotAvailableError(
        `image ${imageId} is ${image.state}, not available; wait for it to become available or pick another image`,
      );
    }
    if (!(await isTrustedOwner(deps, image))) {
      throw new UntrustedImageOwnerError(
        `image ${imageId} is owned by ${image.ownerId}, which is not in trustedImageOwners (${config.trustedImageOwners.join(', ')}); add the owner to trustedImageOwners if it is yours`,
      );
    }
    log.info('image-checked', { ownerId: image.ownerId, state: image.state, encrypted: image.encrypted });
    if (
      image.encrypted &&
      config.shareWithAccountIds.length +
        config.shareWithOrganizationArns.length +
        config.shareWithOrganizationalUnitArns.length >
        0
    ) {
      log.warn('encrypted-image-shared', {
        message:
          'the image has encrypted snapshots: share their KMS key with the target accounts, or launches there fail',
      });
    }

    const templates: TemplateRecord[] = [];
    const defaults: TemplateVersion[] = [];
    for (const launchTemplateId of config.launchTemplateIds) {
      const current = await describeDefaultVersion(ec2, launchTemplateId);
      defaults.push(current);
      templates.push({
        launchTemplateId,
        ...(current.launchTemplateName ? { launchTemplateName: current.launchTemplateName } : {}),
        previousVersion: current.versionNumber,
        ...(current.imageId ? { previousImageId: current.imageId } : {}),
      });
      log.info('launch-template-checked', {
        launchTemplateId,
        defaultVersion: current.versionNumber,
        defaultImageId: current.imageId,
      });
    }

    const groupNames = namedGroupsOf(config);
    const found = await describeGroups(autoscaling, groupNames);
    const missing = groupNames.filter((name) => !found.has(name));
    if (missing.length > 0) {
      throw new AutoScalingGroupNotFoundError(
        `Auto Scaling group(s) ${missing.join(', ')} do not exist; fix autoScalingGroupNames`,
      );
    }
    const groups: GroupRecord[] = [];
    for (const name of groupNames) {
      const group = found.get(name);
      const spec = group?.launchTemplate;
      const template = templates.find(
        (t) =>
          t.launchTemplateId === spec?.launchTemplateId ||
          (spec?.launchTemplateName !== undefined && t.launchTemplateName === spec.launchTemplateName),
      );
      const unsupported = group && unsupportedGroupReason(name, group);
      if (unsupported) throw new GroupTemplateMismatchError(unsupported);
      if (!spec || !template) {
        const from = spec
          ? `launch template ${spec.launchTemplateId ?? spec.launchTemplateName ?? '?'}`
          : group?.launchConfigurationName
            ? `launch configuration ${group.launchConfigurationName}`
            : 'no launch template';
        throw new GroupTemplateMismatchError(
          `group ${name} launches from ${from}, which is not in launchTemplateIds (${config.launchTemplateIds.join(', ')}); add its template or move the group to one of them`,
        );
      }
      groups.push({
        autoScalingGroupName: name,
        launchTemplateId: template.launchTemplateId,
        previousLaunchTemplateVersion: spec.version ?? '$Default',
      });
    }

    await refuseUnpassableInstanceRoles(deps, defaults, groups);
    await refuseMissingAlarms(deps);
    refuseGroupsWithoutHealthSignal(deps, found, log);

    for (const name of groupNames) {
      const running = (await describeRefreshes(autoscaling, name)).find((r) =>
        isActiveRefreshStatus(r.status),
      );
      if (running) {
        throw new RefreshInProgressError(
          `group ${name} already has instance refresh ${running.instanceRefreshId} (${running.status}); wait for it to finish or cancel it`,
        );
      }
    }
    log.info('groups-checked', { groups: groups.map((g) => g.autoScalingGroupName) });

    const parameterValue = await getParameterValue(ssm, config.amiParameterName);
    const previousParameterValue = await getParameterValue(
      ssm,
      previousParameterName(config.amiParameterName),
    );
    const decision = decideRollbackTarget({
      imageId,
      ...(parameterValue ? { parameterValue } : {}),
      ...(previousParameterValue ? { previousParameterValue } : {}),
      templateImageIds: templates.map((t) => t.previousImageId),
    });
    if (decision.kind === 'none') {
      throw new NoRollbackTargetError(
        `no rollback target for ${config.amiParameterName}: ${decision.reason}`,
      );
    }
    const target = await describeImage(ec2, decision.rollbackTargetImageId);
    if (!target || target.state !== 'available') {
      throw new RollbackImageNotAvailableError(
        `the rollback image ${decision.rollbackTargetImageId} (from ${decision.source}) is ${target ? target.state : 'gone'}; a rollback could not launch instances`,
      );
    }
    log.info('preflight-passed', {
      rollbackTargetImageId: decision.rollbackTargetImageId,
      rollbackTargetSource: decision.source,
    });

    return {
      rolloutId,
      imageId,
      rollbackTargetImageId: decision.rollbackTargetImageId,
      rollbackTargetSource: decision.source,
      // What the parameters held before the rollout: a rollback puts both back.
      parameterBefore: {
        ...(parameterValue ? { value: parameterValue } : {}),
        ...(previousParameterValue ? { previousValue: previousParameterValue } : {}),
      },
      templates,
      groups,
      groupIndex: 0,
      done: false,
      refreshes: [],
    };
  };
}

/**
 * Every launch template version the rollout will point a group at must carry an instance profile whose role the
 * pipeline may pass: the new versions (copies of each template's default), and, for a rollback and for giving
 * each group its own setting back, the version each group launches today. Auto Scaling checks iam:PassRole on
 * that role when a group is pointed at the template; without it the refresh fails with AccessDenied after the
 * parameter and templates have already changed.
 */
async function refuseUnpassableInstanceRoles(
  deps: PreflightDependencies,
  defaults: readonly TemplateVersion[],
  groups: readonly GroupRecord[],
): Promise<void> {
  const versions = new Map<string, { version: TemplateVersion; launchedBy: string }>();
  for (const version of defaults) {
    versions.set(`${version.launchTemplateId}:$Default`, {
      version,
      launchedBy: 'its default version, which the rollout copies',
    });
  }
  for (const group of groups) {
    const setting = group.previousLaunchTemplateVersion;
    const key = `${group.launchTemplateId}:${setting}`;
    if (versions.has(key)) continue;
    const version = await describeTemplateVersion(deps.ec2, group.launchTemplateId, setting);
    if (version)
      versions.set(key, {
        version,
        launchedBy: `version ${setting}, which group ${group.autoScalingGroupName} launches`,
      });
  }

  const passable = new Set(deps.config.instanceRoleArns);
  const profiles = new Map<string, InstanceProfileFacts>();
  for (const { version, launchedBy } of versions.values()) {
    const reference = version.instanceProfile;
    if (!reference) continue;
    const shown = reference.arn ?? reference.name ?? '';
    if (!deps.iam) {
      throw new AwsCallError(
        `launch template ${version.launchTemplateId} has instance profile ${shown}, and preflight was given no IAM client to read its role`,
      );
    }
    let profile = profiles.get(shown);
    if (!profile) {
      profile = await describeInstanceProfile(deps.iam, reference);
      profiles.set(shown, profile);
    }
    for (const roleArn of profile.roleArns) {
      if (passable.has(roleArn)) continue;
      const allowed = deps.config.instanceRoleArns;
      throw new InstanceRoleNotPassableError(
        `launch template ${version.launchTemplateId} (${launchedBy}) launches with instance profile ${profile.arn}, whose role ${roleArn} is not in instanceRoleArns (${allowed.length > 0 ? allowed.join(', ') : 'none listed'}); Auto Scaling would refuse to refresh the group without iam:PassRole on it. Add "${roleArn}" to instanceRoleArns in the configuration and deploy again`,
      );
    }
  }
}

/**
 * Every alarm in `alarmNames` must exist: Auto Scaling watches them during each group's refresh, and an alarm
 * that is not there watches nothing.
 */
async function refuseMissingAlarms(deps: PreflightDependencies): Promise<void> {
  const wanted = deps.config.refreshPreferences.alarmNames ?? [];
  if (wanted.length === 0) return;
  if (!deps.cloudwatch) {
    throw new AwsCallError(
      `refreshPreferences.alarmNames lists ${wanted.join(', ')}, and preflight was given no CloudWatch client to find them`,
    );
  }
  const found = await existingAlarmNames(deps.cloudwatch, wanted);
  const missing = wanted.filter((name) => !found.has(name));
  if (missing.length > 0) {
    throw new AlarmNotFoundError(
      `refreshPreferences.alarmNames lists ${missing.map((n) => `"${n}"`).join(', ')}, which ${missing.length === 1 ? 'does' : 'do'} not exist in this account and region (CloudWatch DescribeAlarms, metric and composite alarms); create ${missing.length === 1 ? 'it' : 'them'}, or fix or remove the name${missing.length === 1 ? '' : 's'} in the configuration`,
    );
  }
}

/**
 * The health gate's alarms (the fleet-wide ones and every wave's own) must all exist, and none may be in ALARM:
 * a gate that is firing before the rollout starts cannot tell a bad image from what was already wrong, and an
 * alarm that is not there watches nothing. Either refuses the rollout before any change, naming the alarms.
 */
async function refuseUnhealthyGate(deps: PreflightDependencies, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  if (!deps.cloudwatch) {
    throw new AwsCallError(
      `the health gate watches ${names.join(', ')}, and preflight was given no CloudWatch client to read them`,
    );
  }
  const { alarms, missing } = await readAlarms(deps.cloudwatch, names);
  if (missing.length > 0) {
    throw new AlarmNotFoundError(
      `the health gate (gate.alarmNames, waves[].alarmNames) lists ${missing.map((n) => `"${n}"`).join(', ')}, which ${missing.length === 1 ? 'does' : 'do'} not exist in this account and region (CloudWatch DescribeAlarms, metric and composite alarms); create ${missing.length === 1 ? 'it' : 'them'}, or fix or remove the name${missing.length === 1 ? '' : 's'} in the configuration`,
    );
  }
  const firing = alarms.filter((a) => a.state === 'ALARM');
  if (firing.length > 0) {
    throw new GateAlarmInAlarmError(
      `gate alarm${firing.length === 1 ? '' : 's'} ${firing.map((a) => `${a.name} (${a.reason ?? 'no reason given'})`).join('; ')} ${firing.length === 1 ? 'is' : 'are'} in ALARM before the rollout starts: the fleet is not healthy to begin with, so the gate could not tell a bad image from it; start again once ${firing.length === 1 ? 'it is' : 'they are'} OK`,
    );
  }
}

/**
 * Every group needs something that notices a bad image during its refresh (core/health-signal.ts): ELB health
 * checks from an attached load balancer, or an alarm. Otherwise an image whose application fails passes EC2
 * status checks, the refresh ends Successful, and the rollout moves on with it. A group listed in
 * `groupsWithoutHealthSignal` is let through, with a warning.
 */
function refuseGroupsWithoutHealthSignal(
  deps: PreflightDependencies,
  found: ReadonlyMap<string, GroupFacts>,
  log: ReturnType<typeof stepLogger>,
): void {
  const { config } = deps;
  const alarmNames = config.refreshPreferences.alarmNames ?? [];
  const optedOut = new Set(config.groupsWithoutHealthSignal);
  const refused: string[] = [];
  const accepted: string[] = [];
  for (const name of namedGroupsOf(config)) {
    const group = found.get(name);
    if (!group) continue;
    const signal = healthSignalOf(group, { alarmNames, optedOut: optedOut.has(name) });
    if (signal.kind === 'none') refused.push(describeNoSignal(name, signal.reason));
    if (signal.kind === 'opted-out') accepted.push(describeNoSignal(name, signal.reason));
  }
  if (refused.length > 0) {
    const one = refused.length === 1;
    throw new NoHealthSignalError(
      `${one ? 'group' : 'groups'} ${refused.join(', ')} ${one ? 'has' : 'have'} no health signal: nothing would notice an image that boots but whose application fails (it passes EC2 status checks, and the refresh ends Successful on it). For each, either switch the group to ELB health checks with a target group (HealthCheckType ELB and TargetGroupARNs), or set refreshPreferences.alarmNames to alarms that watch it, or accept the risk and list it in groupsWithoutHealthSignal in the configuration`,
    );
  }
  if (accepted.length > 0) {
    log.warn('groups-without-health-signal', {
      groups: accepted,
      message:
        'groupsWithoutHealthSignal: these groups are refreshed with nothing to notice an image whose application fails',
    });
  }
}

/**
 * The configuration reaches the steps from AMI_ROLLOUT_CONFIG, parsed by the schema that already refuses a last
 * checkpoint below 100; the execution input carries no preferences. A configuration handed to the steps some
 * other way (local mode, a caller building it in code) is checked here again, before anything changes.
 */
function refusePartialRefresh(config: RolloutConfig): void {
  const checkpoints = config.refreshPreferences.checkpointPercentages;
  if (checkpointsReplaceEveryInstance(checkpoints)) return;
  throw new ConfigError(
    `refreshPreferences.checkpointPercentages ${lastCheckpointMessage(checkpoints ?? [])}; change the configuration and deploy again`,
  );
}

/** Account ids are compared directly; aliases (`self`, `amazon`) are resolved by EC2's own Owners filter. */
async function isTrustedOwner(deps: PreflightDependencies, image: ImageFacts): Promise<boolean> {
  const owners = deps.config.trustedImageOwners;
  if (owners.includes(image.ownerId)) return true;
  const aliases = owners.filter((o) => !/^\d{12}$/.test(o));
  if (aliases.length === 0) return false;
  return imageOwnedBy(deps.ec2, image.imageId, aliases);
}

/**
 * One rollout at a time, checked again inside the execution: a start from the CLI and one from the trigger can
 * both pass the start-time check. Of executions running together, only the earliest goes on (ties broken by
 * ARN); the others refuse here, before changing anything. ListExecutions is eventually consistent, so on AWS
 * this narrows the race to the time a new execution takes to be listed; it does not close it.
 */
async function refuseConcurrentRollout(sfn: SFNClient, executionArn: string, imageId: string): Promise<void> {
  const match = /^(arn:[^:]+:states:[^:]+:[^:]+):execution:([^:]+):[^:]+$/.exec(executionArn);
  if (!match) return;
  const stateMachineArn = `${match[1]}:stateMachine:${match[2]}`;
  const running = await listRunningExecutions(sfn, stateMachineArn);
  // Not listed yet (eventual consistency): this execution is the newest there is.
  const ownStart =
    running.find((e) => e.executionArn === executionArn)?.startDate?.getTime() ?? Number.POSITIVE_INFINITY;
  const earlier = running.find((e) => {
    if (e.executionArn === executionArn) return false;
    const start = e.startDate?.getTime() ?? 0;
    return start < ownStart || (start === ownStart && e.executionArn < executionArn);
  });
  if (earlier) {
    throw new RolloutInProgressError(
      `another rollout is running: ${earlier.name}${earlier.startDate ? ` since ${earlier.startDate.toISOString()}` : ''} (${earlier.executionArn}); one rollout at a time, so this execution stops here and changed nothing. When that rollout has finished, roll ${imageId} out again under a new execution name (aws stepfunctions start-execution --state-machine-arn ${stateMachineArn} --name rollout-${imageId}-2 --input '{"rolloutId":"rollout-${imageId}-2","imageId":"${imageId}"}').`,
    );
  }
}

/**
 * Preflight as the rollout machine runs it: takes the pipeline's lock (a conditional write; a stale lock of an
 * execution that ended is taken over), resolves the waves' tag selectors, runs every check above on the groups
 * so found, and writes the plan to the ledger: the rollout, its waves, templates and groups. A rollout id the
 * ledger already holds for another execution is refused (its record is that rollout's history).
 * Event: the execution input. Result: `{ rolloutId, imageId, executionArn, groups, waves }` at `$.rollout`.
 */
export function createPreflightStep(
  deps: PreflightDependencies & Pick<StepClients, 'dynamodb'>,
): (event: unknown) => Promise<RolloutRef> {
  const { config, autoscaling } = deps;
  return async (event) => {
    const parsed = parseEvent(startEventSchema, startEventFrom(event), 'preflight');
    if (parsed.rollback) return preflightRollback(deps, { ...parsed, rollback: parsed.rollback });
    const { rolloutId, imageId, executionArn } = parsed;
    const log = stepLogger(deps, 'preflight', { rolloutId, imageId });
    const ledger = ledgerOf(deps);
    const arn = executionArn ?? `direct:${rolloutId}`;
    const existing = await getRollout(ledger, rolloutId);
    if (existing && existing.executionArn !== arn) {
      throw new ConfigError(
        `rollout id ${rolloutId} is already in the ledger for execution ${existing.executionArn} (started ${existing.createdAt}); each rollout needs its own id: start again with a new rolloutId (e.g. ${rolloutId}-2)`,
      );
    }
    await acquireRolloutLock(deps, ledger, { executionArn: arn, rolloutId }, log);

    const configured = wavesOf(config);
    const tagged = new Map<number, string[]>();
    for (const [index, wave] of configured.entries()) {
      if (wave.autoScalingGroupTags)
        tagged.set(index, await groupNamesWithTags(autoscaling, wave.autoScalingGroupTags));
    }
    const resolution = resolveWaves(configured, tagged);
    if (resolution.kind === 'invalid') throw new WavePlanError(resolution.reason);
    const waves = resolution.waves;
    const names = waves.flatMap((w) => w.groups);
    for (const name of config.groupsWithoutHealthSignal) {
      if (!names.includes(name)) {
        throw new ConfigError(
          `groupsWithoutHealthSignal lists "${name}", which no wave holds (after its tag selectors were resolved); fix the name or remove it`,
        );
      }
    }
    if (tagged.size > 0) {
      log.info('tag-selectors-resolved', {
        waves: [...tagged].map(([i, found]) => ({ wave: configured[i]!.name, groups: found.length })),
      });
    }
    const rollout = await createPreflight({
      ...deps,
      config: { ...config, autoScalingGroupNames: names, waves: undefined },
    })(event);

    const gate = gateOf(config);
    await refuseUnhealthyGate(deps, [
      ...new Set([...gate.alarmNames, ...waves.flatMap((w) => w.alarmNames ?? [])]),
    ]);

    const now = (deps.now ?? (() => new Date()))().toISOString();
    const records = new Map(rollout.groups.map((g) => [g.autoScalingGroupName, g]));
    const ledgerWaves: LedgerWave[] = [];
    const ledgerGroups: LedgerGroup[] = [];
    for (const [index, wave] of waves.entries()) {
      ledgerWaves.push({
        index,
        name: wave.name,
        firstGroup: ledgerGroups.length,
        groupCount: wave.groups.length,
        maxParallel: wave.maxParallel,
        bakeMinutes: wave.bakeMinutes,
        ...(wave.alarmNames ? { alarmNames: [...wave.alarmNames] } : {}),
        ...(wave.selectedByTags ? { selectedByTags: wave.selectedByTags } : {}),
      });
      for (const name of wave.groups) {
        const record = records.get(name);
        if (!record) throw new LedgerError(`preflight: group ${name} has no record`);
        ledgerGroups.push({ ...record, index: ledgerGroups.length, wave: index, status: 'PENDING' });
      }
    }
    const item: LedgerRolloutItem = {
      rolloutId,
      imageId,
      executionArn: arn,
      createdAt: existing?.createdAt ?? now,
      rollbackTargetImageId: rollout.rollbackTargetImageId,
      ...(rollout.rollbackTargetSource ? { rollbackTargetSource: rollout.rollbackTargetSource } : {}),
      ...(rollout.parameterBefore ? { parameterBefore: rollout.parameterBefore } : {}),
      groupCount: ledgerGroups.length,
      waveCount: ledgerWaves.length,
      forwardCursor: 0,
      rollbackCursor: 0,
      phase: 'forward',
      gate: {
        alarmNames: gate.alarmNames,
        waveAlarms: waves.some((w) => (w.alarmNames ?? []).length > 0),
        watchMinutes: gate.watchMinutes,
        insufficientData: gate.insufficientData,
      },
    };
    await writePlan(ledger, {
      rollout: item,
      waves: ledgerWaves,
      templates: rollout.templates,
      groups: ledgerGroups,
    });
    // The newest rollout: `ami-rollout rollback` puts back only the newest (an older one would undo it too).
    await putNewest(ledger, { rolloutId, executionArn: arn, imageId, createdAt: item.createdAt });
    log.info('plan-written', {
      table: ledger.tableName,
      waves: ledgerWaves.length,
      groups: ledgerGroups.length,
    });
    return refOf(item);
  };
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<RolloutRef> =>
  runInLambda(
    createPreflightStep,
    {
      ec2: EC2Client,
      autoscaling: AutoScalingClient,
      ssm: SSMClient,
      sfn: SFNClient,
      iam: IAMClient,
      cloudwatch: CloudWatchClient,
      dynamodb: DynamoDBClient,
    },
    event,
  );
