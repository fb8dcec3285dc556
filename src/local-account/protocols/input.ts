import { AwsApiError, missingParameter } from '../errors.ts';

/**
 * Read access to a request's parameters, the same for the query protocols (where every leaf is a string and
 * lists arrive as `Name.1`, `Name.member.1`) and for JSON (typed leaves). Paths are dot-separated member names.
 * Getters validate as they read, so a handler refuses a bad request before it changes anything.
 */
export class Input {
  constructor(
    readonly raw: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  private get(path: string): unknown {
    let value: unknown = this.raw;
    for (const key of path.split('.')) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
      // Own members only: an inherited `constructor` or `toString` is not something the caller sent.
      if (!Object.hasOwn(value, key)) return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return value;
  }

  private label(path: string): string {
    return this.prefix ? `${this.prefix}.${path}` : path;
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  optString(path: string): string | undefined {
    const value = this.get(path);
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw validation(`${this.label(path)} must be a string.`);
  }

  string(path: string): string {
    const value = this.optString(path);
    if (value === undefined) throw missingParameter(this.label(path));
    return value;
  }

  optNumber(path: string): number | undefined {
    const value = this.get(path);
    if (value === undefined || value === null || value === '') return undefined;
    // Number() of a structure would call its toString: a null-prototype one has none.
    const n = typeof value === 'number' ? value : typeof value === 'object' ? Number.NaN : Number(value);
    if (!Number.isFinite(n)) {
      throw validation(
        `Value '${shown(value)}' at '${this.label(path)}' failed to satisfy constraint: must be a number.`,
      );
    }
    return n;
  }

  number(path: string): number {
    const value = this.optNumber(path);
    if (value === undefined) throw missingParameter(this.label(path));
    return value;
  }

  optInt(path: string, min?: number, max?: number): number | undefined {
    const n = this.optNumber(path);
    if (n === undefined) return undefined;
    if (!Number.isInteger(n) || (min !== undefined && n < min) || (max !== undefined && n > max)) {
      const range = min !== undefined && max !== undefined ? ` between ${min} and ${max}` : '';
      throw validation(
        `Value '${n}' at '${this.label(path)}' failed to satisfy constraint: must be an integer${range}.`,
      );
    }
    return n;
  }

  optBoolean(path: string): boolean | undefined {
    const value = this.get(path);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'boolean') return value;
    if (value === 'true') return true;
    if (value === 'false') return false;
    throw validation(`Value '${shown(value)}' at '${this.label(path)}' must be true or false.`);
  }

  /** A list of strings; absent -> []. Accepts a single string where a list of one was sent. */
  strings(path: string): string[] {
    const value = this.get(path);
    if (value === undefined || value === null || value === '') return [];
    const list = Array.isArray(value) ? value : [value];
    return list.map((item, i) => {
      if (typeof item === 'string') return item;
      if (typeof item === 'number' || typeof item === 'boolean') return String(item);
      throw validation(`${this.label(path)}.${i + 1} must be a string.`);
    });
  }

  numbers(path: string): number[] {
    return this.strings(path).map((text) => {
      const n = Number(text);
      if (!Number.isFinite(n)) throw validation(`Value '${text}' in '${this.label(path)}' must be a number.`);
      return n;
    });
  }

  optObject(path: string): Input | undefined {
    const value = this.get(path);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'object' || Array.isArray(value))
      throw validation(`${this.label(path)} must be a structure.`);
    return new Input(value as Record<string, unknown>, this.label(path));
  }

  /** A list of structures; absent -> []. */
  objects(path: string): Input[] {
    const value = this.get(path);
    if (value === undefined || value === null || value === '') return [];
    const list = Array.isArray(value) ? value : [value];
    return list.map((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        throw validation(`${this.label(path)}.${i + 1} must be a structure.`);
      }
      return new Input(item as Record<string, unknown>, `${this.label(path)}.${i + 1}`);
    });
  }
}

const validation = (message: string): AwsApiError => new AwsApiError('ValidationError', message, 400);

/**
 * A request value as an error message shows it. Structures are null-prototype objects, which String() cannot
 * convert, so they are shown as JSON; long values are cut.
 */
function shown(value: unknown): string {
  const text = value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}
