import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import type { LocalAccount } from './account.ts';

/**
 * An AWS SDK v3 request handler that hands the serialized request to a LocalAccount in the same process: the
 * SDK still signs, serializes and parses exactly as it does against AWS, with no socket and no port.
 */
export class InProcessHandler {
  readonly metadata = { handlerProtocol: 'local-account' };

  constructor(private readonly account: LocalAccount) {}

  async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
    const query = request.query
      ? new URLSearchParams(
          Object.entries(request.query).flatMap(([k, v]) =>
            v === null ? [] : (Array.isArray(v) ? v : [v]).map((item): [string, string] => [k, item]),
          ),
        ).toString()
      : '';
    const rawBody = await bodyBytes(request.body);
    const reply = await this.account.handleAsync({
      method: request.method,
      path: query ? `${request.path}?${query}` : request.path,
      headers,
      body: new TextDecoder().decode(rawBody),
      rawBody,
    });
    return {
      response: new HttpResponse({
        statusCode: reply.status,
        headers: reply.headers,
        body: reply.binaryBody ?? new TextEncoder().encode(reply.body),
      }),
    };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}

/** The request body's bytes: CBOR and gzip-encoded bodies are binary, so they are never decoded as text here. */
async function bodyBytes(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }
  throw new TypeError(`InProcessHandler cannot read a request body of type ${typeof body}`);
}

export interface InProcessClientOptions {
  /**
   * Resolve the client's middleware stack once per command class (the SDK's own `cacheMiddleware` option)
   * instead of on every `send`: about a third of an in-process call's cost. The request still goes through
   * every middleware and onto the wire as before. Only for a client whose middleware stack nobody changes after
   * its first call (the seed's clients, the clients a rehearsal hands the steps): with the cache, a middleware
   * added or removed later does not take effect for commands already sent. Default false.
   */
  readonly cacheMiddleware?: boolean;
}

/** Client configuration that points any AWS SDK v3 client at `account`, in process. */
export function inProcessClientConfig(account: LocalAccount, options: InProcessClientOptions = {}) {
  return {
    region: account.region,
    endpoint: 'http://127.0.0.1:4566',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new InProcessHandler(account),
    ...(options.cacheMiddleware ? { cacheMiddleware: true } : {}),
  };
}
