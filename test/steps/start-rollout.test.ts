import { GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import {
  createLocalAccountFromFleet,
  inProcessClientConfig,
  readFleetFile,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { deployToLocalAccount } from '../../src/rehearsal/pipeline.ts';
import type { BuiltImage } from '../../src/adapters/imagebuilder.ts';
import {
  createStartRolloutFromEvent,
  startRollout,
  type StartFromEventResult,
} from '../../src/steps/start-rollout.ts';

const NEW_IMAGE = 'ami-0a1b2c3d4e5f60002';
const OTHER_IMAGE = 'ami-0a1b2c3d4e5f60009';
const PIPELINE = 'arn:aws:imagebuilder:us-east-1:111122223333:image-pipeline/golden';
const buildArn = (n: number) => `arn:aws:imagebuilder:us-east-1:111122223333:image/golden/1.0.0/${n}`;

/** The event as AWS documents it: the image build version ARN in `resources`, no AMI ids in `detail`. */
const availableEvent = (build: number) => ({
  version: '0',
  id: `event-${build}`,
  'detail-type': 'EC2 Image Builder Image State Change',
  source: 'aws.imagebuilder',
  account: '111122223333',
  time: '2026-11-26T09:00:00Z',
  region: 'us-east-1',
  resources: [buildArn(build)],
  detail: { 'previous-state': { status: 'INTEGRATING' }, state: { status: 'AVAILABLE' } },
});

interface Setup {
  account: LocalAccount;
  sfn: SFNClient;
  stateMachineArn: string;
  start: (event: unknown) => Promise<StartFromEventResult>;
  getImageCalls: string[];
}

/** The local account has no Image Builder: GetImage is answered from this table of builds. */
const builds: Record<string, BuiltImage> = {
  [buildArn(1)]: {
    amis: [{ region: 'us-east-1', image: NEW_IMAGE, accountId: '111122223333' }],
    sourcePipelineArn: PIPELINE,
  },
  [buildArn(2)]: {
    amis: [{ region: 'us-east-1', image: OTHER_IMAGE, accountId: '111122223333' }],
    sourcePipelineArn: PIPELINE,
  },
  [buildArn(3)]: {
    amis: [{ region: 'eu-west-1', image: 'ami-0a1b2c3d4e5f6000e' }],
    sourcePipelineArn: `${PIPELINE}-eu`,
  },
};

async function setup(options: { imagePipelineArn?: string } = {}): Promise<Setup> {
  const account = await createLocalAccountFromFleet(await readFleetFile('examples/fleet.json'));
  const config = await loadConfig('examples/rollout.config.json');
  const { stateMachineArn } = await deployToLocalAccount(account, config);
  const sfn = new SFNClient(inProcessClientConfig(account));
  const getImageCalls: string[] = [];
  const start = createStartRolloutFromEvent({
    sfn,
    getImage: async (arn) => {
      getImageCalls.push(arn);
      const found = builds[arn];
      if (!found) throw new Error(`no build ${arn}`);
      return found;
    },
    stateMachineArn,
    region: account.region,
    accountId: account.accountId,
    logSink: () => undefined,
    ...options,
  });
  return { account, sfn, stateMachineArn, start, getImageCalls };
}

async function executions(s: Setup) {
  const { executions = [] } = await s.sfn.send(
    new ListExecutionsCommand({ stateMachineArn: s.stateMachineArn }),
  );
  return executions.map((e) => ({ name: e.name, status: e.status }));
}

/**
 * Lets the running rollout reach its first batch (a `.sync:2` Task submitted: its groups wait in their own
 * executions, and virtual time stands still, so it stays there).
 */
async function untilWaiting(s: Setup, executionArn: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const { events = [] } = await s.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
    );
    if (events.some((e) => e.type === 'WaitStateEntered' || e.type === 'TaskSubmitted')) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${executionArn} never reached its first batch`);
}

/** What a rollout changes: the parameter, the templates' default versions, image sharing, refreshes, messages. */
function fleetSnapshot(account: LocalAccount): string {
  const s = account.state;
  return JSON.stringify({
    parameters: [...s.parameters.entries()].map(([name, p]) => [name, JSON.stringify(p)]),
    templates: [...s.launchTemplates.values()].map((t) => [
      t.launchTemplateId,
      t.defaultVersion,
      t.versions.size,
    ]),
    images: [...s.images.values()].map((i) => [i.imageId, [...i.launchPermissions.userIds]]),
    refreshes: [...s.instanceRefreshes.entries()].map(([group, list]) => [group, list.length]),
    published: s.published.length,
  });
}

describe('start_rollout (EventBridge trigger) on the local account', () => {
  let s: Setup;
  beforeEach(async () => {
    s = await setup();
  });

  it('starts rollout-<imageId> for an image that became AVAILABLE, with the AMI from GetImage', async () => {
    const result = await s.start(availableEvent(1));
    expect(result).toMatchObject({
      outcome: 'started',
      imageId: NEW_IMAGE,
      executionArn: `${s.stateMachineArn.replace(':stateMachine:', ':execution:')}:rollout-${NEW_IMAGE}`,
    });
    expect(s.getImageCalls).toEqual([buildArn(1)]);
    expect(await executions(s)).toEqual([{ name: `rollout-${NEW_IMAGE}`, status: 'RUNNING' }]);
  });

  it('starts one rollout when the same image is delivered twice', async () => {
    const first = await s.start(availableEvent(1));
    const second = await s.start(availableEvent(1));
    expect(second).toMatchObject({
      outcome: 'already-running',
      executionArn: first.outcome === 'started' ? first.executionArn : '',
    });
    expect(await executions(s)).toHaveLength(1);
  });

  it('refuses a second image while a rollout runs, names the running rollout and changes nothing', async () => {
    const first = await s.start(availableEvent(1));
    if (first.outcome !== 'started') throw new Error(first.message);
    await untilWaiting(s, first.executionArn);
    const before = fleetSnapshot(s.account);

    const refused = await s.start(availableEvent(2));

    expect(refused.outcome).toBe('refused');
    expect(refused.message).toContain(`refused to roll out ${OTHER_IMAGE}`);
    expect(refused.message).toContain(`rollout-${NEW_IMAGE} is running`);
    expect(refused.message).toContain(first.executionArn);
    expect(await executions(s)).toEqual([{ name: `rollout-${NEW_IMAGE}`, status: 'RUNNING' }]);
    expect(fleetSnapshot(s.account)).toBe(before);
  });

  it('uses the AMI ids the event carries without calling GetImage', async () => {
    const event = {
      ...availableEvent(7),
      detail: {
        state: { status: 'AVAILABLE' },
        outputResources: {
          amis: [
            { region: 'eu-west-1', image: 'ami-0a1b2c3d4e5f6000e' },
            { region: 'us-east-1', image: NEW_IMAGE },
          ],
        },
      },
    };
    expect(await s.start(event)).toMatchObject({ outcome: 'started', imageId: NEW_IMAGE });
    expect(s.getImageCalls).toEqual([]);
  });

  it('ignores an image with no AMI in this region', async () => {
    const result = await s.start(availableEvent(3));
    expect(result.outcome).toBe('ignored');
    expect(result.message).toContain('no AMI in us-east-1');
    expect(await executions(s)).toEqual([]);
  });

  it('fails on an event that is not an AVAILABLE image state change', async () => {
    const building = { ...availableEvent(1), detail: { state: { status: 'BUILDING' } } };
    await expect(s.start(building)).rejects.toMatchObject({ name: 'InvalidEventError' });
    await expect(s.start({ ...availableEvent(1), source: 'aws.ec2' })).rejects.toThrow(/source/);
    expect(await executions(s)).toEqual([]);
  });
});

describe('start_rollout with a pipeline filter', () => {
  it('starts only images built by the configured pipeline', async () => {
    const s = await setup({ imagePipelineArn: `${PIPELINE}-eu` });
    const result = await s.start(availableEvent(1));
    expect(result.outcome).toBe('ignored');
    expect(result.message).toContain(`not ${PIPELINE}-eu`);
    expect(await executions(s)).toEqual([]);
  });
});

describe('startRollout (shared with the CLI)', () => {
  it('reports an image whose rollout ended as already attempted, and starts nothing', async () => {
    const s = await setup();
    const first = await startRollout(s.sfn, s.stateMachineArn, NEW_IMAGE);
    if (first.outcome !== 'started') throw new Error(first.message);
    await untilWaiting(s, first.executionArn);
    await s.sfn.send(
      new (await import('@aws-sdk/client-sfn')).StopExecutionCommand({ executionArn: first.executionArn }),
    );
    const again = await startRollout(s.sfn, s.stateMachineArn, NEW_IMAGE);
    expect(again).toMatchObject({ outcome: 'already-attempted', executionArn: first.executionArn });
    expect(again.message).toContain('ended ABORTED');
    expect(await executions(s)).toEqual([{ name: `rollout-${NEW_IMAGE}`, status: 'ABORTED' }]);
  });

  it('fails on something that is not an AMI id', async () => {
    const s = await setup();
    await expect(startRollout(s.sfn, s.stateMachineArn, 'my-image')).rejects.toThrow(/AMI id/);
  });
});
