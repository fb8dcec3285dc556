import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../args.ts';
import type { Command } from '../main.ts';
import { UsageError } from '../usage.ts';

/** The repository root, where cdk.json, src/infra/app.ts and the locally installed aws-cdk live. */
const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));

const usage = `Usage: ami-rollout deploy --config FILE [--stack-name NAME] [--image-pipeline ARN]
                          [--instance-role ARN]... [--no-trigger] [--synth] [-- CDK_OPTIONS...]

Deploys the pipeline (one Lambda per step, the state machine, the encrypted notification topic and the Image
Builder trigger) to the AWS account and region of your credentials, with the locally installed AWS CDK:
cdk deploy --app src/infra/app.ts -c config=FILE. Needs AWS credentials and a bootstrapped environment
(npx cdk bootstrap); --synth writes the template to cdk.out instead, offline.

Options:
  --config FILE          rollout configuration: required to deploy (with --synth, default:
                         examples/rollout.config.json, to see the template before writing one)
  --stack-name NAME      CloudFormation stack (default AmiRollout)
  --image-pipeline ARN   only images from this Image Builder pipeline start a rollout (default: any image)
  --instance-role ARN    a role the launch templates' instance profiles carry (repeatable)
  --no-trigger           deploy without the Image Builder trigger (start rollouts with 'ami-rollout start')
  --synth                synthesize only (cdk synth): no credentials needed
  -- CDK_OPTIONS         passed to cdk as they are, e.g. -- --require-approval never`;

/** The environment cdk runs in: no notices, version checks or telemetry. */
const cdkEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  CDK_DISABLE_VERSION_CHECK: '1',
  CDK_DISABLE_CLI_TELEMETRY: '1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

/** The AWS SDK's default credential chain (environment, profile, SSO, container, instance), as cdk uses it. */
async function checkCredentials(): Promise<string | undefined> {
  const { SFNClient } = await import('@aws-sdk/client-sfn');
  const client = new SFNClient({});
  try {
    const credentials = await client.config.credentials();
    if (!credentials.accessKeyId) return 'the credential chain returned no access key';
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  } finally {
    client.destroy();
  }
}

export const deployCommand: Command = {
  name: 'deploy',
  usage,
  async run(args, output) {
    const separator = args.indexOf('--');
    const own = separator === -1 ? args : args.slice(0, separator);
    const passThrough = separator === -1 ? [] : args.slice(separator + 1);
    const { values } = parseCommandLine(own, {
      config: { type: 'string' },
      'stack-name': { type: 'string' },
      'image-pipeline': { type: 'string' },
      'instance-role': { type: 'string', multiple: true },
      'no-trigger': { type: 'boolean' },
      synth: { type: 'boolean' },
    });
    // A deploy changes an AWS account: it must say which fleet it is for. A synth changes nothing, so it may
    // show the example's template to someone who has no configuration yet.
    if (values.config === undefined && !values.synth) {
      throw new UsageError(
        '--config FILE is required to deploy: the rollout configuration for your fleet (examples/rollout.config.json describes the example fleet). Use --synth to only write the template.',
      );
    }
    const configFile = resolve(values.config ?? `${projectRoot}examples/rollout.config.json`);
    if (values.config === undefined)
      output.out(`No --config given: synthesizing the example configuration, ${configFile}`);
    const stackName = values['stack-name'];
    if (stackName !== undefined && !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
      throw new UsageError(
        `--stack-name ${stackName}: a stack name is letters, digits and hyphens, starting with a letter.`,
      );
    }
    // A bad configuration is reported here, field by field, before cdk starts.
    const { loadConfig } = await import('../../config/load.ts');
    await loadConfig(configFile);

    const cdk = `${projectRoot}node_modules/.bin/cdk`;
    try {
      accessSync(cdk, constants.X_OK);
    } catch {
      output.err(
        `ami-rollout deploy: the AWS CDK CLI is not installed at ${cdk}; run npm ci in ${projectRoot}.`,
      );
      return 1;
    }
    if (!values.synth) {
      const problem = await checkCredentials();
      if (problem) {
        output.err(
          [
            `ami-rollout deploy: no AWS credentials (${problem}).`,
            'Set AWS_PROFILE (aws configure sso / aws sso login) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and',
            'AWS_REGION; or run with --synth to only write the template.',
          ].join('\n'),
        );
        return 1;
      }
    }

    const context = [
      `config=${configFile}`,
      ...(stackName ? [`stackName=${stackName}`] : []),
      ...(values['image-pipeline'] ? [`imagePipelineArn=${values['image-pipeline']}`] : []),
      ...(values['instance-role']?.length ? [`instanceRoleArns=${values['instance-role'].join(',')}`] : []),
      ...(values['no-trigger'] ? ['imageBuilderTrigger=false'] : []),
    ].flatMap((entry) => ['-c', entry]);
    const cdkArgs = [
      values.synth ? 'synth' : 'deploy',
      '--app',
      `${projectRoot}node_modules/.bin/tsx ${projectRoot}src/infra/app.ts`,
      ...context,
      '--no-notices',
      '--no-version-reporting',
      ...(values.synth ? ['--quiet'] : []),
      ...passThrough,
    ];
    output.out(`cdk ${cdkArgs.join(' ')}`);
    return new Promise<number>((done, fail) => {
      const child = spawn(cdk, cdkArgs, { cwd: projectRoot, env: cdkEnv(), stdio: 'inherit' });
      child.once('error', fail);
      child.once('exit', (code, signal) => {
        const status = code ?? (signal ? 1 : 0);
        if (status === 0 && values.synth)
          output.out(`Template: ${projectRoot}cdk.out/${stackName ?? 'AmiRollout'}.template.json`);
        done(status);
      });
    });
  },
};
