import { AwsApiError } from '../errors.ts';

/**
 * The bounds every request meets before a service sees it, whatever the service: they keep one request from any
 * local process (or web page) from costing more than milliseconds, or from changing what later requests see.
 * See "Bad requests" in docs/local-account.md for where each number comes from.
 */

/**
 * The largest request body the account reads: 1 MiB. Step Functions caps a whole request at 1 MB (its quotas
 * page: "Maximum request size"); the largest legitimate query body, an SNS Publish of 256 KiB percent-encoded at
 * most three bytes per byte, stays under it; CloudWatch's PutMetricData POST limit is 1 MB.
 */
export const REQUEST_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The highest 1-based index a query-protocol list takes: a local bound, as AWS publishes none. Where the models
 * of the services the account serves (and of CloudWatch and IAM) give a list a maximum, none is above 1,000
 * (botocore: EC2 `InstanceTypes`, SSM `TagList`), and nothing the rollout or a CLI user sends comes near it.
 */
export const LIST_INDEX_LIMIT = 1000;

/**
 * The most parameters one query-protocol request may carry. The largest request the rollout or a CLI user makes
 * (DescribeInstances with a group's instance ids and 200 filter values) has under 2,000; decoding is about 4 µs a
 * parameter, so 10,000 keeps a refused or accepted request within tens of milliseconds.
 */
export const PARAMETER_LIMIT = 10_000;

/**
 * How deep a request's members may nest: dotted segments of one query key, or levels of a JSON body. The
 * deepest member of any modeled request is under 10 (`LaunchTemplateData.NetworkInterface.1.Ipv6Prefix.1...`).
 */
export const NESTING_LIMIT = 32;

/** The one answer for a body over the limit, in every protocol: HTTP 413, as AWS front ends answer. */
export const requestTooLarge = (bytes: number | undefined): AwsApiError =>
  new AwsApiError(
    'RequestEntityTooLarge',
    `The request body${bytes === undefined ? '' : ` (${bytes} bytes)`} is larger than the ` +
      `${REQUEST_BODY_LIMIT_BYTES} bytes (1 MiB) the local account reads: send less in one request.`,
    413,
  );
