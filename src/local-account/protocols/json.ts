import { AwsApiError } from '../errors.ts';
import { NESTING_LIMIT } from './limits.ts';

/**
 * The body of a JSON 1.0/1.1 request as a tree of null-prototype objects and arrays. Member names come from
 * the caller, so none of them (`__proto__`, `constructor`, ...) can reach an object's prototype, however a
 * service later reads, copies or stores what it was sent. Refuses, with SerializationException as the JSON
 * services do for a body they cannot read, anything but one JSON object, and nesting deeper than NESTING_LIMIT:
 * checked before parsing, because V8 takes about a second to parse 1 MiB of `[`.
 */
export function parseJsonObject(body: string): Record<string, unknown> {
  if (body.trim() === '') return Object.create(null) as Record<string, unknown>;
  if (nestingDepth(body, NESTING_LIMIT) > NESTING_LIMIT) {
    throw serialization(
      `The request body nests more than ${NESTING_LIMIT} levels deep: the local account reads at most ` +
        `${NESTING_LIMIT}, and no AWS request needs more.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw serialization(`The request body is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw serialization('The request body must be a JSON object.');
  }
  return withoutPrototypes(parsed) as Record<string, unknown>;
}

const serialization = (message: string): AwsApiError => new AwsApiError('SerializationException', message);

/**
 * How deep a JSON document carried as a string member may nest (a state machine definition, an execution
 * input): far deeper than any real one, far shallower than the 10^5 levels that take V8 most of a second.
 */
export const DOCUMENT_NESTING_LIMIT = 1000;

/**
 * Parses a JSON document a request carries in a string member. Throws a SyntaxError (whose message the caller
 * puts in its own error) for bad JSON or nesting deeper than DOCUMENT_NESTING_LIMIT, checked before parsing.
 */
export function parseJsonDocument(text: string): unknown {
  if (nestingDepth(text, DOCUMENT_NESTING_LIMIT) > DOCUMENT_NESTING_LIMIT) {
    throw new SyntaxError(`nests more than ${DOCUMENT_NESTING_LIMIT} levels deep`);
  }
  return JSON.parse(text);
}

/**
 * The deepest nesting of `{` and `[` outside strings, stopping as soon as it passes the limit. A malformed body
 * gets a number too; JSON.parse then says what is wrong with it.
 */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return deepest;
}

/**
 * A parsed JSON value whose objects have no prototype (recursion is bounded by nestingDepth). Arrays, fresh
 * from JSON.parse, are changed in place, and only where they hold objects: a body of half a million numbers
 * costs one pass.
 */
function withoutPrototypes(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item === 'object') value[i] = withoutPrototypes(item);
    }
    return value;
  }
  if (value === null || typeof value !== 'object') return value;
  const copy = Object.create(null) as Record<string, unknown>;
  for (const [key, child] of Object.entries(value)) copy[key] = withoutPrototypes(child);
  return copy;
}
