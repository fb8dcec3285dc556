import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeGroups } from '../../src/adapters/autoscaling.ts';
import { parseConfig } from '../../src/config/load.ts';
/** The fleet size of the seed's limit, kept: three pages of 50 names for DescribeAutoScalingGroups. */
const MAX_GROUPS = 150;
import {
  createLocalAccountFromFleet,
  inProcessClientConfig,
  parseFleet,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { collectReport } from '../../src/rehearsal/report.ts';

const IMAGE = 'ami-0a1b2c3d4e5f60001';
const TEMPLATE = 'lt-0a1b2c3d4e5f60001';
/** The most groups a rollout takes: three pages of 50 names for DescribeAutoScalingGroups. */
const names = Array.from({ length: MAX_GROUPS }, (_, i) => `group-${String(i).padStart(3, '0')}`);

describe('a fleet larger than one page of Describe results', () => {
  let account: LocalAccount;
  beforeAll(async () => {
    // One instance per group keeps the seeding quick.
    account = await createLocalAccountFromFleet(
      parseFleet({
        images: [{ imageId: IMAGE, name: 'current' }],
        launchTemplates: [{ launchTemplateId: TEMPLATE, name: 'web', imageId: IMAGE }],
        autoScalingGroups: names.map((name) => ({
          name,
          launchTemplate: 'web',
          minSize: 1,
          maxSize: 1,
          desiredCapacity: 1,
        })),
        parameters: [{ name: '/ami-rollout/golden-ami', value: IMAGE, dataType: 'aws:ec2:image' }],
      }),
    );
  });

  it('the rehearsal report shows every group and its instances', async () => {
    const config = parseConfig({
      amiParameterName: '/ami-rollout/golden-ami',
      launchTemplateIds: [TEMPLATE],
      autoScalingGroupNames: names,
      trustedImageOwners: [account.accountId],
      notificationTopicArn: `arn:aws:sns:us-east-1:${account.accountId}:ami-rollout`,
      pollIntervalSeconds: 600,
      refreshTimeoutMinutes: 60,
    });
    const clientConfig = inProcessClientConfig(account);
    const report = await collectReport({
      clients: {
        ec2: new EC2Client(clientConfig),
        autoscaling: new AutoScalingClient(clientConfig),
        ssm: new SSMClient(clientConfig),
      },
      config,
      imageId: IMAGE,
      execution: {
        $metadata: {},
        executionArn: `arn:aws:states:us-east-1:${account.accountId}:execution:ami-rollout:large`,
        stateMachineArn: `arn:aws:states:us-east-1:${account.accountId}:stateMachine:ami-rollout`,
        status: 'SUCCEEDED',
        startDate: account.now(),
      },
      history: [],
      notifications: [],
    });
    expect(report.autoScalingGroups.map((g) => g.name)).toEqual(names);
    const unreported = report.autoScalingGroups.filter((g) => g.instanceImageIds[IMAGE] !== 1);
    expect(unreported.map((g) => g.name)).toEqual([]);
  });

  it('describeGroups finds every group it is asked for', async () => {
    const found = await describeGroups(new AutoScalingClient(inProcessClientConfig(account)), names);
    expect([...found.keys()]).toEqual(names);
    expect(found.get('group-149')?.launchTemplate?.launchTemplateId).toBe(TEMPLATE);
  });
});
