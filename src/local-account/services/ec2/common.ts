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
}

/** `Filter.N.Name` / `Filter.N.Value.M`. */
export function readFilters(input: Input): Filter[] {
  return input.objects('Filter').map((f) => ({ name: f.string('Name'), values: f.strings('Value') }));
}

/**
 * EC2 filter values take `*` (any run of characters) and `?` (one character); everything else is literal and,
 * as in EC2, case-sensitive.
 */
function wildcard(pattern: string): RegExp {
  const body = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
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
    const patterns = filter.values.map(wildcard);
    return actual.some((value) => patterns.some((p) => p.test(value)));
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

/** `Tag.N.Key` / `Tag.N.Value` pairs, as CreateTags and TagSpecification carry them. */
export function readTags(input: Input, path = 'Tag'): [string, string][] {
  return input.objects(path).map((t) => {
    const key = t.string('Key');
    if (key.startsWith('aws:')) {
      throw invalidParameterValue(
        `Value ( ${key} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use`,
      );
    }
    return [key, t.optString('Value') ?? ''];
  });
}
