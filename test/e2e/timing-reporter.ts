import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints, after each e2e run, the wall time of every test file (slowest first) and the slowest
 * tests, so that CI's log shows what the suite costs and where (issue 9). Registered next to
 * the verbose reporter in vitest.e2e.config.ts; plain text, no colours, so the log reads the same.
 *
 * A file's time is everything vitest spent on it: importing it (collect), its hooks and its tests
 * (duration), and the worker's set-up. Files run one after another (fileParallelism: false), so
 * the file times add up to the run's time.
 */
const SLOWEST_TESTS = 10;

export interface FileTime { file: string; ms: number; tests: number; state: string }
export interface TestTime { file: string; name: string; ms: number }

function fileTime(m: TestModule): FileTime {
  const d = m.diagnostic();
  const ms = d.environmentSetupDuration + d.prepareDuration + d.collectDuration + d.setupDuration + d.duration;
  return { file: path.relative(process.cwd(), m.moduleId), ms, tests: [...m.children.allTests()].length, state: m.state() };
}

function testTimes(m: TestModule): TestTime[] {
  const file = path.relative(process.cwd(), m.moduleId);
  return [...m.children.allTests()].flatMap((t) => {
    const d = t.diagnostic();
    return d ? [{ file, name: t.fullName, ms: d.duration }] : [];
  });
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The report as text: exported for the unit test. */
export function formatTiming(label: string, files: FileTime[], tests: TestTime[]): string {
  const total = files.reduce((s, f) => s + f.ms, 0);
  const byTime = [...files].sort((a, b) => b.ms - a.ms);
  const w = Math.max(4, ...files.map((f) => f.file.length));
  const lines = [
    '',
    `e2e time per file (${label}): ${files.length} file${files.length === 1 ? '' : 's'}, ${secs(total)}`,
    `  ${'file'.padEnd(w)}  ${'time'.padStart(8)}  ${'share'.padStart(5)}  tests  state`,
    ...byTime.map((f) => `  ${f.file.padEnd(w)}  ${secs(f.ms).padStart(8)}  ${`${total ? Math.round((100 * f.ms) / total) : 0}%`.padStart(5)}  ${String(f.tests).padStart(5)}  ${f.state}`),
  ];
  const slow = [...tests].sort((a, b) => b.ms - a.ms).slice(0, SLOWEST_TESTS);
  if (slow.length) {
    lines.push(`slowest tests (${label}):`);
    for (const t of slow) lines.push(`  ${secs(t.ms).padStart(8)}  ${t.file} > ${t.name}`);
  }
  return lines.join('\n') + '\n';
}

/** "rootless, fast tier" from what run.sh exports; just the mode when run without tiers. */
function runLabel(): string {
  const mode = process.env.SKIFF_E2E_MODE ?? 'rootless';
  const tier = process.env.SKIFF_E2E_TIER;
  return tier === 'fast' || tier === 'rest' ? `${mode}, ${tier} tier` : mode;
}

export default class TimingReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    if (!modules.length) return;
    process.stdout.write(formatTiming(runLabel(), modules.map(fileTime), modules.flatMap(testTimes)));
  }
}
