import { describe, expect, it } from 'vitest';
import { Input } from '../../src/local-account/protocols/input.ts';
import {
  expandQuery,
  parseForm,
  queryError,
  queryResponse,
  toXml,
} from '../../src/local-account/protocols/query.ts';

describe('expandQuery', () => {
  it('nests dotted keys, turns 1-based indexes into arrays and drops list markers', () => {
    const form = parseForm(
      'Action=StartInstanceRefresh&Version=2011-01-01&AutoScalingGroupName=web' +
        '&Preferences.CheckpointPercentages.member.1=50&Preferences.CheckpointPercentages.member.2=100' +
        '&DesiredConfiguration.LaunchTemplate.LaunchTemplateId=lt-1&Filter.1.Name=state&Filter.1.Value.1=available' +
        '&MessageAttributes.entry.1.Name=status&MessageAttributes.entry.1.Value.StringValue=FAILED',
    );
    expect(expandQuery(form)).toEqual({
      AutoScalingGroupName: 'web',
      Preferences: { CheckpointPercentages: ['50', '100'] },
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-1' } },
      Filter: [{ Name: 'state', Value: ['available'] }],
      MessageAttributes: [{ Name: 'status', Value: { StringValue: 'FAILED' } }],
    });
  });

  it('keeps list order by index even when indexes arrive out of order', () => {
    expect(expandQuery(parseForm('ImageId.2=ami-b&ImageId.1=ami-a'))).toEqual({
      ImageId: ['ami-a', 'ami-b'],
    });
  });
});

describe('Input', () => {
  const input = new Input({ Count: '3', Flag: 'true', Names: ['a', 'b'], Nested: { Deep: '7' }, Bad: 'x' });

  it('reads typed values from query strings', () => {
    expect(input.optInt('Count')).toBe(3);
    expect(input.optBoolean('Flag')).toBe(true);
    expect(input.strings('Names')).toEqual(['a', 'b']);
    expect(input.optObject('Nested')?.optInt('Deep')).toBe(7);
    expect(input.strings('Missing')).toEqual([]);
  });

  it('fails with a ValidationError naming the full path of a bad value', () => {
    expect(() => input.optInt('Count', 5, 10)).toThrow(/'Count'.*between 5 and 10/);
    expect(() => input.optObject('Nested')?.optInt('Deep', 0, 5)).toThrow(/'Nested.Deep'/);
    expect(() => input.optBoolean('Bad')).toThrow(/'Bad' must be true or false/);
  });

  it('fails with MissingParameter when a required member is absent', () => {
    expect(() => input.string('AutoScalingGroupName')).toThrow(/AutoScalingGroupName/);
  });
});

describe('XML responses', () => {
  it('writes EC2 lists as <item> and escapes text', () => {
    expect(toXml('imagesSet', [{ imageId: 'ami-1', name: 'a<b>&"c"' }], 'item')).toBe(
      '<imagesSet><item><imageId>ami-1</imageId><name>a&lt;b&gt;&amp;&quot;c&quot;</name></item></imagesSet>',
    );
  });

  it('wraps query-protocol results in <ActionResult> and <ResponseMetadata>', () => {
    const xml = queryResponse('query', 'StartInstanceRefresh', 'ns', { InstanceRefreshId: 'r-1' }, 'req-1');
    expect(xml).toContain(
      '<StartInstanceRefreshResponse xmlns="ns"><StartInstanceRefreshResult><InstanceRefreshId>r-1</InstanceRefreshId></StartInstanceRefreshResult>',
    );
    expect(xml).toContain('<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>');
  });

  it('writes errors in each dialect with its own envelope', () => {
    expect(queryError('ec2', 'ns', 'InvalidAMIID.NotFound', 'nope', 'Sender', 'r')).toContain(
      '<Response><Errors><Error><Code>InvalidAMIID.NotFound</Code><Message>nope</Message></Error></Errors><RequestID>r</RequestID></Response>',
    );
    expect(queryError('query', 'ns', 'ValidationError', 'bad', 'Sender', 'r')).toContain(
      '<ErrorResponse xmlns="ns"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>bad</Message></Error>',
    );
  });
});
