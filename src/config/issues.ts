import type { z } from 'zod';

/**
 * How a file's validation problems are written, for the rollout configuration and the fleet file alike: one
 * line per problem, the path of the field, the bad value, and what it must be.
 */

/**
 * Messages for checks that carry none of their own (`z.number().min(0)`, `z.enum`, ...), instead of zod's
 * ("Too small: expected number to be >=0"). Pass it as `error` to safeParse: a message given in the schema
 * still wins over it.
 */
export const plainIssueMessage: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      const exact = issue.inclusive !== false;
      if (issue.origin === 'string') {
        if (small && bound === 1) return 'must not be empty';
        return `must be ${small ? 'at least' : 'at most'} ${bound} characters`;
      }
      if (issue.origin === 'array' || issue.origin === 'set')
        return small ? `must list at least ${bound}` : `must list at most ${bound}`;
      if (small) return exact ? `must be ${bound} or more` : `must be more than ${bound}`;
      return exact ? `must be ${bound} or less` : `must be less than ${bound}`;
    }
    case 'invalid_value':
      return `must be ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'datetime')
        return 'must be an ISO 8601 date and time with its offset, such as 2026-01-01T09:00:00Z';
      return `must be ${/^[aeiou]/.test(issue.format) ? 'an' : 'a'} ${issue.format}`;
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (Array.isArray(options)) return `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}`;
      return undefined;
    }
    default:
      return undefined;
  }
};

/** `refreshPreferences.alarmNames[2]`; `(top level)` for the file itself. */
export function issuePath(path: readonly PropertyKey[]): string {
  const text = path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    '',
  );
  return text || '(top level)';
}

/** One problem as a line: `launchTemplateIds[0]: "web" must be a launch template id ...`. */
export function formatIssue(issue: z.core.$ZodIssue): string {
  const where = issuePath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return `${where}: unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}; remove it or check its spelling`;
  }
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return `${where}: is required (${typeName(issue.expected)})`;
    const expected = typeName(issue.expected);
    return `${where}: ${JSON.stringify(issue.input)} must be ${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}`;
  }
  // A discriminated union reports the whole object; the bad value is its discriminator.
  const discriminator = (issue as { discriminator?: unknown }).discriminator;
  const input =
    issue.code === 'invalid_union' && typeof discriminator === 'string' && isRecord(issue.input)
      ? issue.input[discriminator]
      : issue.input;
  const shown = isScalar(input) ? `${JSON.stringify(input)} ` : '';
  return `${where}: ${shown}${issue.message}`;
}

function typeName(expected: string): string {
  return expected === 'int' ? 'whole number' : expected;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
