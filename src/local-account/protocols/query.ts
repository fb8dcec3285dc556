/**
 * The AWS query protocols: form-encoded requests (`Action=...&Version=...&Name.1=...`) and XML responses.
 *
 * Two dialects share the request format and differ in the response:
 * - `ec2`: lists are `<item>` elements, the request id sits at the top of the response, errors are
 *   `<Response><Errors><Error>`;
 * - `query` (Auto Scaling, SNS): lists are `<member>` elements, fields sit in `<ActionResult>` followed by
 *   `<ResponseMetadata>`, errors are `<ErrorResponse><Error>`.
 */

export type QueryDialect = 'ec2' | 'query';

/** Splits a form-encoded body into its flat `key -> value` pairs. */
export function parseForm(body: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(body)) pairs.set(key, value);
  return pairs;
}

/**
 * Turns flat query keys into a nested value: `A.B.1.C=x` -> `{ A: { B: [ { C: 'x' } ] } }`. List markers
 * (`member`, `entry`, `item`) are dropped, numeric segments (1-based) index arrays.
 */
export function expandQuery(flat: Map<string, string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of flat) {
    if (key === 'Action' || key === 'Version') continue;
    const segments = key.split('.').filter((s) => s !== 'member' && s !== 'entry' && s !== 'item');
    let node: Record<string, unknown> | unknown[] = root;
    segments.forEach((segment, i) => {
      const last = i === segments.length - 1;
      const index = /^\d+$/.test(segment) ? Number(segment) - 1 : undefined;
      const nextIsIndex = !last && /^\d+$/.test(segments[i + 1]!);
      const container = node as Record<string | number, unknown>;
      const slot = index ?? segment;
      if (last) {
        container[slot] = value;
        return;
      }
      let child = container[slot];
      if (child === undefined || typeof child !== 'object' || child === null) {
        child = nextIsIndex ? [] : {};
        container[slot] = child;
      }
      node = child as Record<string, unknown> | unknown[];
    });
  }
  return compactArrays(root) as Record<string, unknown>;
}

/** Sparse arrays (`Name.2` without `Name.1`) become dense, in index order. */
function compactArrays(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(compactArrays);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compactArrays(v)]));
  }
  return value;
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
