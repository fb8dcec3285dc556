/**
 * What the bad-request and fuzz tests share: raw HTTP requests with any headers (fetch will not set Host), a
 * fingerprint of everything a request could change in an account, and a seeded random source.
 */
import { request } from 'node:http';
import type { LocalAccount } from '../../src/local-account/index.ts';
import { cloudWatchOf, stepFunctionsOf } from '../../src/local-account/index.ts';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** The body's bytes, for binary (CBOR) answers. */
  readonly bytes: Buffer;
}

export interface RawRequest {
  readonly method?: string;
  readonly path?: string;
  /** Sent as given; a Host here replaces the one Node would send. */
  readonly headers?: Record<string, string>;
  /** Send no Host header at all. */
  readonly withoutHost?: boolean;
  readonly body?: string | Buffer;
  /** Send the body in chunks with Transfer-Encoding: chunked (no Content-Length). */
  readonly chunked?: boolean;
}

/** One request to 127.0.0.1:port on a fresh connection. */
export function rawRequest(port: number, options: RawRequest = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = options.body ?? '';
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'POST',
        path: options.path ?? '/',
        headers: {
          ...(options.chunked ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          ...options.headers,
        },
        setHost: !options.withoutHost && options.headers?.['host'] === undefined,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes.toString('utf8'), bytes });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.chunked) {
      const buffer = Buffer.from(body);
      for (let at = 0; at < buffer.length; at += 64 * 1024) req.write(buffer.subarray(at, at + 64 * 1024));
      req.end();
    } else req.end(body);
  });
}

/** A SigV4 Authorization header naming `service`, as the SDKs and the CLI send (the signature is not checked). */
export const signedAs = (service: string): Record<string, string> => ({
  authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
});

/**
 * Everything a request could change in an account, as text: the state of every service, Step Functions'
 * machines and executions, the clock and what it has scheduled, and the faults. Two equal fingerprints mean the
 * requests between them changed nothing. (Request ids and the call log are bookkeeping, not state.)
 */
export function fingerprint(account: LocalAccount): string {
  const sfn = stepFunctionsOf(account);
  const cloudWatch = cloudWatchOf(account);
  return JSON.stringify(
    {
      state: account.state,
      alarms: cloudWatch.alarms,
      metrics: cloudWatch.metrics,
      stateMachines: sfn.stateMachines,
      executions: [...sfn.executions.values()].map((e) => [e.executionArn, e.status, e.input]),
      now: account.clock.now(),
      scheduled: account.clock.pendingTasks,
      faults: account.faults.list(),
    },
    (_key, value: unknown) =>
      value instanceof Map
        ? { map: [...(value as Map<unknown, unknown>).entries()] }
        : value instanceof Set
          ? { set: [...(value as Set<unknown>)] }
          : value,
  );
}

/** The own keys of the prototypes a polluting request would write to; compare before and after. */
export function prototypeKeys(): string {
  return JSON.stringify(
    [Object.prototype, Array.prototype, Function.prototype, String.prototype].map((p) =>
      Reflect.ownKeys(p).map(String).sort(),
    ),
  );
}

/** mulberry32: a small seeded PRNG, so a fuzz run is the same run every time for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
