import { integerOption, numberOption, parseCommandLine } from '../args.ts';
import { exampleConfigPath, exampleFleetPath } from '../examples.ts';
import type { Command } from '../main.ts';
import { UsageError } from '../usage.ts';

const usage = `Usage: ami-rollout emulator [--port 4566] [--fleet FILE] [--config FILE] [--speed N]

Serves a local AWS account (EC2, Auto Scaling, SSM, SNS, Step Functions, IAM, CloudWatch, Elastic Load
Balancing v2, DynamoDB) on 127.0.0.1 that the AWS CLI, the SDKs and 'ami-rollout start|status|history
--endpoint URL' can use.

Options:
  --port N       TCP port on 127.0.0.1 (default 4566; 0 picks a free one)
  --fleet FILE   fleet file to seed the account (default: examples/fleet.json)
  --config FILE  rollout configuration: the pipeline (state machine 'ami-rollout' and its
                 steps) is deployed onto the account from it (default: examples/rollout.config.json
                 with the example fleet; no pipeline with another fleet unless given)
  --speed N      virtual seconds per real second (default 1; 0 = time moves only
                 when you POST /_local/clock/advance). A rollout's Wait states move
                 virtual time forward by themselves.`;

export const emulatorCommand: Command = {
  name: 'emulator',
  usage,
  async run(args, output) {
    const { values } = parseCommandLine(args, {
      port: { type: 'string' },
      fleet: { type: 'string' },
      speed: { type: 'string' },
      config: { type: 'string' },
    });
    const port = integerOption('port', values.port, 4566, 0, 65535);
    const speed = numberOption('speed', values.speed, 1, 0, 1_000_000);
    const [{ loadConfig }, { createLocalAccountFromFleet, readFleetFile, serve }, { deployToLocalAccount }] =
      await Promise.all([
        import('../../config/load.ts'),
        import('../../local-account/index.ts'),
        import('../../rehearsal/pipeline.ts'),
      ]);
    const fleetPath = values.fleet ?? exampleFleetPath;
    const fleet = await readFleetFile(fleetPath);
    const configPath = values.config ?? (values.fleet === undefined ? exampleConfigPath : undefined);
    const config = configPath ? await loadConfig(configPath) : undefined;
    const account = await createLocalAccountFromFleet(fleet);
    const pipeline = config ? await deployToLocalAccount(account, config) : undefined;
    const running = await serve(account, port).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new UsageError(
          `port ${port} on 127.0.0.1 is in use (another emulator?): pick another with --port N, or --port 0 for a free one.`,
        );
      }
      throw error;
    });
    if (speed > 0) account.clock.runInRealTime(speed);
    const instances = [...account.state.autoScalingGroups.values()].reduce(
      (n, g) => n + g.instanceIds.length,
      0,
    );
    output.out(
      [
        `Local AWS account ${account.accountId} (${account.region}) serving on ${running.endpoint}`,
        `Fleet: ${fleetPath}: ${fleet.images.length} images, ${fleet.launchTemplates.length} launch templates, ` +
          `${fleet.autoScalingGroups.length} groups, ${instances} instances, ${fleet.faults.length} faults`,
        `Virtual time ${account.now().toISOString()}, ` +
          (speed > 0
            ? `moving at ${speed}x real time`
            : 'stopped: POST /_local/clock/advance {"seconds":N} moves it'),
        pipeline
          ? `Pipeline: ${pipeline.stateMachineArn} (from ${configPath})`
          : 'Pipeline: none (pass --config FILE to deploy one)',
        '',
        'Point the AWS CLI (or any SDK) at it:',
        // AWS CLI v1 reads AWS_DEFAULT_REGION only; v2 and the SDKs read AWS_REGION.
        `  export AWS_ENDPOINT_URL=${running.endpoint} AWS_REGION=${account.region} AWS_DEFAULT_REGION=${account.region} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local`,
        '  aws autoscaling describe-auto-scaling-groups --query "AutoScalingGroups[].[AutoScalingGroupName,DesiredCapacity]"',
        ...(pipeline
          ? [
              '',
              'Roll out an image on it:',
              `  npx ami-rollout start --ami ${fleet.images.at(-1)?.imageId ?? 'AMI_ID'} --watch --endpoint ${running.endpoint} --region ${account.region}`,
            ]
          : []),
        '',
        `Controls: GET ${running.endpoint}/_local/clock, POST /_local/clock/advance, GET|POST|DELETE /_local/faults, GET /_local/sns/messages`,
        'Ctrl-C stops it (so does ending the shell or the npx that started it).',
      ].join('\n'),
    );
    await new Promise<void>((resolve) => {
      const stop = () => {
        account.clock.stopRealTime();
        void running.close().then(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // Started through npx or npm in the background, killing that process does not reach this one: when the
      // process that started it is gone (this one is re-parented), stop too, instead of holding the port.
      const parent = process.ppid;
      const orphaned = setInterval(() => {
        if (process.ppid !== parent) {
          clearInterval(orphaned);
          stop();
        }
      }, 1000);
      orphaned.unref();
    });
    return 0;
  },
};
