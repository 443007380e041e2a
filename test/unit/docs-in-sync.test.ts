// The committed completions/, man/ and src/cli/command-table.ts must be exactly what
// build/gen-docs.mjs makes from the current command definitions. When this fails: run `npm run gen-docs` and commit the result.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
let out: string;

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

beforeAll(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-docs-'));
  execFileSync(process.execPath, [path.join(root, 'build', 'gen-docs.mjs'), '--out', out], { stdio: 'pipe' });
}, 60_000);

afterAll(() => {
  if (out) fs.rmSync(out, { recursive: true, force: true });
});

describe('generated docs are committed and up to date (fix: npm run gen-docs)', () => {
  for (const dir of ['completions', 'man']) {
    it(`${dir}/ has exactly the generated files`, () => {
      expect(listFiles(path.join(root, dir))).toEqual(listFiles(path.join(out, dir)));
    });
    it(`${dir}/ files have the generated content`, () => {
      const stale = listFiles(path.join(out, dir)).filter((f) => {
        const committed = path.join(root, dir, f);
        return !fs.existsSync(committed) || fs.readFileSync(committed, 'utf8') !== fs.readFileSync(path.join(out, dir, f), 'utf8');
      });
      expect(stale, `stale: ${stale.join(', ')}`).toEqual([]);
    });
  }

  // main.ts parses a command line with the one command it names, found in this generated table
  it('src/cli/command-table.ts has the generated content', () => {
    const rel = path.join('src', 'cli', 'command-table.ts');
    expect(fs.readFileSync(path.join(root, rel), 'utf8')).toBe(fs.readFileSync(path.join(out, rel), 'utf8'));
  });

  it('documents every command with a man page', () => {
    const pages = listFiles(path.join(out, 'man'));
    expect(pages).toContain('skiff.1');
    expect(pages.length).toBeGreaterThan(1);
    const main = fs.readFileSync(path.join(out, 'man', 'skiff.1'), 'utf8');
    for (const p of pages.filter((f) => f !== 'skiff.1')) {
      expect(main).toContain(`\\fB${p.replace(/\.1$/, '').replace(/-/g, '\\-')}\\fR(1)`);
    }
  });
});
