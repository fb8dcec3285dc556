import type { Input } from '../protocols/input.ts';

export type Protocol = 'ec2' | 'query' | 'json';

export interface RequestContext {
  readonly service: string;
  readonly action: string;
  readonly requestId: string;
}

/**
 * One API operation. It reads and validates its input first, then changes state, then returns the response
 * members (XML element names for the query protocols, JSON member names for JSON), or throws AwsApiError.
 */
export type Operation = (input: Input, ctx: RequestContext) => Record<string, unknown> | undefined;

export interface ServiceDefinition {
  /** The SigV4 signing name, also used in fault and audit names (`autoscaling:StartInstanceRefresh`). */
  readonly name:
    'ec2' | 'autoscaling' | 'ssm' | 'sns' | 'states' | 'iam' | 'monitoring' | 'elasticloadbalancing';
  readonly protocol: Protocol;
  /** API version carried by query requests (`Version=2016-11-15`). */
  readonly apiVersion?: string;
  /** XML namespace of query responses. */
  readonly xmlns?: string;
  /** JSON services: the X-Amz-Target prefix (`AmazonSSM`) and content type version. */
  readonly targetPrefix?: string;
  readonly jsonVersion?: '1.0' | '1.1';
  /**
   * Services with the awsQueryCompatible trait (CloudWatch): their JSON and CBOR errors also carry the query
   * error code in `x-amzn-query-error` (`Code;Sender`), and `__type` names the error's shape. Maps each query
   * error code to its shape name; a code not listed is its own shape name.
   */
  readonly queryCompatibleErrors?: Readonly<Record<string, string>>;
  /** Accepts gzip-encoded request bodies (the requestCompression trait: CloudWatch PutMetricData). */
  readonly requestCompression?: boolean;
  /** Set when the service also speaks Smithy RPC v2 CBOR (routed by targetPrefix): the namespace of its shapes. */
  readonly rpcV2Cbor?: { readonly namespace: string };
  /** The error code and HTTP status this service uses when it throttles. */
  readonly throttling: { readonly code: string; readonly httpStatus: number };
  readonly operations: Readonly<Record<string, Operation>>;
}

/** What an asynchronous JSON service answers one request with. */
export interface JsonAnswer {
  readonly status: number;
  /** The JSON body: the output members, or the error (`__type`, `message` and the error's own members). */
  readonly body: Record<string, unknown>;
  /** The error's code (its `__type` after `#`), when the answer is an error. */
  readonly errorCode?: string;
}

/**
 * A JSON service that answers asynchronously (DynamoDB, served by dynalite), through LocalAccount.handleAsync. It
 * answers its own errors in full (DynamoDB's carry members such as ConditionalCheckFailedException's `Item`);
 * the account applies the protocol bounds, the faults and the call record around it.
 */
export interface AsyncJsonService {
  /** The SigV4 signing name, used in fault and audit names (`dynamodb:PutItem`). */
  readonly name: string;
  readonly targetPrefix: string;
  readonly jsonVersion: '1.0' | '1.1';
  /** The operations it serves. */
  readonly operations: readonly string[];
  answer(action: string, body: Record<string, unknown>): Promise<JsonAnswer>;
  /** The answer to a throttled call: with `code` (one of the service's throttling codes), or its default. */
  throttled(code?: string): JsonAnswer;
}
