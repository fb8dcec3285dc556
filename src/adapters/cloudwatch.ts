import { paginateDescribeAlarms, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { AlarmReading, GateReading } from '../core/gate.ts';
import { translateAwsError } from './aws-error.ts';

/**
 * The named alarms, metric or composite, with their states: one DescribeAlarms call per 100 names (AlarmNames
 * takes at most 100), every page read (MaxRecords at most 100). DescribeAlarms returns only metric alarms unless
 * `AlarmTypes` asks for both, and composite alarms only to a caller whose grant is on `*` (API reference,
 * DescribeAlarms). A name that no alarm has is in `missing`.
 */
export async function readAlarms(
  cloudwatch: CloudWatchClient,
  names: readonly string[],
): Promise<GateReading> {
  const alarms: AlarmReading[] = [];
  if (names.length === 0) return { alarms, missing: [] };
  for (let start = 0; start < names.length; start += 100) {
    const chunk = names.slice(start, start + 100);
    try {
      for await (const page of paginateDescribeAlarms(
        { client: cloudwatch },
        { AlarmNames: chunk, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100 },
      )) {
        for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
          if (!alarm.AlarmName) continue;
          alarms.push({
            name: alarm.AlarmName,
            state: (alarm.StateValue ?? 'INSUFFICIENT_DATA') as AlarmReading['state'],
            ...(alarm.StateReason ? { reason: alarm.StateReason } : {}),
            ...(alarm.StateUpdatedTimestamp ? { since: alarm.StateUpdatedTimestamp.toISOString() } : {}),
          });
        }
      }
    } catch (error) {
      throw translateAwsError(error, `DescribeAlarms ${chunk.join(',')}`);
    }
  }
  const found = new Set(alarms.map((a) => a.name));
  return { alarms, missing: names.filter((n) => !found.has(n)) };
}

/** Which of the named alarms exist (see readAlarms). */
export async function existingAlarmNames(
  cloudwatch: CloudWatchClient,
  names: readonly string[],
): Promise<Set<string>> {
  const { alarms } = await readAlarms(cloudwatch, names);
  return new Set(alarms.map((a) => a.name));
}
