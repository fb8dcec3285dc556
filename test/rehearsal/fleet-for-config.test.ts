import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import type { RolloutConfigInput } from '../../src/config/schema.ts';
import { fleetForConfig, generatedImages } from '../../src/rehearsal/fleet-for-config.ts';
import { rehearse } from '../../src/rehearsal/rehearse.ts';

const configInput: RolloutConfigInput = {
  amiParameterName: '/platform/golden-ami',
  launchTemplateIds: ['lt-0123456789abcdef0'],
  autoScalingGroupNames: ['checkout-blue', 'checkout-green'],
  trustedImageOwners: ['self'],
  notificationEmails: ['ops@example.com'],
  refreshPreferences: { alarmNames: ['checkout-5xx', 'checkout-latency'] },
};

describe('fleetForConfig (rehearse without --fleet)', () => {
  it('puts every group behind its own load balancer, with ELB health checks', () => {
    const fleet = fleetForConfig(parseConfig(configInput));
    expect(fleet.targetGroups.map((t) => t.name)).toEqual(['tg-1', 'tg-2']);
    expect(
      fleet.autoScalingGroups.map((g) => [
        g.name,
        g.healthCheckType,
        g.healthCheckGracePeriodSeconds,
        g.targetGroups,
      ]),
    ).toEqual([
      ['checkout-blue', 'ELB', 60, ['tg-1']],
      ['checkout-green', 'ELB', 60, ['tg-2']],
    ]);
  });

  it('gives a tag-selected wave three groups carrying its tags, and creates the gate alarms: the rehearsal runs', async () => {
    const { autoScalingGroupNames: _names, refreshPreferences: _prefs, ...rest } = configInput;
    const config = parseConfig({
      ...rest,
      waves: [
        { name: 'canary', autoScalingGroupNames: ['checkout-blue'] },
        { name: 'rest', autoScalingGroupTags: { rollout: 'checkout' }, maxParallel: 3 },
      ],
      gate: { alarmNames: ['checkout-errors'] },
    });
    const fleet = fleetForConfig(config);
    expect(fleet.autoScalingGroups.map((g) => [g.name, g.tags])).toEqual([
      ['checkout-blue', undefined],
      ['rest-tagged-1', { rollout: 'checkout' }],
      ['rest-tagged-2', { rollout: 'checkout' }],
      ['rest-tagged-3', { rollout: 'checkout' }],
    ]);
    expect(fleet.alarms.map((a) => a.name)).toEqual(['checkout-errors']);
    const { report, ledger } = await rehearse({ config, fleet, imageId: generatedImages.next });
    expect(report.status).toBe('SUCCEEDED');
    expect(ledger?.groups.map((g) => [g.autoScalingGroupName, g.wave])).toEqual([
      ['checkout-blue', 0],
      ['rest-tagged-1', 1],
      ['rest-tagged-2', 1],
      ['rest-tagged-3', 1],
    ]);
  });

  it('creates the alarms the config names, and none when it names none', () => {
    expect(fleetForConfig(parseConfig(configInput)).alarms.map((a) => a.name)).toEqual([
      'checkout-5xx',
      'checkout-latency',
    ]);
    const { refreshPreferences: _p, ...withoutAlarms } = configInput;
    void _p;
    expect(fleetForConfig(parseConfig(withoutAlarms)).alarms).toEqual([]);
  });

  it('rehearses a config alone, alarms and all: SUCCEEDED, and an app failure is caught (its alarm on the fleet errors fires first)', async () => {
    const config = parseConfig(configInput);
    const fleet = fleetForConfig(config);
    const good = await rehearse({ config, fleet, imageId: generatedImages.next });
    expect(good.report.status).toBe('SUCCEEDED');
    const bad = await rehearse({
      config,
      fleet,
      imageId: generatedImages.next,
      faults: [{ kind: 'appFailure', imageId: generatedImages.next, group: 'checkout-green' }],
    });
    expect(bad.report.status).toBe('ROLLED_BACK');
    // The generated alarm watches the fleet's total App/Errors: it fires within two minutes of the first failing
    // instance, before the ELB health checks give up on it.
    expect(bad.report.failureReason).toMatch(
      /checkout-green .*CloudWatch alarm checkout-5xx is in the ALARM state/,
    );
  });
});
