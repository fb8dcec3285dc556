import { execFile } from 'node:child_process';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { isDeepStrictEqual } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_ENV } from '../../src/config/load.ts';
import {
  functionEnvironment,
  bundleFunction,
  literalSchemaKeys,
  spellOutSchemaKeys,
} from '../../src/infra/bundle.ts';
import { defaultBundling, projectRoot } from '../../src/infra/pipeline.ts';
import { inProcessClientConfig, serve } from '../../src/local-account/index.ts';
import { createLedgerTable } from '../../src/rehearsal/pipeline.ts';
import { getRollout, Ledger, listGroups, listWaves } from '../../src/adapters/ledger.ts';
import { LEDGER_TABLE_ENV } from '../../src/steps/dependencies.ts';
import { createShareAmiStep } from '../../src/steps/share-ami.ts';
import { createPreflightStep } from '../../src/steps/preflight.ts';
import { startRolloutEntry, steps } from '../../src/steps/index.ts';
import { createUpdateLaunchTemplatesStep } from '../../src/steps/update-launch-templates.ts';
import { harness, NEW_IMAGE, rolloutState } from '../steps/harness.ts';

/**
 * What the bench measures (bundle size, cold import) rests on what a bundle holds. These tests bundle every
 * function exactly as the pipeline does and read esbuild's metafile: which SDK clients, which schemas.
 */
const entries: Record<string, string> = {
  ...Object.fromEntries(Object.entries(steps).map(([step, { entry }]) => [step, entry])),
  StartRollout: startRolloutEntry,
};

/** The clients each function calls: the spec the bundles are checked against. */
const clientsCalled: Record<string, readonly string[]> = {
  Preflight: ['auto-scaling', 'cloudwatch', 'dynamodb', 'ec2', 'iam', 'sfn', 'ssm'],
  ShareAmi: ['dynamodb', 'ec2', 'ssm'],
  UpdateLaunchTemplates: ['auto-scaling', 'dynamodb', 'ec2'],
  PlanBatch: ['auto-scaling', 'dynamodb'],
  CheckGate: ['cloudwatch', 'dynamodb'],
  FinishBatch: ['auto-scaling', 'dynamodb', 'ec2'],
  TriggerInstanceRefresh: ['auto-scaling', 'dynamodb', 'ec2'],
  CheckRefreshStatus: ['auto-scaling', 'cloudwatch', 'dynamodb'],
  RollbackAmi: ['dynamodb', 'ec2', 'ssm'],
  TriggerRollbackRefresh: ['auto-scaling', 'dynamodb', 'ec2'],
  CheckRollbackRefresh: ['auto-scaling', 'dynamodb'],
  Notify: ['dynamodb', 'sns'],
  StartRollout: ['imagebuilder', 'sfn'],
};

const outdir = mkdtempSync(join(tmpdir(), 'ami-rollout-bundles-'));
const bundles = new Map<string, { bundlePath: string; inputs: Metafile['outputs'][string]['inputs'] }>();

beforeAll(async () => {
  await Promise.all(
    Object.entries(entries).map(async ([name, entry]) => {
      const { bundlePath, metafile } = await bundleFunction(
        join(projectRoot, entry),
        join(outdir, name),
        defaultBundling,
      );
      const output = Object.values(metafile.outputs).find((o) => o.entryPoint);
      bundles.set(name, { bundlePath, inputs: output?.inputs ?? {} });
    }),
  );
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const clientOf = (path: string) => /@aws-sdk\/client-([a-z0-9-]+)\//.exec(path)?.[1];

describe('function bundles', () => {
  it('hold exactly the SDK clients each function calls, each with a command it sends', () => {
    const held: Record<string, string[]> = {};
    const sending: Record<string, string[]> = {};
    for (const [name, { inputs }] of bundles) {
      const paths = Object.keys(inputs);
      held[name] = [...new Set(paths.flatMap((p) => clientOf(p) ?? []))].sort();
      sending[name] = [
        ...new Set(
          paths
            .filter((p) => /\/dist-es\/commands\/\w+Command\.js$/.test(p))
            .flatMap((p) => clientOf(p) ?? []),
        ),
      ].sort();
    }
    expect(held).toEqual(clientsCalled);
    // A client in a bundle without one of its commands would be one the function never calls.
    expect(sending).toEqual(held);
  });

  it('keep only the schemas of the operations a function calls, not the whole client', () => {
    const inputs = bundles.get('UpdateLaunchTemplates')?.inputs ?? {};
    const path = Object.keys(inputs).find((p) => p.endsWith('client-ec2/dist-es/schemas/schemas_0.js'));
    expect(path).toBeDefined();
    const schemas = inputs[path ?? ''];
    // EC2's schemas are 1.3 MB of source; all of them minified are 540 KB of the bundle, these few under 60 KB.
    expect(schemas?.bytesInOutput).toBeLessThan(60 * 1024);
  });

  it('ship a source map without the sources, naming them from the project root, and run with source maps on', () => {
    const map = JSON.parse(readFileSync(`${bundles.get('Notify')?.bundlePath}.map`, 'utf8')) as Record<
      string,
      unknown
    >;
    expect(Object.keys(map).sort()).toEqual(['mappings', 'names', 'sources', 'version']);
    const sources = map.sources as string[];
    expect(sources).toContain('src/steps/notify.ts');
    expect(sources.filter((source) => !/^(src|node_modules)\//.test(source))).toEqual([]);
    expect(functionEnvironment(defaultBundling)).toEqual({ NODE_OPTIONS: '--enable-source-maps' });
  });

  it('are the same bytes wherever they are built, so an unchanged function keeps its asset hash', async () => {
    const elsewhere = join(outdir, 'elsewhere', 'deeper', 'Notify');
    const { bundlePath } = await bundleFunction(
      join(projectRoot, entries.Notify ?? ''),
      elsewhere,
      defaultBundling,
    );
    const here = bundles.get('Notify')?.bundlePath ?? '';
    expect(readFileSync(bundlePath).equals(readFileSync(here))).toBe(true);
    expect(readFileSync(`${bundlePath}.map`).equals(readFileSync(`${here}.map`))).toBe(true);
  });
});

describe('spellOutSchemaKeys', () => {
  it('spells out a computed key that names a string constant, and nothing else', () => {
    const source = [
      'const _xN = "xmlName";',
      'const _p = "__proto__";',
      'var A$ = [3, n0, _A, 0, [_xN], [[0, { [_xN]: _iI,\n [_xN]: _q }]]];',
      'var B = { [_other]: 1, [_p]: 2 };',
      'var C = flag ? [_xN]: [];',
    ].join('\n');
    expect(spellOutSchemaKeys(source).split('\n').slice(2)).toEqual([
      'var A$ = [3, n0, _A, 0, [_xN], [[0, { "xmlName": _iI,',
      ' "xmlName": _q }]]];',
      'var B = { [_other]: 1, [_p]: 2 };',
      'var C = flag ? [_xN]: [];',
    ]);
  });

  it.each(['ec2', 'auto-scaling', 'ssm', 'sns', 'sfn', 'imagebuilder'])(
    'leaves every schema of client-%s as it was',
    async (client) => {
      const schemas = async (plugins: (typeof literalSchemaKeys)[]) => {
        const { outputFiles } = await build({
          stdin: {
            contents: `export * from '@aws-sdk/client-${client}/dist-es/schemas/schemas_0.js';`,
            resolveDir: projectRoot,
          },
          bundle: true,
          platform: 'node',
          format: 'esm',
          mainFields: ['module', 'main'],
          write: false,
          plugins,
        });
        const code = outputFiles[0]?.text ?? '';
        return (await import(
          `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`
        )) as Record<string, unknown>;
      };
      const [original, spelledOut] = await Promise.all([schemas([]), schemas([literalSchemaKeys])]);
      // A schema's members are thunks (() => Other$): compare what they return, two levels deep.
      const resolved = (value: unknown, depth = 0): unknown => {
        if (typeof value === 'function')
          return depth > 1 ? 'thunk' : resolved((value as () => unknown)(), depth + 1);
        if (Array.isArray(value)) return value.map((v) => resolved(v, depth));
        if (value && typeof value === 'object') {
          return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolved(v, depth)]));
        }
        return value;
      };
      const names = Object.keys(original).filter((name) => name !== 'errorTypeRegistries');
      expect(Object.keys(spelledOut).sort()).toEqual(Object.keys(original).sort());
      expect(names.length).toBeGreaterThan(100);
      const changed = names.filter(
        (name) => !isDeepStrictEqual(resolved(original[name]), resolved(spelledOut[name])),
      );
      expect(changed).toEqual([]);
    },
  );
});

describe('a bundled step, run as Lambda runs it', () => {
  it('makes over the wire the very calls the step makes in process (preflight, share, update templates)', async () => {
    const ledgerTable = 'ami-rollout-ledger';
    /** An account like the harness's, with the ledger table the stack creates. */
    const withLedger = async () => {
      const h = await harness();
      const dynamodb = new DynamoDBClient(inProcessClientConfig(h.account));
      await createLedgerTable(dynamodb, ledgerTable);
      return { ...h, deps: { ...h.deps, dynamodb, ledgerTable }, ledger: new Ledger(dynamodb, ledgerTable) };
    };
    /** What the three steps leave in the ledger, without the times (the bundles run on the wall clock). */
    const ledgerOf = async (ledger: Ledger) => {
      const { createdAt: _at, ...rollout } = (await getRollout(ledger, 'rollout-1'))!;
      return {
        rollout,
        groups: await listGroups(ledger, 'rollout-1'),
        waves: await listWaves(ledger, 'rollout-1'),
      };
    };

    // In process, with the SDK as published.
    const reference = await withLedger();
    const callsBefore = reference.account.calls.length;
    const ref = await createPreflightStep(reference.deps)({ rolloutId: 'rollout-1', imageId: NEW_IMAGE });
    const shared = await createShareAmiStep(reference.deps)({ rollout: ref });
    const updated = await createUpdateLaunchTemplatesStep(reference.deps)({ rollout: shared });
    const referenceCalls = reference.account.calls.slice(callsBefore).map((c) => `${c.service}:${c.action}`);

    // The bundles, in a fresh Node process with the function's environment, against an identical account.
    const h = await withLedger();
    const wireBefore = h.account.calls.length;
    const emulator = await serve(h.account, 0);
    try {
      const script = [
        'const [preflight, share, update] = await Promise.all(process.argv.slice(1, 4).map((f) => import(f)));',
        `const rollout = await preflight.handler({ rolloutId: 'rollout-1', imageId: '${NEW_IMAGE}' });`,
        'const shared = await share.handler({ rollout });',
        'const updated = await update.handler({ rollout: shared });',
        // Last, after the steps' log lines (stdout is CloudWatch Logs in Lambda).
        "process.stdout.write('\\n' + JSON.stringify({ rollout, shared, updated }));",
      ].join('\n');
      const files = ['Preflight', 'ShareAmi', 'UpdateLaunchTemplates'].map(
        (name) => pathToFileURL(bundles.get(name)?.bundlePath ?? '').href,
      );
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--input-type=module', '-e', script, ...files],
        {
          env: {
            PATH: process.env.PATH ?? '',
            ...functionEnvironment(defaultBundling),
            [CONFIG_ENV]: JSON.stringify(h.config),
            [LEDGER_TABLE_ENV]: ledgerTable,
            AWS_REGION: 'us-east-1',
            AWS_ENDPOINT_URL: emulator.endpoint,
            AWS_ACCESS_KEY_ID: 'local',
            AWS_SECRET_ACCESS_KEY: 'local',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
        },
      );
      const wireCalls = h.account.calls.slice(wireBefore).map((c) => `${c.service}:${c.action}`);
      expect(JSON.parse(stdout.split('\n').at(-1) ?? '')).toEqual({ rollout: ref, shared, updated });
      expect(ref).toMatchObject({ rolloutId: 'rollout-1', groups: 3, waves: 3 });
      expect(rolloutState(h.account)).toEqual(rolloutState(reference.account));
      expect(await ledgerOf(h.ledger)).toEqual(await ledgerOf(reference.ledger));
      expect(wireCalls).toEqual(referenceCalls);
      expect(wireCalls).toContain('dynamodb:BatchWriteItem');
    } finally {
      await emulator.close();
    }
  });
});
