import {
  DeleteParameterCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { addImage } from '../../src/local-account/seed.ts';

const NAME = '/ami-rollout/web/image-id';

let account: LocalAccount;
let ssm: SSMClient;

beforeEach(() => {
  account = createLocalAccount();
  ssm = new SSMClient({ ...inProcessClientConfig(account), maxAttempts: 1 });
});

/** The error an SDK call fails with: its code, HTTP status and message. */
async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SSMServiceException) {
      return { code: error.name, status: error.$metadata.httpStatusCode, message: error.message };
    }
    throw error;
  }
  throw new Error('expected the call to fail');
}

const put = (value: string, options: Partial<ConstructorParameters<typeof PutParameterCommand>[0]> = {}) =>
  ssm.send(
    new PutParameterCommand({ Name: NAME, Value: value, Type: 'String', Overwrite: true, ...options }),
  );

const snapshot = () => JSON.stringify([...account.state.parameters.entries()]);

describe('PutParameter and GetParameter', () => {
  it('creates version 1 and returns it with the ARN, type and data type', async () => {
    const { Version, Tier } = await ssm.send(
      new PutParameterCommand({ Name: NAME, Value: 'ami-0123456789abcdef0', Type: 'String' }),
    );
    expect(Version).toBe(1);
    expect(Tier).toBe('Standard');
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: NAME }));
    expect(Parameter).toMatchObject({
      Name: NAME,
      Value: 'ami-0123456789abcdef0',
      Version: 1,
      Type: 'String',
      DataType: 'text',
      ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${NAME}`,
    });
    expect(Parameter?.LastModifiedDate).toEqual(account.now());
    expect(Parameter?.Selector).toBeUndefined();
  });

  it('numbers each overwrite as the next version', async () => {
    await put('a');
    await put('b');
    expect((await put('c')).Version).toBe(3);
    expect((await ssm.send(new GetParameterCommand({ Name: NAME }))).Parameter?.Value).toBe('c');
  });

  it('fails with ParameterAlreadyExists when the name exists and Overwrite is not set, and changes nothing', async () => {
    await put('a');
    const before = snapshot();
    const error = await failure(
      ssm.send(new PutParameterCommand({ Name: NAME, Value: 'b', Type: 'String' })),
    );
    expect(error).toMatchObject({ code: 'ParameterAlreadyExists', status: 400 });
    expect(error.message).toContain('set the overwrite option in the request to true');
    expect(snapshot()).toBe(before);
  });

  it('keeps the type of the newest version when an overwrite leaves Type out', async () => {
    await put('a,b', { Type: 'StringList' });
    await ssm.send(new PutParameterCommand({ Name: NAME, Value: 'c,d', Overwrite: true }));
    expect((await ssm.send(new GetParameterCommand({ Name: NAME }))).Parameter?.Type).toBe('StringList');
  });

  it('fails with ValidationException when a new parameter has no Type', async () => {
    const error = await failure(ssm.send(new PutParameterCommand({ Name: NAME, Value: 'a' })));
    expect(error).toMatchObject({ code: 'ValidationException', status: 400 });
    expect(error.message).toBe('A parameter type is required when you create a parameter.');
    expect(account.state.parameters.size).toBe(0);
  });

  it.each([
    ['an empty value', { Value: '' }, "at 'value'"],
    ['an unknown type', { Type: 'Secret' as 'String' }, 'Member must satisfy enum value set'],
    ['an unknown data type', { DataType: 'aws:ec2:Image' }, 'The following data type is not supported'],
    ['a name prefixed with aws', { Name: 'aws-image' }, 'can\'t be prefixed with "aws" or "ssm"'],
    ['a hierarchical name without a leading slash', { Name: 'web/image' }, 'fully qualified'],
    ['a name with a space inside', { Name: '/web/image id' }, "can't contain spaces"],
    [
      'a value over 4 KB on the standard tier',
      { Value: 'x'.repeat(4097) },
      'maximum parameter value of 4096',
    ],
    [
      'tags together with overwrite',
      { Tags: [{ Key: 'a', Value: 'b' }] },
      "tags and overwrite can't be used",
    ],
  ])('fails with ValidationException for %s, and changes nothing', async (_label, change, message) => {
    await put('a');
    const before = snapshot();
    const error = await failure(put('b', change));
    expect(error.code).toBe('ValidationException');
    expect(error.message).toContain(message);
    expect(snapshot()).toBe(before);
  });

  it('fails with ParameterNotFound for a name that was never written', async () => {
    const error = await failure(ssm.send(new GetParameterCommand({ Name: '/nope' })));
    expect(error).toMatchObject({
      code: 'ParameterNotFound',
      status: 400,
      message: 'Parameter /nope not found.',
    });
  });

  it('trims spaces around a name, as SSM does', async () => {
    await put('a');
    expect((await ssm.send(new GetParameterCommand({ Name: ` ${NAME} ` }))).Parameter?.Name).toBe(NAME);
  });

  it('keeps SecureString values encrypted unless WithDecryption is set', async () => {
    await put('s3cret', { Type: 'SecureString' });
    const hidden = await ssm.send(new GetParameterCommand({ Name: NAME }));
    expect(hidden.Parameter?.Value).not.toContain('s3cret');
    const shown = await ssm.send(new GetParameterCommand({ Name: NAME, WithDecryption: true }));
    expect(shown.Parameter?.Value).toBe('s3cret');
  });
});

describe('GetParameter selectors', () => {
  beforeEach(async () => {
    await put('ami-00000001');
    await put('ami-00000002');
    await put('ami-00000003');
    await ssm.send(new LabelParameterVersionCommand({ Name: NAME, ParameterVersion: 2, Labels: ['stable'] }));
  });

  it('reads an older version with name:version and reports the selector', async () => {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: `${NAME}:1` }));
    expect(Parameter).toMatchObject({ Name: NAME, Value: 'ami-00000001', Version: 1, Selector: ':1' });
  });

  it('reads the labelled version with name:label', async () => {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: `${NAME}:stable` }));
    expect(Parameter).toMatchObject({ Value: 'ami-00000002', Version: 2, Selector: ':stable' });
  });

  it('reads a parameter by its ARN, with or without a selector', async () => {
    const arn = `arn:aws:ssm:us-east-1:123456789012:parameter${NAME}`;
    expect((await ssm.send(new GetParameterCommand({ Name: arn }))).Parameter?.Version).toBe(3);
    expect((await ssm.send(new GetParameterCommand({ Name: `${arn}:stable` }))).Parameter?.Version).toBe(2);
  });

  it('fails with ParameterVersionNotFound for a version that does not exist', async () => {
    const error = await failure(ssm.send(new GetParameterCommand({ Name: `${NAME}:9` })));
    expect(error.code).toBe('ParameterVersionNotFound');
    expect(error.message).toBe(
      `Systems Manager could not find version 9 of ${NAME}. Verify the version and try again.`,
    );
  });

  it('fails with ParameterNotFound for a label no version carries', async () => {
    expect((await failure(ssm.send(new GetParameterCommand({ Name: `${NAME}:canary` })))).code).toBe(
      'ParameterNotFound',
    );
  });

  it('GetParameters returns the found ones and lists the rest as InvalidParameters', async () => {
    const { Parameters, InvalidParameters } = await ssm.send(
      new GetParametersCommand({ Names: [NAME, `${NAME}:stable`, '/nope', `${NAME}:9`] }),
    );
    expect(Parameters?.map((p) => [p.Value, p.Selector])).toEqual([
      ['ami-00000003', undefined],
      ['ami-00000002', ':stable'],
    ]);
    expect(InvalidParameters).toEqual(['/nope', `${NAME}:9`]);
  });
});

describe('GetParameterHistory', () => {
  it('lists every version oldest first, with labels, and pages with MaxResults/NextToken', async () => {
    for (let i = 1; i <= 5; i++) await put(`v${i}`);
    await ssm.send(new LabelParameterVersionCommand({ Name: NAME, ParameterVersion: 4, Labels: ['good'] }));
    const first = await ssm.send(new GetParameterHistoryCommand({ Name: NAME, MaxResults: 2 }));
    expect(first.Parameters?.map((p) => p.Version)).toEqual([1, 2]);
    expect(first.NextToken).toBeDefined();
    const second = await ssm.send(
      new GetParameterHistoryCommand({ Name: NAME, MaxResults: 2, NextToken: first.NextToken }),
    );
    const third = await ssm.send(
      new GetParameterHistoryCommand({ Name: NAME, MaxResults: 2, NextToken: second.NextToken }),
    );
    expect(second.Parameters?.map((p) => [p.Version, p.Labels])).toEqual([
      [3, []],
      [4, ['good']],
    ]);
    expect(third.Parameters?.map((p) => p.Value)).toEqual(['v5']);
    expect(third.NextToken).toBeUndefined();
  });

  it('fails with ParameterNotFound for an unknown name', async () => {
    expect((await failure(ssm.send(new GetParameterHistoryCommand({ Name: '/nope' })))).code).toBe(
      'ParameterNotFound',
    );
  });

  it('fails with ValidationException when MaxResults is over 50', async () => {
    await put('a');
    const error = await failure(ssm.send(new GetParameterHistoryCommand({ Name: NAME, MaxResults: 51 })));
    expect(error.code).toBe('ValidationException');
    expect(error.message).toContain("Value '51' at 'maxResults'");
  });

  it('fails with InvalidNextToken for a token it did not hand out', async () => {
    await put('a');
    const error = await failure(ssm.send(new GetParameterHistoryCommand({ Name: NAME, NextToken: 'bogus' })));
    expect(error.code).toBe('InvalidNextToken');
  });
});

describe('the 100-version limit', () => {
  it('drops the oldest version when the 101st is written', async () => {
    for (let i = 1; i <= 101; i++) await put(`v${i}`);
    const versions = account.state.parameters.get(NAME)!.versions;
    expect(versions).toHaveLength(100);
    expect(versions[0]!.version).toBe(2);
    expect((await failure(ssm.send(new GetParameterCommand({ Name: `${NAME}:1` })))).code).toBe(
      'ParameterVersionNotFound',
    );
  });

  it('fails with ParameterMaxVersionLimitExceeded when the oldest version has a label, and changes nothing', async () => {
    for (let i = 1; i <= 100; i++) await put(`v${i}`);
    await ssm.send(new LabelParameterVersionCommand({ Name: NAME, ParameterVersion: 1, Labels: ['first'] }));
    const before = snapshot();
    const error = await failure(put('v101'));
    expect(error.code).toBe('ParameterMaxVersionLimitExceeded');
    expect(error.message).toContain("Version 1, the oldest version, can't be deleted because it has a label");
    expect(snapshot()).toBe(before);
  });
});

describe('LabelParameterVersion', () => {
  beforeEach(async () => {
    await put('a');
    await put('b');
  });

  it('labels the newest version when ParameterVersion is left out', async () => {
    const result = await ssm.send(new LabelParameterVersionCommand({ Name: NAME, Labels: ['live'] }));
    expect(result).toMatchObject({ ParameterVersion: 2, InvalidLabels: [] });
  });

  it('moves a label from the version that had it', async () => {
    await ssm.send(new LabelParameterVersionCommand({ Name: NAME, ParameterVersion: 1, Labels: ['live'] }));
    await ssm.send(new LabelParameterVersionCommand({ Name: NAME, ParameterVersion: 2, Labels: ['live'] }));
    const labels = account.state.parameters.get(NAME)!.versions.map((v) => v.labels);
    expect(labels).toEqual([[], ['live']]);
  });

  it('returns labels that break the naming rules in InvalidLabels and attaches the rest', async () => {
    const result = await ssm.send(
      new LabelParameterVersionCommand({ Name: NAME, Labels: ['ok', '1st', 'aws-x', 'SSM', 'has space'] }),
    );
    expect(result.InvalidLabels).toEqual(['1st', 'aws-x', 'SSM', 'has space']);
    expect(account.state.parameters.get(NAME)!.versions[1]!.labels).toEqual(['ok']);
  });

  it('fails with ParameterVersionLabelLimitExceeded past 10 labels on one version, and changes nothing', async () => {
    const ten = Array.from({ length: 10 }, (_, i) => `l${i}`);
    await ssm.send(new LabelParameterVersionCommand({ Name: NAME, Labels: ten }));
    const before = snapshot();
    const error = await failure(
      ssm.send(new LabelParameterVersionCommand({ Name: NAME, Labels: ['eleventh'] })),
    );
    expect(error.code).toBe('ParameterVersionLabelLimitExceeded');
    expect(snapshot()).toBe(before);
  });

  it('fails with ValidationException for more than 10 labels in one call', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `l${i}`);
    expect(
      (await failure(ssm.send(new LabelParameterVersionCommand({ Name: NAME, Labels: eleven })))).code,
    ).toBe('ValidationException');
  });

  it('fails with ParameterVersionNotFound for a missing version and ParameterNotFound for a missing name', async () => {
    const missingVersion = await failure(
      ssm.send(new LabelParameterVersionCommand({ Name: NAME, ParameterVersion: 7, Labels: ['x'] })),
    );
    expect(missingVersion.code).toBe('ParameterVersionNotFound');
    const missingName = await failure(
      ssm.send(new LabelParameterVersionCommand({ Name: '/no', Labels: ['x'] })),
    );
    expect(missingName.code).toBe('ParameterNotFound');
  });
});

describe('DeleteParameter', () => {
  it('removes every version', async () => {
    await put('a');
    await ssm.send(new DeleteParameterCommand({ Name: NAME }));
    expect((await failure(ssm.send(new GetParameterCommand({ Name: NAME })))).code).toBe('ParameterNotFound');
  });

  it('fails with ParameterNotFound for an unknown name', async () => {
    expect((await failure(ssm.send(new DeleteParameterCommand({ Name: '/nope' })))).code).toBe(
      'ParameterNotFound',
    );
  });
});

describe('DataType aws:ec2:image', () => {
  it('writes the parameter when the image exists in the account', async () => {
    const image = addImage(account, { name: 'web-2026-01-01' });
    const { Version } = await put(image.imageId, { DataType: 'aws:ec2:image' });
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: NAME }));
    expect(Parameter).toMatchObject({ Version, Value: image.imageId, DataType: 'aws:ec2:image' });
  });

  it('answers 200 but writes nothing when the image does not exist (AWS validates it asynchronously)', async () => {
    const image = addImage(account, { name: 'web-2026-01-01' });
    await put(image.imageId, { DataType: 'aws:ec2:image' });
    const { Version } = await put('ami-0fffffffffffffff0', { DataType: 'aws:ec2:image' });
    expect(Version).toBe(2);
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: NAME }));
    expect(Parameter).toMatchObject({ Version: 1, Value: image.imageId });
  });

  it('fails with ValidationException at once when the value is not shaped like an AMI id', async () => {
    const error = await failure(put('web-latest', { DataType: 'aws:ec2:image' }));
    expect(error.code).toBe('ValidationException');
    expect(error.message).toContain('not a valid AMI ID');
    expect(account.state.parameters.size).toBe(0);
  });
});

describe('DescribeParameters', () => {
  it('lists the newest version of each parameter, filtered by name prefix', async () => {
    await put('a');
    await put('b');
    await ssm.send(new PutParameterCommand({ Name: '/other', Value: 'x', Type: 'String' }));
    const { Parameters } = await ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/ami-rollout/'] }],
      }),
    );
    expect(Parameters?.map((p) => [p.Name, p.Version])).toEqual([[NAME, 2]]);
  });
});

describe('the SSM audit trail', () => {
  it('records failed calls with their error code', async () => {
    await failure(ssm.send(new GetParameterCommand({ Name: '/nope' })));
    expect(account.calls.at(-1)).toMatchObject({
      service: 'ssm',
      action: 'GetParameter',
      errorCode: 'ParameterNotFound',
    });
  });
});
