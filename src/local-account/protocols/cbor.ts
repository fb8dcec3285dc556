/**
 * Smithy RPC v2 CBOR: `POST /service/{Service}/operation/{Operation}` with `smithy-protocol: rpc-v2-cbor`,
 * a CBOR map as the body, and a CBOR map back (errors carry `__type`). Timestamps are tag 1 with epoch seconds.
 * Source: the Smithy "RPC v2 CBOR protocol" specification (smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2).
 *
 * Decoding and encoding are cborg's (a strict, dependency-free CBOR library: it refuses duplicate map keys,
 * `undefined` and malformed input, and needs no native addon). Requests become the same shape the other
 * protocols give operations: null-prototype objects with string keys, numbers, strings, booleans and arrays.
 */
import { decode, encode, Tagged } from 'cborg';
import { AwsApiError } from '../errors.ts';

/** The largest CBOR request body accepted (PutMetricData's limit is 1 MB, the largest of CloudWatch's). */
export const MAX_CBOR_BODY_BYTES = 1_048_576;
/** How deep request structures may nest: AWS models nest a few levels; anything deeper is refused. */
const MAX_DEPTH = 32;

/** `/service/GraniteServiceVersion20100801/operation/PutMetricAlarm` -> its two names. */
export function cborRoute(path: string): { service: string; operation: string } | undefined {
  const match = /\/service\/([A-Za-z0-9_.#-]{1,255})\/operation\/([A-Za-z0-9_]{1,255})$/.exec(
    path.split('?')[0]!,
  );
  return match ? { service: match[1]!, operation: match[2]! } : undefined;
}

const serialization = (message: string): AwsApiError => new AwsApiError('SerializationException', message);

/** A request body as operation input. An empty body is an empty input, as the specification allows. */
export function decodeCborRequest(body: Uint8Array): Record<string, unknown> {
  if (body.length === 0) return Object.create(null) as Record<string, unknown>;
  if (body.length > MAX_CBOR_BODY_BYTES)
    throw serialization(`The request body is ${body.length} bytes; the limit is ${MAX_CBOR_BODY_BYTES}.`);
  let value: unknown;
  try {
    value = decode(body, {
      useMaps: true,
      rejectDuplicateMapKeys: true,
      allowIndefinite: true,
      allowUndefined: false,
      tags: { 1: (inner) => epochSeconds(inner()) },
    });
  } catch (error) {
    throw serialization(
      `The request body is not valid CBOR: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const input = toPlain(value, 0);
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw serialization('The request body must be a CBOR map.');
  return input as Record<string, unknown>;
}

/** Timestamps (tag 1) reach operations as epoch seconds, as they do over JSON. */
function epochSeconds(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new TypeError('tag 1 (epoch time) must hold a finite number');
  return value;
}

function toPlain(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw serialization(`The request nests deeper than ${MAX_DEPTH} levels.`);
  if (value instanceof Map) {
    const object = Object.create(null) as Record<string, unknown>;
    for (const [key, item] of value) {
      if (typeof key !== 'string') throw serialization('Map keys in the request must be text strings.');
      // A null member is an absent member (Smithy: null in a structure means "not set").
      if (item !== null) object[key] = toPlain(item, depth + 1);
    }
    return object;
  }
  if (Array.isArray(value)) return value.map((item) => toPlain(item, depth + 1));
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
      throw serialization('An integer in the request is out of range.');
    return Number(value);
  }
  return value;
}

/** A response body: structures become maps, dates tag 1 epoch seconds, undefined members are left out. */
export function encodeCborResponse(value: Record<string, unknown>): Uint8Array {
  return encode(toCborValue(value));
}

function toCborValue(value: unknown): unknown {
  if (value instanceof Date) return new Tagged(1, value.getTime() / 1000);
  if (Array.isArray(value)) return value.map(toCborValue);
  if (value instanceof Map) {
    const object: Record<string, unknown> = {};
    for (const [key, item] of value as Map<string, unknown>) object[String(key)] = toCborValue(item);
    return object;
  }
  if (value !== null && typeof value === 'object') {
    const object: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) object[key] = toCborValue(item);
    return object;
  }
  return value;
}
