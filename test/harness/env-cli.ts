/**
 * `npm run env:up | env:down | env:status | tools:build`: the local environment of real
 * servers. `up` prints shell `export` lines on stdout (progress goes to stderr), so
 * `eval "$(npm run -s env:up)"` configures a shell for it.
 */
import { downEnvironment, environmentStatus, upEnvironment } from './env/environment.js';
import { groupMemory } from './env/memory.js';
import { ensureTools } from './env/tools.js';

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

function progress(message: string): void {
  process.stderr.write(`env: ${message}\n`);
}

const mebibytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** One line per daemon with its memory, then the totals (peak: sum of each process's VmHWM). */
function printStatus(): void {
  let rss = 0;
  let peak = 0;
  for (const [name, pid] of Object.entries(environmentStatus())) {
    if (pid === undefined) {
      process.stdout.write(`${name.padEnd(24)} stopped\n`);
      continue;
    }
    const memory = groupMemory(pid);
    rss += memory.rssBytes;
    peak += memory.peakRssBytes;
    process.stdout.write(
      `${name.padEnd(24)} running (pid ${pid}, ${memory.processes} processes, rss ${mebibytes(memory.rssBytes)}, peak ${mebibytes(memory.peakRssBytes)})\n`,
    );
  }
  process.stdout.write(`${'total'.padEnd(24)} rss ${mebibytes(rss)}, peak ${mebibytes(peak)}\n`);
}

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'up': {
      const started = Date.now();
      const variables = await upEnvironment(progress);
      for (const [name, value] of Object.entries(variables)) {
        process.stdout.write(`export ${name}=${shellQuote(value)}\n`);
      }
      progress(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    }
    case 'down':
      await downEnvironment();
      progress('stopped and removed');
      return 0;
    case 'status':
      printStatus();
      return 0;
    case 'tools': {
      const tools = await ensureTools(progress);
      for (const [name, path] of Object.entries(tools)) process.stdout.write(`${name} ${path}\n`);
      return 0;
    }
    default:
      process.stderr.write('usage: env-cli.ts up|down|status|tools\n');
      return 2;
  }
}

// The AWS SDK warns on every start on Node 20 that its 2027 releases will need Node 22; the
// project runs on Node 24, and on an older Node the warning is noise in the harness's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

try {
  process.exitCode = await main(process.argv[2]);
} catch (error) {
  process.stderr.write(`env: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
