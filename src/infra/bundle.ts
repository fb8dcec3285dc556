import { readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

/** How a function's code is bundled (by the locally installed esbuild, never Docker). */
export interface FunctionBundling {
  /** Minify whitespace, syntax and identifiers. Default true. */
  readonly minify?: boolean;
  /**
   * Ship `index.mjs.map` (mappings and names, without the sources' text) and run the function with
   * `--enable-source-maps`, so stack traces name the TypeScript file and line. Default true.
   */
  readonly sourceMap?: boolean;
  /** esbuild's target. Default `node24`, the functions' runtime. */
  readonly target?: string;
}

/** The file name of the bundle in the asset, and the functions' handler: its `handler` export. */
export const bundleFileName = 'index.mjs';
export const functionHandler = 'index.handler';

/** What one bundle holds: esbuild's metafile, and the bundle's path. */
export interface BundleResult {
  readonly bundlePath: string;
  readonly metafile: Metafile;
}

/**
 * Bundles `entry` (a step's TypeScript file) into `outdir/index.mjs`: ESM for Node.js, the AWS SDK included
 * (the runtime's copy lags behind ours; bundling pins the version the tests ran against), tree-shaken to what
 * the step calls.
 */
export async function bundleFunction(
  entry: string,
  outdir: string,
  bundling: FunctionBundling = {},
): Promise<BundleResult> {
  const bundlePath = join(outdir, bundleFileName);
  const result = await build({
    entryPoints: [entry],
    outfile: bundlePath,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: bundling.target ?? 'node24',
    // ESM first: the SDK's dist-es tree-shakes, its dist-cjs is one file per client.
    mainFields: ['module', 'main'],
    minify: bundling.minify ?? true,
    // A stack trace needs the mappings, not the sources' text (which would triple the map).
    ...((bundling.sourceMap ?? true) ? { sourcemap: true, sourcesContent: false } : {}),
    // ESM output: some bundled CommonJS dependencies call require() for Node built-ins.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    plugins: [literalSchemaKeys],
    metafile: true,
    logLevel: 'warning',
  });
  if (bundling.sourceMap ?? true) await sourcesFromProjectRoot(`${bundlePath}.map`);
  return { bundlePath, metafile: result.metafile };
}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * esbuild names the sources relative to the output directory, a temporary one under wherever cdk.out is: the
 * map, and so the asset's hash, would differ with the checkout's path. Relative to the project root instead,
 * the same code gives the same asset on every machine, and a stack trace in Lambda names
 * /var/task/src/steps/preflight.ts.
 */
async function sourcesFromProjectRoot(mapPath: string): Promise<void> {
  const map = JSON.parse(await readFile(mapPath, 'utf8')) as { sources: string[] };
  const outdir = resolve(mapPath, '..');
  map.sources = map.sources.map((source) =>
    relative(projectRoot, resolve(outdir, source)).replaceAll('\\', '/'),
  );
  await writeFile(mapPath, JSON.stringify(map));
}

/** The environment a function bundled this way runs with: source maps on when it has one. */
export function functionEnvironment(bundling: FunctionBundling = {}): Record<string, string> {
  return (bundling.sourceMap ?? true) ? { NODE_OPTIONS: '--enable-source-maps' } : {};
}

/** An SDK client's generated schemas: `@aws-sdk/client-x/dist-es/schemas/schemas_0.js`. */
const sdkSchemaFile = /[\\/]@aws-sdk[\\/]client-[a-z0-9-]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/**
 * AWS SDK clients (since 3.930) write their schemas' traits with computed keys, `{ [_xN]: _iI }` where
 * `const _xN = "xmlName"`. esbuild cannot tell such a key has no side effect, so a bundle keeps every schema of
 * the client: 540 KB of EC2's for the seven operations the steps call, half a step's bundle and of its cold
 * start (aws/aws-sdk-js-v3#7607). This spells the keys out, as the SDK's pending fix does
 * (smithy-lang/smithy-typescript#1889), and tree-shaking keeps only the schemas the operations reach. The
 * objects are the same: a key is replaced only by the string constant it names, and never by `__proto__`,
 * which as a literal key would set the prototype instead of a property.
 */
export const literalSchemaKeys: Plugin = {
  name: 'literal-schema-keys',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: sdkSchemaFile }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      return { contents: spellOutSchemaKeys(source), loader: 'js' };
    });
  },
};

/** `{ [_xN]: v }` -> `{ "xmlName": v }` for each top-level `const _xN = "xmlName";` of `source`. */
export function spellOutSchemaKeys(source: string): string {
  const strings = new Map<string, string>();
  for (const [, name, literal] of source.matchAll(/^const (_\w+) = ("[^"\\]*");$/gm)) {
    if (name && literal && literal !== '"__proto__"') strings.set(name, literal);
  }
  // Only a key position: after `{` or `,` (a `[_x]` after `?` would be an array in a conditional).
  return source.replace(/([{,]\s*)\[(_\w+)\]:/g, (whole, before: string, name: string) => {
    const literal = strings.get(name);
    return literal === undefined ? whole : `${before}${literal}:`;
  });
}
