import { paginateDescribeAlarms, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { translateAwsError } from './aws-error.ts';

/**
 * Which of the named alarms exist, metric or composite. DescribeAlarms returns only metric alarms unless
 * `AlarmTypes` asks for both, and composite alarms only to a caller whose grant is on `*` (API reference,
 * DescribeAlarms). It pages (MaxRecords at most 100); every page is read.
 */
export async function existingAlarmNames(
  cloudwatch: CloudWatchClient,
  names: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  if (names.length === 0) return found;
  // AlarmNames takes at most 100 names per call.
  for (let start = 0; start < names.length; start += 100) {
    const chunk = names.slice(start, start + 100);
    try {
      for await (const page of paginateDescribeAlarms(
        { client: cloudwatch },
        { AlarmNames: chunk, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100 },
      )) {
        for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
          if (alarm.AlarmName) found.add(alarm.AlarmName);
        }
      }
    } catch (error) {
      throw translateAwsError(error, `DescribeAlarms ${chunk.join(',')}`);
    }
  }
  return found;
}
