import { createLocalAccountFromFleet, readFleetFile } from '../src/local-account/index.ts';
import { REQUEST_BODY_LIMIT_BYTES } from '../src/local-account/protocols/limits.ts';

export interface BadRequestTiming {
  readonly name: string;
  readonly status: number;
  /** Wall time the account took to answer: the median of five runs. */
  readonly ms: number;
}

const signed = (service: string) => ({
  'content-type': 'application/x-www-form-urlencoded',
  authorization: `AWS4-HMAC-SHA256 Credential=l/20260101/us-east-1/${service}/aws4_request`,
});
const json = (target: string) => ({ 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target });

/**
 * The most expensive requests one caller can send (docs/local-account.md, "Bad requests"), answered by an
 * account seeded with the example fleet: each must take milliseconds, and none may slow the next.
 */
export async function benchBadRequests(): Promise<BadRequestTiming[]> {
  const account = await createLocalAccountFromFleet(await readFleetFile('examples/fleet.json'));
  const image = 'ami-0a1b2c3d4e5f60001';
  // Worst case for wildcard matching: a resource with the most tags, each at the longest value.
  const tags = Array.from(
    { length: 50 },
    (_, i) => `&Tag.${i + 1}.Key=k${i}&Tag.${i + 1}.Value=${'0'.repeat(256)}`,
  );
  account.handle({
    method: 'POST',
    path: '/',
    headers: signed('ec2'),
    body: `Action=CreateTags&Version=2016-11-15&ResourceId.1=${image}${tags.join('')}`,
  });
  const wildcards = Array.from({ length: 200 }, (_, i) => `&Filter.1.Value.${i + 1}=${'?0'.repeat(127)}1`);
  const cases: [string, Record<string, string>, string][] = [
    [
      'Filters.member.200000000.Name=x',
      signed('autoscaling'),
      'Action=DescribeAutoScalingGroups&Version=2011-01-01&Filters.member.200000000.Name=x',
    ],
    [
      '__proto__.Owner.1 (DescribeImages)',
      signed('ec2'),
      'Action=DescribeImages&Version=2016-11-15&__proto__.Owner.1=999999999999',
    ],
    [
      '200 worst-case wildcards x 50 long tags',
      signed('ec2'),
      `Action=DescribeTags&Version=2016-11-15&Filter.1.Name=value${wildcards.join('')}`,
    ],
    [
      '10,000 parameters (the most accepted)',
      signed('autoscaling'),
      `Action=DescribeAutoScalingGroups&Version=2011-01-01${Array.from({ length: 9_998 }, (_, i) => `&P${i}=1`).join('')}`,
    ],
    [
      '1 MiB of parameters (refused by count)',
      signed('autoscaling'),
      `Action=DescribeAutoScalingGroups&Version=2011-01-01${'&x'.repeat((REQUEST_BODY_LIMIT_BYTES - 60) / 2)}`,
    ],
    [
      '1 MiB key nested 500,000 deep',
      signed('autoscaling'),
      `Action=DescribeAutoScalingGroups&Version=2011-01-01&${'A.'.repeat((REQUEST_BODY_LIMIT_BYTES - 60) / 2)}B=1`,
    ],
    [
      '1 MiB JSON nested 1,000,000 deep',
      json('AmazonSSM.GetParameter'),
      `{"Name":"/a","x":${'['.repeat(REQUEST_BODY_LIMIT_BYTES - 30)}`,
    ],
    [
      '1 MiB JSON array of 500,000 numbers',
      json('AmazonSSM.GetParameter'),
      `{"Name":"/a","x":[${Array.from({ length: 500_000 }, () => '0')
        .join(',')
        .slice(0, REQUEST_BODY_LIMIT_BYTES - 40)}]}`,
    ],
    [
      'body of 1 MiB + 1 byte',
      signed('ec2'),
      `Action=DescribeImages&Version=2016-11-15&x=${'a'.repeat(REQUEST_BODY_LIMIT_BYTES)}`,
    ],
  ];
  return cases.map(([name, headers, body]) => {
    const runs: number[] = [];
    let status = 0;
    for (let run = 0; run < 5; run++) {
      const start = performance.now();
      status = account.handle({ method: 'POST', path: '/', headers, body }).status;
      runs.push(performance.now() - start);
    }
    return { name, status, ms: runs.sort((a, b) => a - b)[2]! };
  });
}
