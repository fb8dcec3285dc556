import { ConfigError } from '../errors.ts';
import { formatIssue, plainIssueMessage } from './issues.ts';
import { parseJsonText, readJsonFile } from './json-file.ts';
import { rolloutConfigSchema, type RolloutConfig } from './schema.ts';

/** Validates a parsed configuration object; `source` names the file (or variable) in messages. */
export function parseConfig(value: unknown, source = 'configuration'): RolloutConfig {
  const result = rolloutConfigSchema.safeParse(value, { reportInput: true, error: plainIssueMessage });
  if (result.success) {
    // $schema is for editors: it is no part of the configuration the pipeline deploys with.
    const { $schema: _editorSchema, ...config } = result.data;
    return config;
  }
  const issues = result.error.issues.map(formatIssue);
  throw new ConfigError(`${source} is invalid:\n  - ${issues.join('\n  - ')}`, issues, {
    cause: result.error,
  });
}

/** Reads and validates a JSON configuration file such as examples/rollout.config.json. */
export async function loadConfig(path: string): Promise<RolloutConfig> {
  const read = await readJsonFile(path);
  if (!read.ok) {
    const fix = read.kind === 'empty' ? ' (examples/rollout.config.json is one)' : '';
    throw new ConfigError(`configuration file ${path} ${read.problem}${fix}`, [read.problem]);
  }
  return parseConfig(read.value, path);
}

/** Environment variable a Lambda reads its configuration from (JSON text), set by the CDK app. */
export const CONFIG_ENV = 'AMI_ROLLOUT_CONFIG';

/** The configuration a Lambda container runs with: `AMI_ROLLOUT_CONFIG` as JSON text. */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): RolloutConfig {
  const text = env[CONFIG_ENV];
  if (!text) throw new ConfigError(`${CONFIG_ENV} is not set; set it to the rollout configuration as JSON`);
  const read = parseJsonText(text);
  if (!read.ok) throw new ConfigError(`${CONFIG_ENV} ${read.problem}`, [read.problem]);
  return parseConfig(read.value, CONFIG_ENV);
}
