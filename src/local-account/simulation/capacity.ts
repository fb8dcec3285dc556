import type { LocalAccount } from '../account.ts';
import type { AutoScalingGroup, Instance, ScalingActivity, ScalingActivityStatusCode } from '../state.ts';

/**
 * Capacity decisions and the scaling activities that record them: which instances a scale-in terminates, and
 * the Activity records DescribeScalingActivities returns, worded as AWS words them.
 *
 * Sources: the user guide's "Controlling which Auto Scaling instances terminate during scale in" (default
 * termination policy) and "Temporarily removing instances from your Auto Scaling group" (standby); the API
 * reference's Activity shape and botocore's examples-1.json for the wording of Cause and Description.
 */

/**
 * The instances a scale-in of `count` terminates, by the default termination policy (UG "Default termination
 * policy"), from `candidates` (callers pass the group's Pending/InService instances that nothing else owns):
 * 1. never an instance protected from scale in;
 * 2. the Availability Zone with the most instances, among zones with at least one unprotected instance;
 * 3. the oldest launch template: an instance from another template than the group's first, then the lowest
 *    version of the group's template;
 * 4. the instance closest to its next billing hour.
 * AWS breaks a final tie at random; the local account takes the instance launched first, so runs repeat.
 * Allocation strategies (mixed instances policies) and custom termination policies are not modelled.
 */
export function chooseForScaleIn(
  group: AutoScalingGroup,
  candidates: readonly Instance[],
  count: number,
  nowMs: number,
): Instance[] {
  const zoneCounts = new Map<string, number>();
  for (const instance of candidates)
    zoneCounts.set(instance.availabilityZone, (zoneCounts.get(instance.availabilityZone) ?? 0) + 1);
  const unprotected = candidates.filter((instance) => !instance.protectedFromScaleIn);
  const templateRank = (instance: Instance): number => {
    const spec = instance.launchTemplate;
    if (!spec || spec.launchTemplateId !== group.launchTemplate.launchTemplateId) return -1;
    return Number(spec.version);
  };
  const secondsIntoHour = (instance: Instance): number =>
    Math.floor((nowMs - instance.launchTime.getTime()) / 1000) % 3600;
  const chosen: Instance[] = [];
  while (chosen.length < count && unprotected.length > 0) {
    unprotected.sort(
      (a, b) =>
        (zoneCounts.get(b.availabilityZone) ?? 0) - (zoneCounts.get(a.availabilityZone) ?? 0) ||
        templateRank(a) - templateRank(b) ||
        secondsIntoHour(b) - secondsIntoHour(a) ||
        a.launchTime.getTime() - b.launchTime.getTime(),
    );
    const instance = unprotected.shift()!;
    zoneCounts.set(instance.availabilityZone, (zoneCounts.get(instance.availabilityZone) ?? 1) - 1);
    chosen.push(instance);
  }
  return chosen;
}

/** Why a group's desired capacity changed, as the first sentence of an activity's Cause says it. */
export const capacityCause = {
  created: (desired: number) =>
    `a user request created an AutoScalingGroup changing the desired capacity from 0 to ${desired}`,
  setDesired: (from: number, to: number) =>
    `a user request explicitly set group desired capacity changing the desired capacity from ${from} to ${to}`,
  updated: (min: number, max: number, from: number, to: number) =>
    `a user request update of AutoScalingGroup constraints to min: ${min}, max: ${max}, desired: ${to} ` +
    `changing the desired capacity from ${from} to ${to}`,
  fault: (faultId: number, from: number, to: number) =>
    `the local account's capacityChange fault ${faultId} set group desired capacity changing the desired ` +
    `capacity from ${from} to ${to}`,
} as const;

/** The Activity records of the account's groups (state.scalingActivities), written as Auto Scaling writes them. */
export class ScalingActivityLog {
  constructor(private readonly account: LocalAccount) {}

  /** `At <time> <sentence>.`, AWS's form for each sentence of a Cause (two spaces between sentences). */
  sentence(text: string): string {
    return `At ${this.account
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z')} ${text}.`;
  }

  start(
    group: AutoScalingGroup,
    fields: {
      readonly description: string;
      readonly cause: string;
      readonly statusCode?: ScalingActivityStatusCode;
      readonly progress?: number;
      readonly details?: string;
    },
  ): ScalingActivity {
    const activity: ScalingActivity = {
      activityId: this.account.ids.uuid('activity'),
      autoScalingGroupName: group.autoScalingGroupName,
      autoScalingGroupARN: group.autoScalingGroupARN,
      description: fields.description,
      cause: fields.cause,
      startTime: this.account.now(),
      statusCode: fields.statusCode ?? 'InProgress',
      progress: fields.progress ?? 0,
      ...(fields.details !== undefined ? { details: fields.details } : {}),
    };
    this.account.state.scalingActivities.push(activity);
    return activity;
  }

  succeed(activity: ScalingActivity): void {
    if (activity.endTime) return;
    activity.statusCode = 'Successful';
    activity.progress = 100;
    activity.endTime = this.account.now();
  }

  failed(
    group: AutoScalingGroup,
    description: string,
    cause: string,
    statusMessage: string,
  ): ScalingActivity {
    const now = this.account.now();
    const activity: ScalingActivity = {
      activityId: this.account.ids.uuid('activity'),
      autoScalingGroupName: group.autoScalingGroupName,
      autoScalingGroupARN: group.autoScalingGroupARN,
      description,
      cause,
      startTime: now,
      endTime: now,
      statusCode: 'Failed',
      statusMessage,
      progress: 100,
    };
    this.account.state.scalingActivities.push(activity);
    return activity;
  }
}

/** `{"Availability Zone":"us-east-1a"}`: the Details AWS gives a launch or standby activity. */
export const zoneDetails = (availabilityZone: string): string =>
  JSON.stringify({ 'Availability Zone': availabilityZone });
