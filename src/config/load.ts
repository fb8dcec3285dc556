import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { rolloutConfigSchema, type RolloutConfig } from './schema.ts';

/** Validates a parsed configuration object; `source` names the file (or variable) in messages. */
export function parseConfig(value: unknown, source = 'configuration'): RolloutConfig {
  const result = rolloutConfigSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues.map(formatIssue);
  throw new ConfigError(`${source} is invalid:\n  - ${issues.join('\n  - ')}`, issues, {
    cause: result.error,
  });
}

/** Reads and validates a JSON configuration file such as examples/rollout.config.json. */
export async function loadConfig(path: string): Promise<RolloutConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the configuration file ${path}: ${(error as Error).message}`, [], {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON: ${(error as Error).message}`, [], { cause: error });
  }
  return parseConfig(value, path);
}

/** Environment variable a Lambda reads its configuration from (JSON text), set by the CDK app. */
export const CONFIG_ENV = 'AMI_ROLLOUT_CONFIG';

/** The configuration a Lambda container runs with: `AMI_ROLLOUT_CONFIG` as JSON text. */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): RolloutConfig {
  const text = env[CONFIG_ENV];
  if (!text) throw new ConfigError(`${CONFIG_ENV} is not set; set it to the rollout configuration as JSON`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${CONFIG_ENV} is not valid JSON: ${(error as Error).message}`, [], {
      cause: error,
    });
  }
  return parseConfig(value, CONFIG_ENV);
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    '',
  );
  const where = path || '(top level)';
  if (issue.code === 'unrecognized_keys') {
    return `${where}: unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}; remove it or check its spelling`;
  }
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return `${where}: is required (${issue.expected})`;
    return `${where}: ${JSON.stringify(issue.input)} must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
  }
  const shown = isScalar(issue.input) ? `${JSON.stringify(issue.input)} ` : '';
  return `${where}: ${shown}${issue.message}`;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}
