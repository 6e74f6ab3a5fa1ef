/**
 * Where the runner's CPU goes, from the `node --cpu-prof` profiles a bench wrote with
 * BENCH_CPU_PROF=DIR: self time summed by function and by where its code lives (Node's
 * internals, a package under node_modules, the runner's bundle), the largest first.
 *
 *   BENCH_CPU_PROF=/tmp/prof BENCH_GIB=1 BENCH_ROUNDS=1 BENCH_TOOLS=ours npm run bench:binary
 *   npx tsx bench/peers/profile-summary.ts /tmp/prof
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a function's code lives. */
function placeOf(url: string): string {
  if (url === '') return '(native, GC, idle)';
  if (url.startsWith('node:'))
    return url
      .replace(/^node:/, 'node:')
      .split('/')
      .slice(0, 2)
      .join('/');
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules !== null) return modules[1] ?? url;
  return url.split('/').slice(-2).join('/');
}

function add(map: Map<string, number>, key: string, micros: number): void {
  map.set(key, (map.get(key) ?? 0) + micros);
}

function top(map: ReadonlyMap<string, number>, total: number, count: number): string[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(
      ([key, micros]) =>
        `${(micros / 1e6).toFixed(2).padStart(8)} s ${((100 * micros) / total).toFixed(1).padStart(5)} %  ${key}`,
    );
}

const dir = process.argv[2];
if (dir === undefined)
  throw new Error('usage: profile-summary.ts DIR (the BENCH_CPU_PROF directory)');
const byFunction = new Map<string, number>();
const byPlace = new Map<string, number>();
let total = 0;
for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    const frame = nodes.get(id)?.callFrame;
    if (frame === undefined) return;
    total += micros;
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    add(byFunction, `${name} ${placeOf(frame.url)}:${frame.lineNumber + 1}`, micros);
    add(byPlace, placeOf(frame.url), micros);
  });
}
console.log(`${(total / 1e6).toFixed(1)} s sampled (idle included)\nby place:`);
for (const line of top(byPlace, total, 15)) console.log(line);
console.log('by function (self time):');
for (const line of top(byFunction, total, 25)) console.log(line);
