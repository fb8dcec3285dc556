// npm run bench: the figures the README records. Wall time is measured here, never asserted in tests.
import { availableParallelism, loadavg } from 'node:os';
import { benchBundles } from './bundles.ts';
import { benchBadRequests } from './bad-requests.ts';
import { benchChildExecutions } from './child-executions.ts';
import { benchFleetScale } from './fleet-scale.ts';
import { benchLocalAccount } from './local-account.ts';
import { benchRehearsal } from './rehearsal.ts';
import { benchWaves } from './waves.ts';

const fmt = (n: number, digits = 0) => n.toFixed(digits);

const account = await benchLocalAccount(100, 10);
console.log('local account: instance refreshes of 100 groups x 10 instances, to Successful, in virtual time');
console.log(`  seed fleet (100 groups, 1000 instances):  ${fmt(account.seedWallMs)} ms wall`);
console.log(
  `  refresh all groups:                       ${fmt(account.refreshWallMs)} ms wall  (goal < 1000 ms), ` +
    `${fmt(account.simulatedSeconds)} s simulated, ${account.apiCalls} API calls`,
);
console.log(
  `    of which inside the local account:       ${fmt(account.accountWallMs)} ms (the rest is the AWS SDK clients' own work)`,
);
console.log(
  `  memory after run:                         heap ${fmt(account.heapUsedMb, 1)} MiB, rss ${fmt(account.rssMb, 1)} MiB`,
);

const scale = await benchFleetScale(2000, 3, 50, 8);
console.log('');
console.log(
  'local account at fleet scale: 2,000 groups x 3 instances, a canary then waves of 50 refreshes, no state machine',
);
console.log(`  seed fleet (2,000 groups, 6,000 instances): ${fmt(scale.seedWallMs)} ms wall`);
console.log(
  `  refresh every group in waves:             ${fmt(scale.wavesWallMs)} ms wall, ${fmt(scale.simulatedSeconds / 3600, 1)} h simulated, ` +
    `${scale.apiCalls} API calls (${fmt(scale.accountWallMs)} ms inside the account)`,
);
console.log(`  heap after the waves:                     ${fmt(scale.heapUsedMb, 1)} MiB`);
console.log(
  `  then ${scale.alarmHours} h minute by minute, an alarm per group: ${fmt(scale.alarmHoursWallMs)} ms wall, heap ${fmt(scale.heapAfterAlarmHoursMb, 1)} MiB`,
);

const rollout = await benchRehearsal(100, 10);
console.log('');
console.log(
  'rehearsal: a whole rollout of 100 groups x 10 instances through the real state machine definition',
);
console.log(`  result:                                   ${rollout.status}`);
console.log(
  `  wall time:                                ${fmt(rollout.wallMs)} ms (${fmt(rollout.simulatedSeconds / 3600, 1)} h simulated)`,
);
console.log(`  state transitions:                        ${rollout.stateTransitions}`);
console.log(
  `  history events:                           ${rollout.historyEvents} in the rollout execution, ${fmt(rollout.historyEventsPerGroup, 1)} per group execution (Step Functions fails an execution past 25,000)`,
);
console.log(
  `  group-to-group handoff (simulated):       mean ${fmt(rollout.handoffSeconds.mean)} s, max ${fmt(rollout.handoffSeconds.max)} s (refresh ended -> next refresh started)`,
);
console.log(
  `  largest state payload:                    ${fmt(rollout.largestStateBytes / 1024, 1)} KiB (Step Functions' limit: 256 KiB)`,
);
console.log(`  heap after run:                           ${fmt(rollout.heapUsedMb, 1)} MiB`);

for (const failLast of [false, true]) {
  const waves = await benchWaves(2000, 3, failLast);
  console.log('');
  console.log(
    `waves: 2,000 groups x 3 instances, a canary then 4 waves of 500 refreshed 50 at a time, through the three real state machines${failLast ? ', the last group failing (the whole fleet rolled back)' : ''}`,
  );
  console.log(
    `  result:                                   ${failLast ? `execution ${waves.status} (rolled back)` : waves.status}, ${waves.groupsOnExpectedImage} of ${waves.groups} groups on the ${failLast ? 'old' : 'new'} image (${waves.groupsTouched} were refreshed forward)`,
  );
  console.log(
    `  wall time:                                ${fmt(waves.wallMs)} ms${failLast ? '' : ' (goal < 60,000 ms)'}, ${fmt(waves.simulatedHours, 1)} h simulated, heap ${fmt(waves.heapUsedMb, 1)} MiB${failLast ? '' : ' (goal < 1,024 MiB)'}`,
  );
  console.log(
    `  executions:                               ${waves.executions}; history events: rollout ${waves.parentEvents}, largest batch ${waves.maxBatchEvents}, group mean ${fmt(waves.meanGroupEvents, 1)} max ${waves.maxGroupEvents} (limit 25,000 each)`,
  );
  console.log(
    `  largest state payload:                    ${fmt(waves.largestPayloadBytes / 1024, 1)} KiB (limit 256 KiB); hand-off mean ${fmt(waves.handoffSeconds)} s simulated`,
  );
}

const children = await benchChildExecutions(2000, 50);
console.log('');
console.log(
  'child executions on the local account: a Map of 2,000 .sync:2 children, 50 at a time, 3 polls each',
);
console.log(
  `  ${children.status} in ${fmt(children.wallMs)} ms wall (${fmt(children.wallMsPerChild, 2)} ms a child), ${fmt(children.simulatedSeconds)} s simulated, parent ${children.parentEvents} events, ${fmt(children.eventsPerChild, 1)} a child, heap ${fmt(children.heapUsedMb, 1)} MiB`,
);

console.log('');
const rows = await benchBundles(7);
console.log('function bundles, as deployed: size, and cold import() in a fresh Node process (median of 7)');
const table = [
  ['function', 'bundle', 'source map', 'cold import', 'its CPU', 'without maps', 'clients'],
  ...rows.map((row) => [
    row.step,
    `${fmt(row.bundleBytes / 1024)} KiB`,
    `${fmt(row.sourceMapBytes / 1024)} KiB`,
    `${fmt(row.coldImportMs)} ms`,
    `${fmt(row.coldImportCpuMs)} ms`,
    `${fmt(row.coldImportWithoutSourceMapsMs)} ms`,
    row.clients.map((c) => c.replace('client-', '')).join(', '),
  ]),
];
const widths =
  table[0]?.map((_, column) => Math.max(...table.map((cells) => cells[column]?.length ?? 0))) ?? [];
for (const cells of table) {
  console.log(
    `  ${cells.map((cell, column) => (column === 0 || column === 6 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ')}`,
  );
}
console.log(
  `  goal: cold import under 150 ms for every function (load average ${fmt(loadavg()[0] ?? 0, 1)} on ${availableParallelism()} cores: wall times grow with it)`,
);
console.log('');
console.log(
  'bad requests: the costliest one request can be (docs/local-account.md, "Bad requests"), median of 5',
);
for (const timing of await benchBadRequests()) {
  console.log(
    `  ${`${timing.name}:`.padEnd(42)} ${fmt(timing.ms, 1).padStart(6)} ms  (HTTP ${timing.status})`,
  );
}
