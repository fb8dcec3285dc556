import { AwsApiError } from '../../errors.ts';
import type { Input } from '../../protocols/input.ts';

/** EC2 resource ids: a prefix and 8 (old style) or 17 hex digits. */
const idPattern = (prefix: string): RegExp => new RegExp(`^${prefix}-[0-9a-f]{8}([0-9a-f]{9})?$`);

export const AMI_ID = idPattern('ami');
export const SNAPSHOT_ID = idPattern('snap');
export const INSTANCE_ID = idPattern('i');
export const LAUNCH_TEMPLATE_ID = /^lt-[0-9a-f]{17}$/;
export const ACCOUNT_ID = /^\d{12}$/;

/** EC2's "Invalid id" message, shared by the `.Malformed` codes of every resource kind. */
export const malformed = (code: string, id: string, prefix: string): AwsApiError =>
  new AwsApiError(code, `Invalid id: "${id}" (expecting "${prefix}-...")`);

export const invalidParameterValue = (message: string): AwsApiError =>
  new AwsApiError('InvalidParameterValue', message);

export const imageNotFound = (ids: readonly string[]): AwsApiError =>
  new AwsApiError(
    'InvalidAMIID.NotFound',
    ids.length === 1
      ? `The image id '[${ids[0]}]' does not exist`
      : `The image ids '[${ids.join(', ')}]' do not exist`,
  );

export function checkImageId(id: string): void {
  if (!AMI_ID.test(id)) throw malformed('InvalidAMIID.Malformed', id, 'ami');
}

/** `true` for the `<return>` element EC2 sends back from actions that have nothing else to say. */
export const ok = { return: true } as const;

export interface Filter {
  readonly name: string;
  readonly values: readonly string[];
  /** The values compiled once per request, not once per resource they are matched against. */
  readonly patterns: readonly Wildcard[];
}

/**
 * EC2's limits on filters (FilterLimitExceeded, HTTP 400): at most 200 values in one call, each at most 255
 * characters. Messages as AWS words them (github.com/gjbae1212/gossm/issues/47,
 * github.com/ansible-collections/amazon.aws/issues/2393).
 */
const FILTER_VALUES_LIMIT = 200;
const FILTER_VALUE_LENGTH_LIMIT = 255;

/** `Filter.N.Name` / `Filter.N.Value.M`, within EC2's limits. */
export function readFilters(input: Input): Filter[] {
  const filters = input
    .objects('Filter')
    .map((f) => ({ name: f.string('Name'), values: f.strings('Value') }));
  const count = filters.reduce((n, f) => n + f.values.length, 0);
  if (count > FILTER_VALUES_LIMIT) {
    throw new AwsApiError(
      'FilterLimitExceeded',
      `The maximum number of filter values specified on a single call is ${FILTER_VALUES_LIMIT}`,
    );
  }
  if (filters.some((f) => f.values.some((v) => v.length > FILTER_VALUE_LENGTH_LIMIT))) {
    throw new AwsApiError(
      'FilterLimitExceeded',
      `The maximum length for a filter value is ${FILTER_VALUE_LENGTH_LIMIT} characters`,
    );
  }
  return filters.map((f) => ({ ...f, patterns: f.values.map(compileWildcard) }));
}

/**
 * A filter value: `*` matches any run of characters, `?` exactly one, and a backslash makes the next character
 * literal (`\*amazon\?\\` is the text `*amazon?\`); everything else is literal and, as in EC2, case-sensitive
 * (EC2 API Reference, DescribeTags). Kept as the literal-and-`?` runs between the stars, because a regular
 * expression such as `^.*0.*0.*0.*0.*0.*0.*0.*0.*1$` backtracks for seconds on a 40-character tag value.
 */
export interface Wildcard {
  /** The runs between stars; in each, `undefined` stands for `?`. */
  readonly runs: readonly (readonly (string | undefined)[])[];
  readonly starred: boolean;
}

export function compileWildcard(pattern: string): Wildcard {
  const runs: (string | undefined)[][] = [[]];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) runs.at(-1)!.push(pattern[++i]);
    else if (c === '*') runs.push([]);
    else runs.at(-1)!.push(c === '?' ? undefined : c);
  }
  return { runs, starred: runs.length > 1 };
}

/** Does `run` match `text` at `at`? */
function runAt(text: string, run: readonly (string | undefined)[], at: number): boolean {
  if (at + run.length > text.length) return false;
  for (let j = 0; j < run.length; j++) {
    const c = run[j];
    if (c !== undefined && c !== text[at + j]) return false;
  }
  return true;
}

/**
 * Runs between stars have fixed lengths, so taking each at its leftmost place after the one before is never
 * worse than a later place: one pass, at most (text length x pattern length) comparisons, no backtracking.
 */
export function matchesWildcard(wildcard: Wildcard, text: string): boolean {
  const { runs } = wildcard;
  const first = runs[0]!;
  if (!wildcard.starred) return first.length === text.length && runAt(text, first, 0);
  const last = runs.at(-1)!;
  if (first.length + last.length > text.length) return false;
  if (!runAt(text, first, 0) || !runAt(text, last, text.length - last.length)) return false;
  let at = first.length;
  const end = text.length - last.length;
  for (let r = 1; r < runs.length - 1; r++) {
    const run = runs[r]!;
    while (at + run.length <= end && !runAt(text, run, at)) at++;
    if (at + run.length > end) return false;
    at += run.length;
  }
  return true;
}

/** What a resource offers to one filter name: its values for that name (none when it has no such value). */
export type FilterValues = (name: string) => readonly string[] | undefined;

const isTagFilter = (name: string): boolean =>
  name.startsWith('tag:') || name === 'tag-key' || name === 'tag-value';

/** Refuses filter names the resource kind does not know, before anything is read or changed. */
export function checkFilterNames(filters: readonly Filter[], known: readonly string[]): void {
  for (const filter of filters) {
    if (!known.includes(filter.name) && !isTagFilter(filter.name)) {
      throw invalidParameterValue(`The filter '${filter.name}' is invalid`);
    }
  }
}

/** Filters AND together; the values of one filter OR together. */
export function matchesFilters(filters: readonly Filter[], valuesOf: FilterValues): boolean {
  return filters.every((filter) => {
    const actual = valuesOf(filter.name) ?? [];
    return actual.some((value) => filter.patterns.some((p) => matchesWildcard(p, value)));
  });
}

/** `tag:KEY` and `tag-key`/`tag-value` filters over a tag map; `undefined` for any other name. */
export function tagFilterValues(tags: ReadonlyMap<string, string>, name: string): string[] | undefined {
  if (name.startsWith('tag:')) {
    const value = tags.get(name.slice(4));
    return value === undefined ? [] : [value];
  }
  if (name === 'tag-key') return [...tags.keys()];
  if (name === 'tag-value') return [...tags.values()];
  return undefined;
}

export const tagSet = (tags: ReadonlyMap<string, string>): { key: string; value: string }[] | undefined =>
  tags.size === 0 ? undefined : [...tags].map(([key, value]) => ({ key, value }));

/**
 * EC2's tag restrictions (EC2 User Guide, "Tag restrictions"): keys up to 128 characters, values up to 256,
 * 50 tags per resource. The value message is EC2's (github.com/iriusrisk/GoCD-EC2-Elastic-Agent-Plugin/issues/24).
 */
const TAG_KEY_LENGTH_LIMIT = 128;
const TAG_VALUE_LENGTH_LIMIT = 256;
export const TAGS_PER_RESOURCE_LIMIT = 50;

/** `Tag.N.Key` / `Tag.N.Value` pairs, as CreateTags and TagSpecification carry them. */
export function readTags(input: Input, path = 'Tag'): [string, string][] {
  const tags = input.objects(path).map((t): [string, string] => {
    const key = t.string('Key');
    if (key.startsWith('aws:')) {
      throw invalidParameterValue(
        `Value ( ${key} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use`,
      );
    }
    if (key.length > TAG_KEY_LENGTH_LIMIT) {
      throw invalidParameterValue(`Tag key exceeds the maximum length of ${TAG_KEY_LENGTH_LIMIT} characters`);
    }
    const value = t.optString('Value') ?? '';
    if (value.length > TAG_VALUE_LENGTH_LIMIT) {
      throw invalidParameterValue(
        `Tag value exceeds the maximum length of ${TAG_VALUE_LENGTH_LIMIT} characters`,
      );
    }
    return [key, value];
  });
  if (tags.length > TAGS_PER_RESOURCE_LIMIT) throw tagLimitExceeded();
  return tags;
}

export const tagLimitExceeded = (): AwsApiError =>
  new AwsApiError('TagLimitExceeded', 'The maximum number of Tags for a resource has been reached.');
