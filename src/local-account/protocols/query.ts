/**
 * The AWS query protocols: form-encoded requests (`Action=...&Version=...&Name.1=...`) and XML responses.
 *
 * Two dialects share the request format and differ in the response:
 * - `ec2`: lists are `<item>` elements, the request id sits at the top of the response, errors are
 *   `<Response><Errors><Error>`;
 * - `query` (Auto Scaling, SNS): lists are `<member>` elements, fields sit in `<ActionResult>` followed by
 *   `<ResponseMetadata>`, errors are `<ErrorResponse><Error>`.
 */

import { AwsApiError } from '../errors.ts';
import { LIST_INDEX_LIMIT, NESTING_LIMIT, PARAMETER_LIMIT } from './limits.ts';

export type QueryDialect = 'ec2' | 'query';

/**
 * Splits a form-encoded body into its flat `key -> value` pairs, as URLSearchParams reads them. Refuses, with
 * `invalid`, more than PARAMETER_LIMIT pairs, counted before any is decoded.
 */
export function parseForm(
  body: string,
  invalid: (message: string) => Error = (message) => new AwsApiError('ValidationError', message),
): Map<string, string> {
  const pairs = new Map<string, string>();
  if (body === '') return pairs;
  const count = occurrences(body, '&') + 1;
  if (count > PARAMETER_LIMIT) {
    throw invalid(
      `The request has ${count} parameters; the local account reads at most ${PARAMETER_LIMIT} in one ` +
        'request: send fewer.',
    );
  }
  for (const part of body.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    pairs.set(
      decodeFormComponent(eq < 0 ? part : part.slice(0, eq)),
      eq < 0 ? '' : decodeFormComponent(part.slice(eq + 1)),
    );
  }
  return pairs;
}

/** How many times `char` occurs in `text`, counted without splitting it. */
function occurrences(text: string, char: string): number {
  let count = 0;
  for (let at = text.indexOf(char); at >= 0; at = text.indexOf(char, at + 1)) count++;
  return count;
}

/** `+` is a space and `%XX` a byte of UTF-8; a malformed escape is read as URLSearchParams reads it. */
function decodeFormComponent(text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return new URLSearchParams(`k=${text}`).get('k') ?? '';
  }
}

/** A structure member or a list being built: keyed by member name, or by 1-based index. */
class StructureNode {
  readonly members = new Map<string, unknown>();
}
class ListNode {
  readonly items = new Map<number, unknown>();
}

const LIST_MARKERS: ReadonlySet<string> = new Set(['member', 'entry', 'item']);
const INDEX = /^\d+$/;
/** What every member name in the AWS models looks like: `__proto__`, `a-b` or `` are not parameters. */
const MEMBER_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

export interface QueryReading {
  /** The error for a malformed parameter (an index out of range, nesting too deep). */
  readonly invalid: (message: string) => Error;
  /**
   * The error for a key segment that is no member name, for services that refuse unknown parameters (EC2's
   * UnknownParameter); without it, such a key is kept as plain data that no operation reads.
   */
  readonly unknown?: (name: string) => Error;
}

/**
 * Turns flat query keys into a nested value: `A.B.1.C=x` -> `{ A: { B: [ { C: 'x' } ] } }`. List markers
 * (`member`, `entry`, `item`) are dropped, numeric segments (1-based) index arrays.
 *
 * Built from Maps and returned as null-prototype objects, so no key (`__proto__.Owner.1`, `constructor`) can
 * reach an object's prototype. Lists are Maps of index until the end, so a huge index costs nothing: an index
 * past LIST_INDEX_LIMIT, or a key nested deeper than NESTING_LIMIT, is refused with `invalid` (each dialect's
 * code for a malformed parameter) before anything is built.
 */
export function expandQuery(
  flat: Map<string, string>,
  reading: QueryReading = { invalid: (message) => new AwsApiError('ValidationError', message) },
): Record<string, unknown> {
  const { invalid, unknown } = reading;
  const root = new StructureNode();
  for (const [key, value] of flat) {
    // Action and Version choose the operation; X-Amz-* are SigV4 query-string signing, not parameters.
    if (key === 'Action' || key === 'Version' || key.startsWith('X-Amz-')) continue;
    // Counted before splitting, so a key of half a million dots costs one scan. List markers count too: the
    // deepest real key has fewer than 12 segments with them.
    const depth = occurrences(key, '.') + 1;
    if (depth > NESTING_LIMIT) {
      throw invalid(
        `The parameter name '${key.slice(0, 200)}' nests ${depth} members deep: no AWS parameter ` +
          `nests more than ${NESTING_LIMIT}.`,
      );
    }
    const segments = key.split('.').filter((s) => !LIST_MARKERS.has(s));
    const slots = segments.map((segment) => {
      if (!INDEX.test(segment)) {
        if (unknown && !MEMBER_NAME.test(segment)) throw unknown(segment.slice(0, 200));
        return segment;
      }
      const index = Number(segment);
      if (index < 1 || index > LIST_INDEX_LIMIT) {
        throw invalid(
          `The list index ${segment.slice(0, 20)} in parameter '${key.slice(0, 200)}' is out of range: ` +
            `list members are numbered from 1, and a list takes at most ${LIST_INDEX_LIMIT} members.`,
        );
      }
      return index;
    });
    let node: StructureNode | ListNode = root;
    slots.forEach((slot, i) => {
      const children: Map<string | number, unknown> = node instanceof ListNode ? node.items : node.members;
      if (i === slots.length - 1) {
        children.set(slot, value);
        return;
      }
      // A later key that needs a different kind of container replaces an earlier value, as a later leaf does.
      const wanted = typeof slots[i + 1] === 'number' ? ListNode : StructureNode;
      let child = children.get(slot);
      if (!(child instanceof wanted)) {
        child = new wanted();
        children.set(slot, child);
      }
      node = child as StructureNode | ListNode;
    });
  }
  return finish(root) as Record<string, unknown>;
}

/** Structures become null-prototype objects; lists become dense arrays in index order (`Name.2` alone is one item). */
function finish(node: unknown): unknown {
  if (node instanceof ListNode) {
    return [...node.items.entries()].sort(([a], [b]) => a - b).map(([, item]) => finish(item));
  }
  if (node instanceof StructureNode) {
    const value = Object.create(null) as Record<string, unknown>;
    for (const [name, member] of node.members) value[name] = finish(member);
    return value;
  }
  return node;
}

const escapeXml = (text: string): string =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );

/** A list whose items the model names other than `item`/`member` (EC2 launch template interfaces' `<groupId>`). */
export class NamedItemList {
  constructor(
    readonly itemName: string,
    readonly items: readonly unknown[],
  ) {}
}

/**
 * Serializes a response value. Object keys are the XML element names; arrays become lists of `<item>` or
 * `<member>` children; Maps become `<entry><key/><value/></entry>` lists; `undefined` members are left out;
 * dates are ISO 8601.
 */
export function toXml(name: string, value: unknown, listItem: 'item' | 'member'): string {
  if (value === undefined || value === null) return '';
  if (value instanceof NamedItemList) {
    return `<${name}>${value.items.map((v) => toXml(value.itemName, v, listItem)).join('')}</${name}>`;
  }
  if (Array.isArray(value)) {
    return `<${name}>${value.map((v) => toXml(listItem, v, listItem)).join('')}</${name}>`;
  }
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  // Maps (SNS topic attributes) serialize as the query protocol's `<entry><key/><value/></entry>` list.
  if (value instanceof Map) {
    const entries = [...(value as Map<unknown, unknown>)]
      .map(([k, v]) => `<entry>${toXml('key', k, listItem)}${toXml('value', v, listItem)}</entry>`)
      .join('');
    return `<${name}>${entries}</${name}>`;
  }
  if (typeof value === 'object') {
    const children = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => toXml(k, v, listItem))
      .join('');
    return `<${name}>${children}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export function queryResponse(
  dialect: QueryDialect,
  action: string,
  xmlns: string,
  result: Record<string, unknown> | undefined,
  requestId: string,
): string {
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
  if (dialect === 'ec2') {
    const fields = Object.entries(result ?? {})
      .map(([k, v]) => toXml(k, v, 'item'))
      .join('');
    return `${head}<${action}Response xmlns="${xmlns}"><requestId>${requestId}</requestId>${fields}</${action}Response>`;
  }
  const inner = result === undefined ? '' : toXml(`${action}Result`, result, 'member');
  return (
    `${head}<${action}Response xmlns="${xmlns}">${inner}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function queryError(
  dialect: QueryDialect,
  xmlns: string,
  code: string,
  message: string,
  fault: 'Sender' | 'Receiver',
  requestId: string,
): string {
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
  if (dialect === 'ec2') {
    return (
      `${head}<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message>` +
      `</Error></Errors><RequestID>${requestId}</RequestID></Response>`
    );
  }
  return (
    `${head}<ErrorResponse xmlns="${xmlns}"><Error><Type>${fault}</Type><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
