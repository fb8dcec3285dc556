import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleFunction, functionEnvironment } from '../src/infra/bundle.ts';
import { defaultBundling, projectRoot } from '../src/infra/pipeline.ts';
import { startRolloutEntry, steps } from '../src/steps/index.ts';

export interface BundleBenchRow {
  readonly step: string;
  readonly bundleBytes: number;
  readonly sourceMapBytes: number;
  /** The `@aws-sdk/client-*` packages in the bundle. */
  readonly clients: readonly string[];
  /** Median wall time of `import()` of the bundle in a fresh Node process, as the function runs it. */
  readonly coldImportMs: number;
  /** Median CPU time (user + system, all threads) of that import: less sensitive to a busy machine. */
  readonly coldImportCpuMs: number;
  /** Median wall time of the same import without `--enable-source-maps`: what the source map costs. */
  readonly coldImportWithoutSourceMapsMs: number;
}

/** Times one `import()` of the module at argv[1], in this fresh process: [wall ms, CPU ms]. */
const importProbe = [
  'const cpu = process.cpuUsage(); const start = performance.now();',
  'await import(process.argv[1]);',
  'const wall = performance.now() - start; const used = process.cpuUsage(cpu);',
  'process.stdout.write(JSON.stringify([wall, (used.user + used.system) / 1000]));',
].join(' ');

/** Cold imports `file` in a fresh Node process with `env` (no inherited NODE_OPTIONS): [wall ms, CPU ms]. */
export function coldImport(file: string, env: Record<string, string>): [number, number] {
  const output = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', importProbe, pathToFileURL(file).href],
    { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' },
  );
  return JSON.parse(output) as [number, number];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/**
 * Bundles every function as the pipeline does (`defaultBundling`) and cold-imports each bundle `runs` times,
 * each in a fresh process, round robin over the bundles so a busy moment of the machine spreads over all.
 */
export async function benchBundles(runs = 7): Promise<BundleBenchRow[]> {
  const outdir = mkdtempSync(join(tmpdir(), 'ami-rollout-bench-bundles-'));
  try {
    const entries: Record<string, string> = {
      ...Object.fromEntries(Object.entries(steps).map(([step, { entry }]) => [step, entry])),
      StartRollout: startRolloutEntry,
    };
    const bundles = await Promise.all(
      Object.entries(entries).map(async ([step, entry]) => {
        const { bundlePath, metafile } = await bundleFunction(
          join(projectRoot, entry),
          join(outdir, step),
          defaultBundling,
        );
        const inputs = Object.keys(Object.values(metafile.outputs).find((o) => o.entryPoint)?.inputs ?? {});
        const clients = new Set(
          inputs.flatMap((path) => /@aws-sdk\/(client-[a-z0-9-]+)\//.exec(path)?.[1] ?? []),
        );
        return { step, bundlePath, clients: [...clients].sort() };
      }),
    );
    // The function's environment: its NODE_OPTIONS; a region and credentials, as Lambda gives.
    const lambdaEnv = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDBENCH',
      AWS_SECRET_ACCESS_KEY: 'bench',
    };
    const shipped = { ...lambdaEnv, ...functionEnvironment(defaultBundling) };
    const samples = bundles.map(() => ({ wall: [] as number[], cpu: [] as number[], plain: [] as number[] }));
    for (let run = 0; run < runs; run++) {
      bundles.forEach(({ bundlePath }, i) => {
        const [wall, cpu] = coldImport(bundlePath, shipped);
        samples[i]?.wall.push(wall);
        samples[i]?.cpu.push(cpu);
        samples[i]?.plain.push(coldImport(bundlePath, lambdaEnv)[0]);
      });
    }
    return bundles.map(({ step, bundlePath, clients }, i) => {
      const sample = samples[i] ?? { wall: [], cpu: [], plain: [] };
      return {
        step,
        bundleBytes: statSync(bundlePath).size,
        sourceMapBytes: statSync(`${bundlePath}.map`, { throwIfNoEntry: false })?.size ?? 0,
        clients,
        coldImportMs: median(sample.wall),
        coldImportCpuMs: median(sample.cpu),
        coldImportWithoutSourceMapsMs: median(sample.plain),
      };
    });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
