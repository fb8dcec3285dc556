import * as z from 'zod';

/**
 * The one rollout configuration, shared by the Lambda steps, the CLI, the rehearsal and the CDK app. Every
 * message names what is wrong and how to fix it, because the person reading it is mid-deploy.
 */

const uniqueList = <T extends z.ZodType<string>>(item: T, what: string) =>
  z.array(item).superRefine((values, ctx) => {
    const seen = new Set<string>();
    values.forEach((value, index) => {
      if (seen.has(value)) {
        ctx.addIssue({
          code: 'custom',
          path: [index],
          message: `"${value}" is listed twice; list each ${what} once`,
        });
      }
      seen.add(value);
    });
  });

const nonEmptyUniqueList = <T extends z.ZodType<string>>(item: T, what: string) =>
  uniqueList(item, what).refine((values) => values.length > 0, {
    message: `must list at least one ${what}`,
  });

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id such as 111122223333');

export const launchTemplateIdSchema = z
  .string()
  .regex(
    /^lt-[0-9a-f]{8,17}$/,
    'must be a launch template id (lt- and 8 to 17 hex digits, e.g. lt-0123456789abcdef0), not a template name',
  );

export const imageIdSchema = z
  .string()
  .regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id such as ami-0123456789abcdef0');

const groupName = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters (the Auto Scaling limit)')
  .regex(/^[^:]+$/, 'must be a group name, not an ARN');

/** SSM names: letters, digits, `_.-/`; at most 2048 characters, leaving room for the `-previous` suffix. */
const parameterName = z
  .string()
  .min(1, 'must name an SSM parameter such as /ami-rollout/golden-ami')
  .max(2048 - '-previous'.length, 'is too long: SSM names are at most 2048 characters including "-previous"')
  .regex(/^[a-zA-Z0-9_.\-/]+$/, 'may contain only letters, digits and _ . - / (e.g. /ami-rollout/golden-ami)')
  .refine((name) => !/^\/?(aws|ssm)/i.test(name), {
    message: 'must not start with "aws" or "ssm" (reserved by SSM)',
  })
  .refine((name) => !name.startsWith('/') || !name.includes('//'), {
    message: 'must not contain "//"',
  });

const organizationArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/,
    'must be an organization ARN such as arn:aws:organizations::111122223333:organization/o-abcde12345',
  );

const organizationalUnitArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/,
    'must be an OU ARN such as arn:aws:organizations::111122223333:ou/o-abcde12345/ou-ab12-cdefgh34',
  );

const imageOwner = z
  .string()
  .regex(
    /^(\d{12}|self|amazon|aws-marketplace)$/,
    'must be a 12-digit account id, "self", "amazon" or "aws-marketplace"',
  );

const roleArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
    'must be an IAM role ARN such as arn:aws:iam::111122223333:role/web-instance (with its path, if any)',
  );

const topicArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/,
    'must be an SNS topic ARN such as arn:aws:sns:us-east-1:111122223333:ami-rollout',
  );

const seconds = (max: number) =>
  z
    .number()
    .int('must be a whole number of seconds')
    .min(0, 'must be 0 or more')
    .max(max, `must be at most ${max}`);

/**
 * A last checkpoint below 100 makes a partial refresh: Auto Scaling stops there and reports Successful with the
 * rest of the group on the old image (RefreshPreferences.CheckpointPercentages: "To replace all instances in the
 * Auto Scaling group, the last number in the array must be 100"). A rollout must replace every instance, so such
 * a list is refused: by the schema, and again by Preflight for a configuration that reached it some other way.
 */
export function lastCheckpointMessage(checkpoints: readonly number[]): string {
  const fixed = [...checkpoints.filter((p) => p < 100), 100];
  return `ends with ${checkpoints.at(-1)}, so the refresh would stop with the rest of each group on the old image; end the list with 100, e.g. [${fixed.join(', ')}]`;
}

/** True when checkpointPercentages, if given, replace the whole group (their last entry is 100). */
export const checkpointsReplaceEveryInstance = (checkpoints: readonly number[] | undefined): boolean =>
  checkpoints === undefined || checkpoints.length === 0 || checkpoints.at(-1) === 100;

/** MinHealthyPercentage when the configuration sets neither it nor Max, for a group of more than 2 instances. */
export const DEFAULT_MIN_HEALTHY_PERCENTAGE = 90;
/**
 * Groups of at most this many instances (desired capacity) refresh launch-before-terminate when the
 * configuration sets neither Min nor Max: Min 100 / Max 200, so they never drop below their desired count.
 */
export const SMALL_GROUP_MAX_CAPACITY = 2;

/** StartInstanceRefresh preferences, with our defaults (AWS's defaults are not safe for a rollout). */
export const refreshPreferencesSchema = z
  .object({
    /**
     * Default unset: with maxHealthyPercentage unset too, a group of 2 or fewer instances refreshes 100/200
     * (launch before terminate), any other 90 (at most 10% out of service at once); see
     * `refreshPreferencesRequest`. Set either to choose for every group.
     */
    minHealthyPercentage: z.number().int().min(0, 'must be 0-100').max(100, 'must be 0-100').optional(),
    /** Above 100 launches replacements before terminating; needs Max - Min <= 100 (Min 90 when unset). */
    maxHealthyPercentage: z.number().int().min(100, 'must be 100-200').max(200, 'must be 100-200').optional(),
    instanceWarmupSeconds: seconds(86_400).optional(),
    /** Default true: instances already on the desired configuration are not replaced. */
    skipMatching: z.boolean().default(true),
    /** Default true: Auto Scaling reverts a failed refresh itself. */
    autoRollback: z.boolean().default(true),
    /** Strictly ascending, ending with 100 (a last checkpoint below 100 is a partial refresh). */
    checkpointPercentages: z
      .array(z.number().int().min(1, 'each must be 1-100').max(100, 'each must be 1-100'))
      .min(1, 'must list at least one percentage, or be left out')
      .describe(
        'CheckpointPercentages: whole percentages 1-100, strictly ascending, ending with 100 (a last checkpoint below 100 would leave part of each group on the old image).',
      )
      .optional(),
    checkpointDelaySeconds: seconds(172_800).optional(),
    bakeTimeSeconds: seconds(172_800).optional(),
    alarmNames: uniqueList(z.string().min(1, 'must not be empty').max(255), 'alarm')
      .max(10, 'at most 10 alarms (the Auto Scaling limit)')
      .optional(),
  })
  .strict()
  .superRefine((prefs, ctx) => {
    const { minHealthyPercentage, maxHealthyPercentage: max } = prefs;
    // Auto Scaling needs Min with Max: an unset Min is sent as the default, so the rule holds against it.
    const min = minHealthyPercentage ?? DEFAULT_MIN_HEALTHY_PERCENTAGE;
    if (max !== undefined && max - min > 100) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxHealthyPercentage'],
        message:
          minHealthyPercentage === undefined
            ? `${max} - minHealthyPercentage ${min} (the default when unset) is more than 100; lower maxHealthyPercentage to ${min + 100} or less, or set minHealthyPercentage to ${max - 100} or more`
            : `${max} - minHealthyPercentage ${min} is more than 100; lower maxHealthyPercentage to ${min + 100} or less`,
      });
    }
    const checkpoints = prefs.checkpointPercentages;
    if (checkpoints) {
      for (let i = 1; i < checkpoints.length; i++) {
        if ((checkpoints[i] ?? 0) <= (checkpoints[i - 1] ?? 0)) {
          ctx.addIssue({
            code: 'custom',
            path: ['checkpointPercentages', i],
            message: 'must be strictly ascending, e.g. [20, 50, 100]',
          });
        }
      }
    }
    const last = checkpoints?.at(-1);
    if (checkpoints && typeof last === 'number' && last !== 100) {
      ctx.addIssue({
        code: 'custom',
        path: ['checkpointPercentages', checkpoints.length - 1],
        message: lastCheckpointMessage(checkpoints),
      });
    }
    if (prefs.checkpointDelaySeconds !== undefined && !checkpoints) {
      ctx.addIssue({
        code: 'custom',
        path: ['checkpointDelaySeconds'],
        message: 'only applies with checkpointPercentages; add checkpointPercentages or remove it',
      });
    }
  });

/** A CloudWatch alarm name (DescribeAlarms' AlarmName: 1 to 255 characters). */
const alarmName = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters (the CloudWatch limit)');

/** DescribeAlarms reads at most 100 names in one call; a poll of the gate reads them all at once. */
export const MAX_GATE_ALARMS = 100;

const MAX_GATE_MINUTES = 10_080;
const minutes = () =>
  z
    .number()
    .int('must be a whole number of minutes')
    .min(0, 'must be 0 or more')
    .max(MAX_GATE_MINUTES, `must be at most ${MAX_GATE_MINUTES} (one week)`);

/** What a gate alarm in INSUFFICIENT_DATA means. */
export const INSUFFICIENT_DATA_POLICIES = ['ignore', 'wait', 'fail'] as const;

/**
 * The health gate: fleet-wide CloudWatch alarms watched during every refresh, every bake and the watch window
 * after the last wave; one in ALARM rolls back every group the rollout touched.
 */
export const gateSchema = z
  .object({
    /** Default none: the fleet-wide alarms, added to every wave's. */
    alarmNames: uniqueList(alarmName, 'gate alarm')
      .max(
        MAX_GATE_ALARMS,
        `must list at most ${MAX_GATE_ALARMS} alarms (one DescribeAlarms call reads them all); use a composite alarm to watch more`,
      )
      .default([]),
    /** Default 0: minutes to wait after each wave before the next starts; a wave's own bakeMinutes wins. */
    bakeMinutes: minutes().default(0),
    /** Default 0: minutes the rollout stays open after the last wave, watching, before it declares success. */
    watchMinutes: minutes().default(0),
    /**
     * Default wait: an alarm without data proves nothing about the new image, so no bake or watch window ends
     * while a gate alarm is INSUFFICIENT_DATA (it is not a failure during refreshes). `ignore` treats it as OK,
     * `fail` as ALARM.
     */
    insufficientData: z
      .enum(INSUFFICIENT_DATA_POLICIES, {
        error: 'must be "ignore", "wait" or "fail" (what an alarm in INSUFFICIENT_DATA means)',
      })
      .default('wait'),
  })
  .strict();
export type GateInput = z.input<typeof gateSchema>;
/** The gate with every default applied. */
export type GateConfig = z.output<typeof gateSchema>;

/** A tag key or value as Auto Scaling takes them (CreateOrUpdateTags: key 1-128, value 0-256 characters). */
const tagKey = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters (the Auto Scaling limit)')
  .refine((key) => !key.startsWith('aws:'), { message: 'must not start with "aws:" (reserved by AWS)' });
const tagValue = z.string().max(256, 'must be at most 256 characters (the Auto Scaling limit)');

/**
 * How many refreshes of one wave may run at once. Step Functions' Inline Map runs at most 40 iterations at once
 * (Developer Guide, "Using Map state in Inline mode"), so a wave's groups are spread over up to 5 lanes, each an
 * Inline Map: 5 x 40.
 */
export const MAX_PARALLEL = 200;
export const INLINE_MAP_CONCURRENCY = 40;

/** One wave: the groups it names and the groups its tag selector finds, refreshed together. */
export const waveSchema = z
  .object({
    name: z
      .string()
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters')
      .regex(/^[A-Za-z0-9_.-]+$/, 'may contain only letters, digits and _ . - (e.g. canary, wave-2)'),
    autoScalingGroupNames: uniqueList(groupName, 'Auto Scaling group name').optional(),
    /**
     * Every group carrying all these tags (key and value; AND), found by Preflight with DescribeAutoScalingGroups'
     * tag filters and recorded in the ledger. A group a wave also names is not counted twice.
     */
    autoScalingGroupTags: z
      .record(z.string(), tagValue)
      .refine((tags) => Object.keys(tags).length >= 1 && Object.keys(tags).length <= 10, {
        message: 'must hold 1 to 10 tags, e.g. { "rollout-wave": "2" }',
      })
      .superRefine((tags, ctx) => {
        for (const key of Object.keys(tags)) {
          const checked = tagKey.safeParse(key);
          if (!checked.success)
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: `tag key "${key}" ${checked.error.issues[0]?.message ?? 'is not valid'}`,
            });
        }
      })
      .optional(),
    /** Default 1: at most this many refreshes of the wave run at once. */
    maxParallel: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be 1 or more (1 refreshes the wave one group at a time)')
      .max(MAX_PARALLEL, `must be at most ${MAX_PARALLEL}`)
      .default(1),
    /**
     * Default `gate.bakeMinutes` (0 without a gate): minutes to wait after the wave's last group finished
     * before the next wave starts.
     */
    bakeMinutes: minutes().optional(),
    /** Default none: alarms watched, besides the gate's, during this wave's refreshes and its bake. */
    alarmNames: uniqueList(alarmName, 'alarm')
      .max(MAX_GATE_ALARMS, `must list at most ${MAX_GATE_ALARMS} alarms`)
      .optional(),
  })
  .strict();
export type WaveConfig = z.output<typeof waveSchema>;

/**
 * A wave as the rollout runs it: its own bakeMinutes, else the gate's; its alarms, the gate's first and then its
 * own, each once.
 */
export type EffectiveWave = Omit<WaveConfig, 'bakeMinutes' | 'alarmNames'> & {
  readonly bakeMinutes: number;
  readonly alarmNames: readonly string[];
};

/** Step Functions Standard executions fail past 25,000 history events; one poll loop is about 10. */
export const MAX_HISTORY_EVENTS = 25_000;
export const EVENTS_PER_POLL = 10;
/** A group execution's events besides its polls: start, the trigger, the end. */
export const GROUP_EXECUTION_OVERHEAD_EVENTS = 30;
/**
 * Waves whose bake keeps them apart each take a batch execution of their own, started from the rollout's
 * execution (8 history events there per batch, forward; the rollback merges serial waves): 2,000 waves stay
 * below 25,000 events with room for the rest.
 */
export const MAX_WAVES = 2_000;
/** AWS pauses this long at each checkpoint when `CheckpointDelay` is unset. */
export const DEFAULT_CHECKPOINT_DELAY_SECONDS = 3600;
/** Time allowed for the replacements themselves on top of a refresh's planned pauses. */
export const REPLACEMENT_MARGIN_SECONDS = 600;
const MAX_REFRESH_TIMEOUT_MINUTES = 10_080;

export const rolloutConfigSchema = z
  .object({
    $schema: z
      .string()
      .optional()
      .describe('The JSON Schema an editor checks this file with (schemas/config.schema.json); ignored.'),
    /** The SSM parameter holding the current image; the rollback target lives at `{param}-previous`. */
    amiParameterName: parameterName,
    launchTemplateIds: nonEmptyUniqueList(launchTemplateIdSchema, 'launch template id'),
    /**
     * The seed's shape: one group at a time, first to last (each group a wave of its own). Give this or `waves`,
     * not both.
     */
    autoScalingGroupNames: nonEmptyUniqueList(groupName, 'Auto Scaling group name').optional(),
    /** Rollout order in waves: each wave starts when the one before it is done and its bake has passed. */
    waves: z
      .array(waveSchema)
      .min(1, 'must list at least one wave')
      .max(
        MAX_WAVES,
        `must list at most ${MAX_WAVES} waves (Step Functions' history limit); put more groups in each wave`,
      )
      .optional(),
    shareWithAccountIds: uniqueList(accountId, 'account id').default([]),
    shareWithOrganizationArns: uniqueList(organizationArn, 'organization ARN').default([]),
    shareWithOrganizationalUnitArns: uniqueList(organizationalUnitArn, 'OU ARN').default([]),
    trustedImageOwners: nonEmptyUniqueList(imageOwner, 'image owner'),
    /**
     * Default none: the roles of the launch templates' instance profiles. Pointing a group at a template with an
     * instance profile needs iam:PassRole on its role; the pipeline may pass exactly these (to EC2 only), and
     * preflight refuses a template whose profile carries any other role.
     */
    instanceRoleArns: uniqueList(roleArn, 'role ARN').default([]),
    notificationTopicArn: topicArn.optional(),
    /** For the CDK app, which creates the topic and subscribes these addresses. */
    notificationEmails: uniqueList(
      z.email('must be an email address such as ops@example.com'),
      'email',
    ).optional(),
    refreshPreferences: refreshPreferencesSchema.default(() => refreshPreferencesSchema.parse({})),
    /** Default none: no fleet-wide alarms, no bake unless a wave sets one, no watch window. */
    gate: gateSchema.optional(),
    /**
     * Default none: groups that may be refreshed with EC2 health checks only and no alarm. Preflight refuses any
     * other such group, because a bad image whose application fails passes EC2 status checks and the refresh
     * ends Successful on it. Each must be one of autoScalingGroupNames.
     */
    groupsWithoutHealthSignal: uniqueList(groupName, 'group name').default([]),
    /** Default 60: how long the state machine waits between two refresh status checks. */
    pollIntervalSeconds: z
      .number()
      .int('must be a whole number')
      .min(5, 'must be 5-3600')
      .max(3600, 'must be 5-3600')
      .default(60),
    /**
     * Default 120: a refresh still running after this long fails the rollout. With checkpoints or a bake time
     * it must exceed their pauses plus 10 minutes.
     */
    refreshTimeoutMinutes: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be 1-10080')
      .max(MAX_REFRESH_TIMEOUT_MINUTES, 'must be 1-10080 (one week)')
      .default(120),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (!config.notificationTopicArn && (config.notificationEmails?.length ?? 0) === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['notificationTopicArn'],
        message:
          'is required: set notificationTopicArn (or notificationEmails for the CDK app to create a topic)',
      });
    }
    const hasNames = config.autoScalingGroupNames !== undefined;
    const hasWaves = config.waves !== undefined;
    if (hasNames && hasWaves) {
      ctx.addIssue({
        code: 'custom',
        path: ['autoScalingGroupNames'],
        message:
          'is given together with waves; use one: waves, or autoScalingGroupNames alone (one group at a time, in order)',
      });
    } else if (!hasNames && !hasWaves) {
      ctx.addIssue({
        code: 'custom',
        path: ['waves'],
        message:
          'is required: list waves (e.g. [{ "name": "canary", "autoScalingGroupNames": ["web-1"] }]) or autoScalingGroupNames',
      });
    }
    if (Array.isArray(config.waves)) checkWaves(config.waves, ctx);
    checkGate(config, ctx);
    const waves = Array.isArray(config.waves) ? config.waves : [];
    const selectsByTag = waves.some((wave) => wave?.autoScalingGroupTags !== undefined);
    // The health signal opt-out names groups of this rollout, or it opts nothing out. A tag-selected group is
    // known only once Preflight has resolved the selectors; Preflight checks those.
    const named = namedGroupsOf(config);
    if (Array.isArray(config.groupsWithoutHealthSignal) && named.length > 0 && !selectsByTag) {
      const rolled = new Set(named);
      config.groupsWithoutHealthSignal.forEach((name, index) => {
        if (typeof name === 'string' && !rolled.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['groupsWithoutHealthSignal', index],
            message: `"${name}" is not a group of this rollout (${named.slice(0, 10).join(', ')}${named.length > 10 ? ', ...' : ''}); fix the name or remove it`,
          });
        }
      });
    }
    // zod runs this refinement even when a field above failed; judge only values that passed.
    const rangesValid =
      Number.isInteger(config.pollIntervalSeconds) &&
      config.pollIntervalSeconds >= 5 &&
      Number.isInteger(config.refreshTimeoutMinutes) &&
      config.refreshTimeoutMinutes >= 1;
    if (!rangesValid) return;
    const timeoutSeconds = config.refreshTimeoutMinutes * 60;

    // Each group refreshes (and, on failure, refreshes back) in an execution of its own: the budget is per child.
    const pollsPerGroup = Math.ceil(timeoutSeconds / config.pollIntervalSeconds);
    const events = pollsPerGroup * EVENTS_PER_POLL + GROUP_EXECUTION_OVERHEAD_EVENTS;
    if (events > MAX_HISTORY_EVENTS) {
      const pollsAllowed = Math.floor(
        (MAX_HISTORY_EVENTS - GROUP_EXECUTION_OVERHEAD_EVENTS) / EVENTS_PER_POLL,
      );
      const maxMinutes = Math.floor((pollsAllowed * config.pollIntervalSeconds) / 60);
      const minPollSeconds = Math.ceil(timeoutSeconds / pollsAllowed);
      ctx.addIssue({
        code: 'custom',
        path: ['refreshTimeoutMinutes'],
        message: `${config.refreshTimeoutMinutes} min polled every ${config.pollIntervalSeconds} s could need ~${events} Step Functions history events in one group's execution (limit ${MAX_HISTORY_EVENTS}); lower it to ${maxMinutes} or raise pollIntervalSeconds to ${minPollSeconds} or more`,
      });
    }

    const prefs = config.refreshPreferences as Partial<RefreshPreferencesConfig> | undefined;
    const checkpoints = Array.isArray(prefs?.checkpointPercentages) ? prefs.checkpointPercentages : [];
    const pausingCheckpoints = checkpoints.filter((p) => typeof p === 'number' && p < 100).length;
    const delaySeconds =
      typeof prefs?.checkpointDelaySeconds === 'number'
        ? prefs.checkpointDelaySeconds
        : DEFAULT_CHECKPOINT_DELAY_SECONDS;
    const bakeSeconds = typeof prefs?.bakeTimeSeconds === 'number' ? prefs.bakeTimeSeconds : 0;
    const pauseSeconds = pausingCheckpoints * delaySeconds + bakeSeconds;
    // Without planned pauses there is nothing to leave room for; the timeout alone bounds the replacements.
    if (pauseSeconds > 0 && timeoutSeconds <= pauseSeconds + REPLACEMENT_MARGIN_SECONDS) {
      const needed = pauseSeconds + REPLACEMENT_MARGIN_SECONDS;
      const minMinutes = Math.floor(needed / 60) + 1;
      const fix =
        minMinutes <= MAX_REFRESH_TIMEOUT_MINUTES
          ? `raise refreshTimeoutMinutes to ${minMinutes} or more, or shorten checkpointDelaySeconds / bakeTimeSeconds`
          : `that is more than the ${MAX_REFRESH_TIMEOUT_MINUTES} min maximum: shorten checkpointDelaySeconds / bakeTimeSeconds or use fewer checkpoints`;
      const delay =
        typeof prefs?.checkpointDelaySeconds === 'number'
          ? `checkpointDelaySeconds ${delaySeconds}`
          : `checkpointDelaySeconds ${delaySeconds} (the AWS default when unset)`;
      ctx.addIssue({
        code: 'custom',
        path: ['refreshTimeoutMinutes'],
        message: `${config.refreshTimeoutMinutes} min (${timeoutSeconds} s) leaves no time for the refresh's planned pauses: ${pausingCheckpoints} checkpoint(s) below 100 x ${delay} + bakeTimeSeconds ${bakeSeconds} + ${REPLACEMENT_MARGIN_SECONDS} s for the replacements = ${needed} s; ${fix}`,
      });
    }
  });

/** The configuration as written in the JSON file (defaults not yet applied). */
export type RolloutConfigInput = z.input<typeof rolloutConfigSchema>;
/** The validated configuration, defaults applied. */
export type RolloutConfig = z.output<typeof rolloutConfigSchema>;
export type RefreshPreferencesConfig = RolloutConfig['refreshPreferences'];

type Issue = { addIssue: (issue: { code: 'custom'; path: PropertyKey[]; message: string }) => void };

/** Waves refused before anything runs: a name twice, a group in two waves, a wave with no groups. */
function checkWaves(waves: readonly Partial<WaveConfig>[], ctx: Issue): void {
  const names = new Map<string, number>();
  const owner = new Map<string, string>();
  waves.forEach((wave, index) => {
    if (!wave || typeof wave !== 'object') return;
    const label = typeof wave.name === 'string' ? `wave "${wave.name}"` : `wave ${index + 1}`;
    if (typeof wave.name === 'string') {
      const earlier = names.get(wave.name);
      if (earlier !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['waves', index, 'name'],
          message: `"${wave.name}" is also the name of wave ${earlier + 1}; give each wave its own name`,
        });
      } else names.set(wave.name, index);
    }
    const groups = Array.isArray(wave.autoScalingGroupNames) ? wave.autoScalingGroupNames : [];
    if (groups.length === 0 && wave.autoScalingGroupTags === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['waves', index],
        message: `${label} has no groups: list its autoScalingGroupNames or select them with autoScalingGroupTags`,
      });
    }
    groups.forEach((group, position) => {
      if (typeof group !== 'string') return;
      const first = owner.get(group);
      if (first !== undefined && first !== label) {
        ctx.addIssue({
          code: 'custom',
          path: ['waves', index, 'autoScalingGroupNames', position],
          message: `"${group}" is in ${first} and in ${label}; a group refreshes in one wave only: remove it from one of them`,
        });
      } else owner.set(group, label);
    });
  });
}

/**
 * The gate against the waves: every wave's alarms (the gate's and its own) are read in one DescribeAlarms
 * call, so at most 100 of them; and a bake after each of many one-group waves must keep the rollout's history
 * in bounds. Values that failed their own checks are left to those.
 */
function checkGate(
  config: {
    readonly gate?: Partial<GateConfig> | undefined;
    readonly waves?: readonly Partial<WaveConfig>[] | undefined;
    readonly autoScalingGroupNames?: readonly string[] | undefined;
  },
  ctx: Issue,
): void {
  const gate = config.gate;
  if (!gate || typeof gate !== 'object') return;
  const gateAlarms = Array.isArray(gate.alarmNames) ? gate.alarmNames : [];
  if (Array.isArray(config.waves) && gateAlarms.length <= MAX_GATE_ALARMS) {
    config.waves.forEach((wave, index) => {
      const own = Array.isArray(wave?.alarmNames) ? wave.alarmNames : [];
      const all = new Set([...gateAlarms, ...own]);
      if (own.length > 0 && all.size > MAX_GATE_ALARMS) {
        ctx.addIssue({
          code: 'custom',
          path: ['waves', index, 'alarmNames'],
          message: `with gate.alarmNames, wave "${String(wave?.name)}" watches ${all.size} alarms; at most ${MAX_GATE_ALARMS} (one DescribeAlarms call reads them all): remove some, or combine them in a composite alarm`,
        });
      }
    });
  }
  const names = config.autoScalingGroupNames;
  if (
    config.waves === undefined &&
    Array.isArray(names) &&
    typeof gate.bakeMinutes === 'number' &&
    gate.bakeMinutes > 0 &&
    names.length > MAX_WAVES
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['gate', 'bakeMinutes'],
      message: `bakes after each of the ${names.length} groups of autoScalingGroupNames (each a wave of its own), more than ${MAX_WAVES} waves (Step Functions' history limit); use waves with several groups each, or set bakeMinutes 0`,
    });
  }
}

/** The groups a configuration names (in waves or in autoScalingGroupNames), in rollout order. */
export function namedGroupsOf(config: {
  readonly autoScalingGroupNames?: readonly string[] | undefined;
  readonly waves?: readonly Partial<Pick<WaveConfig, 'autoScalingGroupNames'>>[] | undefined;
}): string[] {
  if (Array.isArray(config.autoScalingGroupNames)) return [...config.autoScalingGroupNames];
  const names: string[] = [];
  for (const wave of config.waves ?? [])
    if (Array.isArray(wave?.autoScalingGroupNames)) names.push(...wave.autoScalingGroupNames);
  return [...new Set(names)];
}

/** The gate of a configuration, every default applied (no alarms, no bake, no watch) when it has none. */
export function gateOf(config: Pick<RolloutConfig, 'gate'>): GateConfig {
  return config.gate ?? gateSchema.parse({});
}

/**
 * The waves of a configuration as the rollout runs them: `waves` as given, or the seed's shape
 * (`autoScalingGroupNames` alone), one group per wave in order, each named after its group. Each wave's
 * bakeMinutes is its own, else the gate's; its alarmNames are the gate's, then its own, each once.
 */
export function wavesOf(config: RolloutConfig): EffectiveWave[] {
  const gate = gateOf(config);
  const waves: WaveConfig[] =
    config.waves ??
    (config.autoScalingGroupNames ?? []).map((name) => ({
      name,
      autoScalingGroupNames: [name],
      maxParallel: 1,
    }));
  return waves.map(({ bakeMinutes, alarmNames, ...wave }) => ({
    ...wave,
    bakeMinutes: bakeMinutes ?? gate.bakeMinutes,
    alarmNames: [...new Set([...gate.alarmNames, ...(alarmNames ?? [])])],
  }));
}
