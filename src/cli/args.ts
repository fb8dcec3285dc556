import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs, with its errors turned into one-line usage errors. `maxPositionals` arguments that are
 * not options are allowed (default none).
 */
export function parseCommandLine<T extends Options>(args: string[], options: T, maxPositionals = 0) {
  const parse = () => {
    try {
      return parseArgs({
        args: withNegativeNumbersAttached(args, options),
        options,
        strict: true,
        allowPositionals: maxPositionals > 0,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      throw new UsageError(message.replace(/\. To specify a positional argument.*$/, '.'));
    }
  };
  const parsed = parse();
  if (parsed.positionals.length > maxPositionals)
    throw new UsageError(`unexpected argument '${parsed.positionals[maxPositionals]}'.`);
  return parsed;
}

/**
 * `--speed -1` as `--speed=-1`: parseArgs takes a value that starts with a dash for an option and calls it
 * ambiguous, while the person meant a (negative) number, which the option's own check then names with its range.
 */
function withNegativeNumbersAttached(args: readonly string[], options: Options): string[] {
  const result: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      result.push(`${arg}=${next}`);
      i++;
    } else result.push(arg);
    if (arg === '--') {
      result.push(...args.slice(i + 1));
      break;
    }
  }
  return result;
}

/** A number within [min, max] (a whole one unless `fractions`), or a usage error naming the flag and the range. */
export function numberOption(
  flag: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
  fractions = true,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || (!fractions && !Number.isInteger(n)) || n < min || n > max) {
    throw new UsageError(
      `--${flag} ${value}: must be a ${fractions ? 'number' : 'whole number'} from ${min} to ${max}.`,
    );
  }
  return n;
}

/** A whole number within [min, max], or a usage error naming the flag and the range. */
export function integerOption(
  flag: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  return numberOption(flag, value, fallback, min, max, false);
}
