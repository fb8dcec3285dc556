import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromEnvironment, loadConfig, parseConfig } from '../../src/config/load.ts';
import { namedGroupsOf, wavesOf } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/errors.ts';

const valid = {
  amiParameterName: '/ami-rollout/golden-ami',
  launchTemplateIds: ['lt-0000000000000a001'],
  autoScalingGroupNames: ['web', 'api'],
  trustedImageOwners: ['123456789012'],
  notificationTopicArn: 'arn:aws:sns:us-east-1:123456789012:ami-rollout',
};

function issuesOf(value: unknown): string[] {
  try {
    parseConfig(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected the configuration to be refused');
}

describe('waves', () => {
  const { autoScalingGroupNames: _names, ...base } = valid;
  const waves = [
    { name: 'canary', autoScalingGroupNames: ['web-1'] },
    { name: 'rest', autoScalingGroupNames: ['web-2', 'web-3'], maxParallel: 2, bakeMinutes: 15 },
  ];

  it('takes ordered waves with defaults maxParallel 1 and bakeMinutes 0 (unset: the gate decides)', () => {
    const config = parseConfig({ ...base, waves });
    expect(config.waves).toEqual([
      { name: 'canary', autoScalingGroupNames: ['web-1'], maxParallel: 1 },
      { name: 'rest', autoScalingGroupNames: ['web-2', 'web-3'], maxParallel: 2, bakeMinutes: 15 },
    ]);
    expect(config.waves?.[0]).not.toHaveProperty('bakeMinutes');
    expect(wavesOf(config)).toEqual([
      { name: 'canary', autoScalingGroupNames: ['web-1'], maxParallel: 1, bakeMinutes: 0, alarmNames: [] },
      {
        name: 'rest',
        autoScalingGroupNames: ['web-2', 'web-3'],
        maxParallel: 2,
        bakeMinutes: 15,
        alarmNames: [],
      },
    ]);
    expect(namedGroupsOf(config)).toEqual(['web-1', 'web-2', 'web-3']);
  });

  it('reads autoScalingGroupNames alone as one group per wave, in order, one at a time', () => {
    expect(wavesOf(parseConfig(valid))).toEqual([
      { name: 'web', autoScalingGroupNames: ['web'], maxParallel: 1, bakeMinutes: 0, alarmNames: [] },
      { name: 'api', autoScalingGroupNames: ['api'], maxParallel: 1, bakeMinutes: 0, alarmNames: [] },
    ]);
  });

  it('refuses waves and autoScalingGroupNames together, and neither', () => {
    expect(issuesOf({ ...valid, waves })).toEqual([
      expect.stringMatching(/^autoScalingGroupNames: is given together with waves; use one/),
    ]);
    expect(issuesOf(base)).toEqual([expect.stringMatching(/^waves: is required: list waves/)]);
  });

  it('refuses a group in two waves, naming both waves and the fix', () => {
    expect(
      issuesOf({ ...base, waves: [...waves, { name: 'again', autoScalingGroupNames: ['web-2'] }] }),
    ).toEqual([
      'waves[2].autoScalingGroupNames[0]: "web-2" is in wave "rest" and in wave "again"; a group refreshes in one wave only: remove it from one of them',
    ]);
  });

  it('refuses a wave with no groups, a wave name twice, and maxParallel below 1', () => {
    expect(issuesOf({ ...base, waves: [...waves, { name: 'empty' }] })).toEqual([
      'waves[2]: wave "empty" has no groups: list its autoScalingGroupNames or select them with autoScalingGroupTags',
    ]);
    expect(
      issuesOf({ ...base, waves: [...waves, { name: 'canary', autoScalingGroupNames: ['x'] }] }),
    ).toEqual(['waves[2].name: "canary" is also the name of wave 1; give each wave its own name']);
    expect(
      issuesOf({ ...base, waves: [{ name: 'w', autoScalingGroupNames: ['a'], maxParallel: 0 }] }),
    ).toEqual(['waves[0].maxParallel: 0 must be 1 or more (1 refreshes the wave one group at a time)']);
  });

  it('takes a tag selector, resolved by Preflight, and refuses a reserved or empty one', () => {
    const tagged = parseConfig({ ...base, waves: [{ name: 'all', autoScalingGroupTags: { tier: 'web' } }] });
    expect(tagged.waves?.[0]?.autoScalingGroupTags).toEqual({ tier: 'web' });
    expect(issuesOf({ ...base, waves: [{ name: 'all', autoScalingGroupTags: {} }] })).toEqual([
      expect.stringMatching(/autoScalingGroupTags: must hold 1 to 10 tags/),
    ]);
    expect(
      issuesOf({ ...base, waves: [{ name: 'all', autoScalingGroupTags: { 'aws:x': 'y' } }] }).join(),
    ).toMatch(/must not start with "aws:"/);
  });
});

describe('rollout configuration', () => {
  it('applies the documented defaults', () => {
    const config = parseConfig(valid);
    // Min and Max healthy stay unset: the trigger resolves them per group (small groups launch first).
    expect(config.refreshPreferences).toEqual({ skipMatching: true, autoRollback: true });
    expect(config.gate).toBeUndefined();
    expect(config.pollIntervalSeconds).toBe(60);
    expect(config.refreshTimeoutMinutes).toBe(120);
    expect(config.shareWithAccountIds).toEqual([]);
    expect(config.groupsWithoutHealthSignal).toEqual([]);
  });

  it('fails when groupsWithoutHealthSignal names a group the rollout does not refresh, or one twice', () => {
    expect(issuesOf({ ...valid, groupsWithoutHealthSignal: ['api', 'batch'] })).toEqual([
      'groupsWithoutHealthSignal[1]: "batch" is not a group of this rollout (web, api); fix the name or remove it',
    ]);
    expect(issuesOf({ ...valid, groupsWithoutHealthSignal: ['api', 'api'] })).toEqual([
      'groupsWithoutHealthSignal[1]: "api" is listed twice; list each group name once',
    ]);
    expect(parseConfig({ ...valid, groupsWithoutHealthSignal: ['api'] }).groupsWithoutHealthSignal).toEqual([
      'api',
    ]);
  });

  it('loads examples/rollout.config.json', async () => {
    const config = await loadConfig(join(import.meta.dirname, '../../examples/rollout.config.json'));
    expect(config.autoScalingGroupNames).toEqual(['web', 'api', 'worker']);
    // The editor's $schema is no part of what the pipeline is deployed with.
    expect(config).not.toHaveProperty('$schema');
  });

  it('fails when a required field is missing, naming it', () => {
    expect(issuesOf({ ...valid, amiParameterName: undefined })).toEqual([
      'amiParameterName: is required (string)',
    ]);
  });

  it('fails when a launch template id is malformed, showing the value and the fix', () => {
    const [issue] = issuesOf({ ...valid, launchTemplateIds: ['web-template'] });
    expect(issue).toContain('launchTemplateIds[0]: "web-template"');
    expect(issue).toContain('lt-0123456789abcdef0');
  });

  it('fails when a list has duplicates', () => {
    expect(issuesOf({ ...valid, autoScalingGroupNames: ['web', 'web'] })[0]).toContain(
      'autoScalingGroupNames[1]: "web" is listed twice',
    );
  });

  it('fails when a required list is empty', () => {
    expect(issuesOf({ ...valid, launchTemplateIds: [] })).toEqual([
      'launchTemplateIds: must list at least one launch template id',
    ]);
  });

  it.each([
    ['shareWithAccountIds', ['12345']],
    ['shareWithOrganizationArns', ['arn:aws:organizations::123456789012:o-nope']],
    ['shareWithOrganizationalUnitArns', ['ou-ab12-cdefgh34']],
    ['trustedImageOwners', ['me']],
    ['notificationTopicArn', 'ami-rollout'],
  ])('fails when %s is malformed', (field, value) => {
    expect(issuesOf({ ...valid, [field]: value })[0]).toMatch(new RegExp(`^${field}`));
  });

  it.each([
    [{ minHealthyPercentage: 101 }, 'refreshPreferences.minHealthyPercentage: 101 must be 0-100'],
    [{ maxHealthyPercentage: 99 }, 'refreshPreferences.maxHealthyPercentage: 99 must be 100-200'],
    [{ minHealthyPercentage: 50, maxHealthyPercentage: 200 }, 'lower maxHealthyPercentage to 150'],
    [
      { maxHealthyPercentage: 200 },
      'refreshPreferences.maxHealthyPercentage: 200 - minHealthyPercentage 90 (the default when unset) is more than 100; lower maxHealthyPercentage to 190 or less, or set minHealthyPercentage to 100 or more',
    ],
    [
      { checkpointPercentages: [50, 20] },
      'refreshPreferences.checkpointPercentages[1]: must be strictly ascending',
    ],
    [{ checkpointDelaySeconds: 60 }, 'only applies with checkpointPercentages'],
    [{ bakeTimeSeconds: 172_801 }, 'must be at most 172800'],
    [{ alarmNames: Array.from({ length: 11 }, (_, i) => `a${i}`) }, 'at most 10 alarms'],
    [{ minHealthyPercentage: 90, surge: true }, 'unknown field "surge"'],
  ])('fails when refreshPreferences are out of range: %j', (refreshPreferences, message) => {
    expect(issuesOf({ ...valid, refreshPreferences }).join('\n')).toContain(message);
  });

  it.each([
    [[50], 'refreshPreferences.checkpointPercentages[0]: ends with 50', '[50, 100]'],
    [[20, 50], 'refreshPreferences.checkpointPercentages[1]: ends with 50', '[20, 50, 100]'],
  ])('fails when the last checkpoint is not 100: %j', (checkpointPercentages, where, fix) => {
    const refreshPreferences = { checkpointPercentages, checkpointDelaySeconds: 60 };
    const issues = issuesOf({ ...valid, refreshPreferences }).join('\n');
    expect(issues).toContain(where);
    expect(issues).toContain(`end the list with 100, e.g. ${fix}`);
  });

  it('accepts checkpoints that end with 100, and no checkpoints at all', () => {
    const refreshPreferences = { checkpointPercentages: [20, 100], checkpointDelaySeconds: 60 };
    expect(parseConfig({ ...valid, refreshPreferences }).refreshPreferences.checkpointPercentages).toEqual([
      20, 100,
    ]);
    expect(parseConfig({ ...valid, refreshPreferences: { checkpointPercentages: [100] } })).toBeDefined();
    expect(parseConfig(valid).refreshPreferences.checkpointPercentages).toBeUndefined();
  });

  it('fails when pollIntervalSeconds is out of range', () => {
    expect(issuesOf({ ...valid, pollIntervalSeconds: 1 })).toEqual(['pollIntervalSeconds: 1 must be 5-3600']);
  });

  it('fails when the timeout could exceed the Step Functions history limit', () => {
    const [issue] = issuesOf({ ...valid, pollIntervalSeconds: 5, refreshTimeoutMinutes: 10_000 });
    expect(issue).toContain('refreshTimeoutMinutes');
    expect(issue).toContain('25000');
  });

  it("budgets history per group execution: the fleet's size no longer counts, one group's polls do", () => {
    // 2,000 groups polled every 60 s for 120 min: each group's execution records ~1,230 events.
    const groups = Array.from({ length: 2000 }, (_, i) => `group-${i}`);
    expect(parseConfig({ ...valid, autoScalingGroupNames: groups }).autoScalingGroupNames).toHaveLength(2000);
    // One week polled every 20 s: 30,240 polls in one group's execution.
    const [issue] = issuesOf({ ...valid, pollIntervalSeconds: 20, refreshTimeoutMinutes: 10_080 });
    expect(issue).toMatch(
      /^refreshTimeoutMinutes: 10080 min polled every 20 s could need ~302430 .* in one group's execution \(limit 25000\); lower it to 832 or raise pollIntervalSeconds to 243 or more$/,
    );
    expect(
      parseConfig({ ...valid, pollIntervalSeconds: 243, refreshTimeoutMinutes: 10_080 }).pollIntervalSeconds,
    ).toBe(243);
  });

  it('fails when the timeout leaves no room for the checkpoint pauses (AWS default delay 3600 s), the bake time and the replacements', () => {
    expect(
      issuesOf({
        ...valid,
        refreshPreferences: { checkpointPercentages: [20, 50, 100] },
        refreshTimeoutMinutes: 120,
      }),
    ).toEqual([
      "refreshTimeoutMinutes: 120 min (7200 s) leaves no time for the refresh's planned pauses: 2 checkpoint(s) below 100 x checkpointDelaySeconds 3600 (the AWS default when unset) + bakeTimeSeconds 0 + 600 s for the replacements = 7800 s; raise refreshTimeoutMinutes to 131 or more, or shorten checkpointDelaySeconds / bakeTimeSeconds",
    ]);
    expect(
      parseConfig({
        ...valid,
        refreshPreferences: { checkpointPercentages: [20, 50, 100] },
        refreshTimeoutMinutes: 131,
      }).refreshTimeoutMinutes,
    ).toBe(131);
  });

  it('fails when the timeout is no longer than the bake time plus checkpoint delays plus 10 minutes', () => {
    const refreshPreferences = {
      checkpointPercentages: [50, 100],
      checkpointDelaySeconds: 300,
      bakeTimeSeconds: 900,
    };
    // 300 + 900 + 600 = 1800 s: exactly 30 min is refused, 31 min is enough.
    expect(issuesOf({ ...valid, refreshPreferences, refreshTimeoutMinutes: 30 }).join('\n')).toContain(
      '1 checkpoint(s) below 100 x checkpointDelaySeconds 300 + bakeTimeSeconds 900 + 600 s for the replacements = 1800 s; raise refreshTimeoutMinutes to 31 or more',
    );
    expect(
      parseConfig({ ...valid, refreshPreferences, refreshTimeoutMinutes: 31 }).refreshTimeoutMinutes,
    ).toBe(31);
  });

  it('fails when the planned pauses cannot fit even the longest timeout', () => {
    const refreshPreferences = {
      checkpointPercentages: [10, 20, 30, 40, 100],
      checkpointDelaySeconds: 172_800,
    };
    expect(issuesOf({ ...valid, refreshPreferences, refreshTimeoutMinutes: 10_080 }).join('\n')).toContain(
      'more than the 10080 min maximum',
    );
  });

  it('fails when there is nowhere to notify', () => {
    expect(issuesOf({ ...valid, notificationTopicArn: undefined })[0]).toContain(
      'notificationTopicArn: is required',
    );
  });

  it('accepts emails instead of a topic (for the CDK app)', () => {
    expect(
      parseConfig({ ...valid, notificationTopicArn: undefined, notificationEmails: ['ops@example.com'] })
        .notificationEmails,
    ).toEqual(['ops@example.com']);
  });

  it('fails when a field is unknown', () => {
    expect(issuesOf({ ...valid, launchTemplateId: 'lt-0000000000000a001' })).toEqual([
      '(top level): unknown field "launchTemplateId"; remove it or check its spelling',
    ]);
  });

  it('names the file when it is not JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'config-'));
    const path = join(dir, 'rollout.config.json');
    await writeFile(path, '{ nope');
    await expect(loadConfig(path)).rejects.toThrow(`${path} is not valid JSON`);
  });

  it('reads AMI_ROLLOUT_CONFIG in a Lambda container', () => {
    expect(configFromEnvironment({ AMI_ROLLOUT_CONFIG: JSON.stringify(valid) }).amiParameterName).toBe(
      valid.amiParameterName,
    );
    expect(() => configFromEnvironment({})).toThrow(ConfigError);
  });
});
