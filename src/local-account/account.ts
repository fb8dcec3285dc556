import { crc32, gunzipSync } from 'node:zlib';
import { AwsApiError, invalidAction } from './errors.ts';
import { FaultInjector } from './faults.ts';
import { IdGenerator } from './ids.ts';
import { VirtualClock } from './clock.ts';
import { Input } from './protocols/input.ts';
import { parseJsonObject } from './protocols/json.ts';
import { REQUEST_BODY_LIMIT_BYTES, requestTooLarge } from './protocols/limits.ts';
import { LambdaRegistry } from './step-functions/lambdas.ts';
import { expandQuery, parseForm, queryError, queryResponse } from './protocols/query.ts';
import { cborRoute, decodeCborRequest, encodeCborResponse, MAX_CBOR_BODY_BYTES } from './protocols/cbor.ts';
import type { AsyncJsonService, JsonAnswer, Protocol, ServiceDefinition } from './services/service.ts';
import { emptyState, type AccountState } from './state.ts';

/** A request as it arrives on the wire (from the HTTP server, or from the in-process SDK handler). */
export interface WireRequest {
  readonly method: string;
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  /** The body's bytes as received, when there are any: CBOR and gzip-encoded bodies are not text. */
  readonly rawBody?: Uint8Array;
}

export interface WireResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** A binary body (CBOR). When set, it is what goes on the wire and `body` is empty. */
  readonly binaryBody?: Uint8Array;
}

/** One call the account answered: the audit trail tests read to prove what a step did, or did not, change. */
export interface CallRecord {
  readonly at: Date;
  readonly service: string;
  readonly action: string;
  readonly errorCode?: string;
}

export interface LocalAccountOptions {
  /** Default 123456789012. */
  readonly accountId?: string;
  /** Default us-east-1. */
  readonly region?: string;
  /** Virtual time the account starts at. Default 2026-01-01T00:00:00Z. */
  readonly startTime?: Date;
}

export type ServiceFactory = (account: LocalAccount) => ServiceDefinition;

/**
 * A local AWS account: the state of EC2, Auto Scaling, SSM and SNS in memory, answering their wire protocols,
 * in virtual time. Services are plugged in by factories so each lives in its own module.
 */
export class LocalAccount {
  readonly accountId: string;
  readonly region: string;
  /** The virtual time the account started at: faults' `atMinute` counts from it. */
  readonly startTime: Date;
  readonly clock: VirtualClock;
  readonly state: AccountState = emptyState();
  readonly faults = new FaultInjector();
  readonly ids = new IdGenerator();
  readonly calls: CallRecord[] = [];
  /** Local code that Step Functions Tasks run in place of Lambda functions. */
  readonly lambdas = new LambdaRegistry();
  private readonly services: ServiceDefinition[] = [];
  private readonly asyncServices: AsyncJsonService[] = [];

  constructor(options: LocalAccountOptions = {}, factories: readonly ServiceFactory[] = []) {
    this.accountId = options.accountId ?? '123456789012';
    this.region = options.region ?? 'us-east-1';
    this.startTime = new Date(options.startTime ?? Date.UTC(2026, 0, 1));
    this.clock = new VirtualClock(this.startTime);
    for (const factory of factories) this.addService(factory(this));
  }

  addService(service: ServiceDefinition): void {
    this.services.push(service);
  }

  service(name: ServiceDefinition['name']): ServiceDefinition | undefined {
    return this.services.find((s) => s.name === name);
  }

  /** Adds a service that answers asynchronously (DynamoDB): its requests go through `handleAsync`. */
  addAsyncService(service: AsyncJsonService): void {
    this.asyncServices.push(service);
  }

  asyncService(name: string): AsyncJsonService | undefined {
    return this.asyncServices.find((s) => s.name === name);
  }

  /** Moves virtual time forward, running the fleet's simulation. */
  advance(seconds: number): void {
    this.clock.advance(seconds);
  }

  now(): Date {
    return this.clock.date();
  }

  /**
   * Answers one wire request. Never throws: every failure becomes the service's error response. The protocol
   * layer's bounds (protocols/limits.ts) hold here, for the HTTP server and the in-process handler alike.
   */
  handle(request: WireRequest): WireResponse {
    const bytes = request.rawBody?.byteLength ?? Buffer.byteLength(request.body);
    if (bytes > REQUEST_BODY_LIMIT_BYTES) return this.refuse(request, requestTooLarge(bytes));
    if (request.headers['smithy-protocol']?.toLowerCase() === 'rpc-v2-cbor') return this.handleCbor(request);
    // A JSON request by its target header, or by its content type when the target is empty or missing.
    const target = request.headers['x-amz-target'];
    if (target !== undefined || jsonVersionOf(request.headers) !== undefined)
      return this.handleJson(target ?? '', request);
    return this.handleQuery(request);
  }

  /**
   * Answers one wire request, for every service: a request to an asynchronous service (DynamoDB, by its
   * `X-Amz-Target` prefix) is answered here, every other request by `handle`, unchanged. Never rejects. The HTTP
   * server and the in-process handler call this.
   */
  async handleAsync(request: WireRequest): Promise<WireResponse> {
    const service = this.asyncServiceFor(request.headers);
    return service ? this.handleAsyncJson(service, request) : this.handle(request);
  }

  private asyncServiceFor(headers: WireRequest['headers']): AsyncJsonService | undefined {
    const target = headers['x-amz-target'];
    if (target === undefined || headers['smithy-protocol'] !== undefined) return undefined;
    const prefix = target.split('.')[0];
    return this.asyncServices.find((s) => s.targetPrefix === prefix);
  }

  /**
   * An asynchronous JSON service's request: the same protocol bounds, throttle faults and call record as
   * `handleJson`; the service answers its own errors in full (DynamoDB's carry members of their own).
   */
  private async handleAsyncJson(service: AsyncJsonService, request: WireRequest): Promise<WireResponse> {
    const bytes = request.rawBody?.byteLength ?? Buffer.byteLength(request.body);
    if (bytes > REQUEST_BODY_LIMIT_BYTES) return this.refuse(request, requestTooLarge(bytes));
    const action = (request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const requestId = this.ids.uuid('request');
    const coral = (code: string, message: string, status = 400): JsonAnswer => ({
      status,
      errorCode: code,
      body: { __type: `com.amazon.coral.service#${code}`, message },
    });
    let answer: JsonAnswer;
    try {
      const text = request.headers['content-encoding'] === undefined ? request.body : undefined;
      // The shared parser's bounds (nesting, one object); the service reads its own plain copy.
      if (text !== undefined) parseJsonObject(text);
      // A `throttle` fault naming the operation answers with the service's default throttling code.
      const throttle = service.operations.includes(action)
        ? (this.faults.takeServiceThrottle(service.name, action) ??
          (this.faults.takeThrottle(service.name, action) ? null : undefined))
        : undefined;
      if (text === undefined) {
        answer = coral(
          'SerializationException',
          `Content-Encoding ${request.headers['content-encoding']} is not supported by ${service.name}.`,
        );
      } else if (text.trim() === '') {
        answer = coral('SerializationException', 'The request body is empty: send one JSON object.');
      } else if (throttle !== undefined) {
        answer = service.throttled(throttle ?? undefined);
      } else {
        answer = await service.answer(action, JSON.parse(text) as Record<string, unknown>);
      }
    } catch (error) {
      const apiError = toApiError(error);
      answer =
        apiError.code === 'SerializationException'
          ? coral('SerializationException', apiError.message)
          : coral('InternalFailure', apiError.message, 500);
    }
    this.record(service.name, action, answer.errorCode);
    const body = JSON.stringify(answer.body);
    return {
      status: answer.status,
      headers: {
        'content-type': `application/x-amz-json-${service.jsonVersion}`,
        'x-amzn-requestid': requestId,
        'x-amz-crc32': String(crc32(body)),
      },
      body,
    };
  }

  /**
   * Answers `request` with `error`, in the shape of the service its headers address (the JSON target, or the
   * service its signature names), without reading its body or running anything: for a request refused before it
   * reaches a service (too large, or sent by a web page). Nothing is recorded: no service saw it.
   */
  refuse(
    request: Pick<WireRequest, 'headers'>,
    error: AwsApiError | ((protocol: Protocol) => AwsApiError),
  ): WireResponse {
    const requestId = this.ids.uuid('request');
    const target = request.headers['x-amz-target'];
    const scope = signingName(request.headers);
    const isJson = target !== undefined || jsonVersionOf(request.headers) !== undefined;
    const service = isJson
      ? this.jsonService(target ?? '')
      : this.services.find((s) => s.protocol !== 'json' && s.name === scope);
    const protocol = isJson ? 'json' : (service?.protocol ?? 'query');
    const answer = typeof error === 'function' ? error(protocol) : error;
    return protocol === 'json'
      ? jsonErrorResponse(service, answer, requestId, request.headers)
      : queryErrorResponse(service, answer, requestId);
  }

  private jsonService(target: string): ServiceDefinition | undefined {
    const prefix = target.split('.')[0];
    return this.services.find((s) => s.protocol === 'json' && s.targetPrefix === prefix);
  }

  private handleJson(target: string, request: WireRequest): WireResponse {
    const action = target.split('.')[1] ?? '';
    const service = this.jsonService(target);
    const requestId = this.ids.uuid('request');
    const fail = (error: AwsApiError, name = service?.name ?? 'unknown'): WireResponse => {
      this.record(name, action, error.code);
      return jsonErrorResponse(service, error, requestId, request.headers);
    };
    if (!service) {
      const answeredAsync = this.asyncServiceFor(request.headers) !== undefined;
      return fail(
        answeredAsync
          ? new AwsApiError(
              'InternalFailure',
              `${target} is answered by LocalAccount.handleAsync, not handle.`,
              500,
            )
          : new AwsApiError('UnknownOperationException', `No service answers ${target}.`),
      );
    }
    try {
      const input = new Input(parseJsonObject(requestText(request, service)));
      const result = this.dispatch(service, action, input, requestId);
      this.record(service.name, action);
      return {
        status: 200,
        headers: {
          'content-type': `application/x-amz-json-${service.jsonVersion ?? '1.1'}`,
          'x-amzn-requestid': requestId,
        },
        body: JSON.stringify(result ?? {}, epochSeconds),
      };
    } catch (error) {
      if (error instanceof SyntaxError) return fail(new AwsApiError('SerializationException', error.message));
      // awsQueryCompatible services (CloudWatch) answer in their query codes, carried in x-amzn-query-error.
      return fail(service.queryCompatibleErrors ? toApiError(error) : inJsonTerms(toApiError(error)));
    }
  }

  /** Smithy RPC v2 CBOR (CloudWatch's first protocol in botocore's model). */
  private handleCbor(request: WireRequest): WireResponse {
    const route = cborRoute(request.path);
    const action = route?.operation ?? '';
    const service = this.services.find((s) => s.rpcV2Cbor && s.targetPrefix === route?.service);
    const requestId = this.ids.uuid('request');
    const headers = {
      'content-type': 'application/cbor',
      'smithy-protocol': 'rpc-v2-cbor',
      'x-amzn-requestid': requestId,
    };
    try {
      if (!service) {
        throw new AwsApiError(
          'UnknownOperationException',
          `No service answers ${request.path} over rpc-v2-cbor.`,
          404,
        );
      }
      const input = decodeCborRequest(requestBytes(request, service));
      const result = this.dispatch(service, action, new Input(input), requestId);
      this.record(service.name, action);
      return { status: 200, headers, body: '', binaryBody: encodeCborResponse(result ?? {}) };
    } catch (error) {
      const apiError = toApiError(error);
      this.record(service?.name ?? 'unknown', action, apiError.code);
      const type = errorType(service, apiError);
      return {
        status: apiError.httpStatus,
        headers: { ...headers, ...queryCompatibleHeader(service, apiError) },
        body: '',
        binaryBody: encodeCborResponse({
          __type: service?.rpcV2Cbor ? `${service.rpcV2Cbor.namespace}#${type}` : type,
          message: apiError.message,
        }),
      };
    }
  }

  private handleQuery(request: WireRequest): WireResponse {
    const query = request.path.includes('?') ? request.path.slice(request.path.indexOf('?') + 1) : '';
    const scope = signingName(request.headers);
    let form: Map<string, string>;
    try {
      const signed = this.services.find((s) => s.name === scope);
      form = parseForm(request.method === 'GET' ? query : request.body, malformedParameter(signed));
    } catch (error) {
      return this.refuse(request, toApiError(error));
    }
    const action = form.get('Action') ?? '';
    const version = form.get('Version');
    const service =
      this.services.find(
        (s) => s.protocol !== 'json' && s.apiVersion === version && (!scope || s.name === scope),
      ) ?? this.services.find((s) => s.protocol !== 'json' && s.apiVersion === version);
    const requestId = this.ids.uuid('request');
    const dialect = service?.protocol === 'ec2' ? 'ec2' : 'query';
    try {
      if (!service) {
        throw new AwsApiError(
          'InvalidAction',
          `No service here answers Action=${action} Version=${version ?? '(none)'}.`,
        );
      }
      const members = expandQuery(form, {
        invalid: malformedParameter(service),
        // EC2 refuses a parameter it does not know; the other query services pass over it.
        ...(dialect === 'ec2' ? { unknown: unknownParameter } : {}),
      });
      const result = this.dispatch(service, action, new Input(members), requestId);
      this.record(service.name, action);
      return {
        status: 200,
        headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId },
        body: queryResponse(dialect, action, service.xmlns ?? '', result, requestId),
      };
    } catch (error) {
      const apiError = toApiError(error);
      this.record(service?.name ?? 'unknown', action, apiError.code);
      return queryErrorResponse(service, apiError, requestId);
    }
  }

  private dispatch(service: ServiceDefinition, action: string, input: Input, requestId: string) {
    const operation = Object.hasOwn(service.operations, action) ? service.operations[action] : undefined;
    if (!operation) throw invalidAction(action, service.name);
    if (this.faults.takeThrottle(service.name, action)) {
      throw new AwsApiError(service.throttling.code, 'Rate exceeded', service.throttling.httpStatus);
    }
    return operation(input, { service: service.name, action, requestId });
  }

  private record(service: string, action: string, errorCode?: string): void {
    this.calls.push({ at: this.now(), service, action, ...(errorCode ? { errorCode } : {}) });
  }
}

/** JSON protocols carry timestamps as epoch seconds; `toJSON` has already run when a replacer sees `v`. */
function epochSeconds(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const original = this[key];
  return original instanceof Date ? original.getTime() / 1000 : value;
}

/** EC2 calls a malformed parameter InvalidParameterValue; the other query services, ValidationError. */
const malformedParameter =
  (service: ServiceDefinition | undefined) =>
  (message: string): AwsApiError =>
    new AwsApiError(service?.protocol === 'ec2' ? 'InvalidParameterValue' : 'ValidationError', message);

/** EC2's answer to a parameter it does not know (github.com/aws/aws-cli/issues/21). */
const unknownParameter = (name: string): AwsApiError =>
  new AwsApiError('UnknownParameter', `The parameter ${name} is not recognized`);

/** The service name in a SigV4 `Authorization` header's credential scope (`.../us-east-1/ec2/aws4_request`). */
function signingName(headers: WireRequest['headers']): string | undefined {
  return /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(headers['authorization'] ?? '')?.[1];
}

/** `1.0` or `1.1` from an `application/x-amz-json-1.x` content type. */
function jsonVersionOf(headers: WireRequest['headers']): '1.0' | '1.1' | undefined {
  const version = /^application\/x-amz-json-(1\.[01])\b/.exec(headers['content-type'] ?? '')?.[1];
  return version === '1.0' || version === '1.1' ? version : undefined;
}

/** A JSON error in the service's JSON version, or, when no service is known, in the request's. */
function jsonErrorResponse(
  service: ServiceDefinition | undefined,
  error: AwsApiError,
  requestId: string,
  headers: WireRequest['headers'],
): WireResponse {
  return {
    status: error.httpStatus,
    headers: {
      'content-type': `application/x-amz-json-${service?.jsonVersion ?? jsonVersionOf(headers) ?? '1.1'}`,
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': errorType(service, error),
      ...queryCompatibleHeader(service, error),
    },
    body: JSON.stringify({ __type: errorType(service, error), message: error.message }),
  };
}

function queryErrorResponse(
  service: ServiceDefinition | undefined,
  error: AwsApiError,
  requestId: string,
): WireResponse {
  const dialect = service?.protocol === 'ec2' ? 'ec2' : 'query';
  return {
    status: error.httpStatus,
    headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId },
    body: queryError(dialect, service?.xmlns ?? '', error.code, error.message, error.fault, requestId),
  };
}

/** The largest body a gzip-encoded request may inflate to (PutMetricData accepts compressed payloads). */
const MAX_INFLATED_BYTES = 4 * MAX_CBOR_BODY_BYTES;

/** The request's bytes, inflated when it is gzip-encoded (the SDK compresses large PutMetricData bodies). */
function requestBytes(request: WireRequest, service: ServiceDefinition): Uint8Array {
  const raw = request.rawBody ?? Buffer.from(request.body, 'utf8');
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding === undefined || encoding === '' || encoding === 'identity') return raw;
  if (encoding !== 'gzip' || !service.requestCompression) {
    throw new AwsApiError(
      'UnsupportedMediaType',
      `Content-Encoding ${encoding} is not supported by ${service.name}${service.requestCompression ? ': use gzip' : ''}.`,
      415,
    );
  }
  try {
    return gunzipSync(raw, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (error) {
    throw new AwsApiError(
      'SerializationException',
      `The gzip-encoded body could not be inflated (at most ${MAX_INFLATED_BYTES} bytes): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

const requestText = (request: WireRequest, service: ServiceDefinition): string =>
  request.headers['content-encoding'] === undefined
    ? request.body
    : Buffer.from(requestBytes(request, service)).toString('utf8');

/** The error's `__type`: its shape name for awsQueryCompatible services, else its code. */
function errorType(service: ServiceDefinition | undefined, error: AwsApiError): string {
  return service?.queryCompatibleErrors?.[error.code] ?? error.code;
}

/** awsQueryCompatible: `x-amzn-query-error: Code;Sender`, which SDKs and botocore read the error code from. */
function queryCompatibleHeader(
  service: ServiceDefinition | undefined,
  error: AwsApiError,
): Record<string, string> {
  return service?.queryCompatibleErrors ? { 'x-amzn-query-error': `${error.code};${error.fault}` } : {};
}

/**
 * The JSON protocols' names for the codes the shared Input and dispatcher use (the query protocols' names), so
 * every JSON service answers a missing or malformed member with ValidationException and an unknown target with
 * UnknownOperationException, as the JSON services do.
 */
function inJsonTerms(error: AwsApiError): AwsApiError {
  const code =
    error.code === 'InvalidAction'
      ? 'UnknownOperationException'
      : error.code === 'ValidationError' || error.code === 'MissingParameter'
        ? 'ValidationException'
        : undefined;
  return code === undefined ? error : new AwsApiError(code, error.message, error.httpStatus, error.fault);
}

function toApiError(error: unknown): AwsApiError {
  if (error instanceof AwsApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AwsApiError('InternalFailure', `The local account failed: ${message}`, 500, 'Receiver');
}
