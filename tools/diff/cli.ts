/**
 * `npm run diff [-- <base-ref>] [--from <dir>] [--to <dir>] [--json] [--out <file>]`: the
 * semantic diff of the rendered tree. Base: a git ref whose source is rendered in a temporary
 * worktree (default: `git merge-base HEAD main`), or a folder (--from). New side: the current
 * source rendered in memory, or a folder (--to, e.g. --to dist).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { regionPrices } from '../../regions/pricing';
import { REPO_ROOT } from '../repo-root';
import type { GlobalConfig } from '../../regions/model';
import { diffTrees } from './diff';
import type { PriceLookup } from './cost';
import { renderJson, renderMarkdown } from './report';
import { readTreeFiles, type TreeFile } from './tree';

const USAGE = `usage: npm run diff -- [<base-ref>] [--to <dir>] [--json] [--out <file>]
       npm run diff -- --from <dirA> [--to <dirB>] [--json] [--out <file>]
  <base-ref>    git ref to compare against; its source is rendered in a temporary worktree
                (default: git merge-base HEAD main)
  --from <dir>  compare against an already rendered folder instead of a git ref
  --to <dir>    the new side as a rendered folder (e.g. --to dist); default: the current source
                rendered in memory
  --json        print JSON instead of Markdown
  --out <file>  write the report to this file instead of stdout
exit codes: 0 the diff ran (whether or not there are changes), 1 error (git, render, unreadable
tree), 2 bad usage
`;

// From tools/repo-root.ts, not __dirname: the same from the sources and from the bundle (tools/diff/launch.cjs).
const root = REPO_ROOT;

class UsageError extends Error {}

function git(args: string[], cwd = root): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Renders the source of a git ref in a temporary worktree; the worktree is always removed. */
function renderRef(ref: string): TreeFile[] {
  const commit = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bookedbarber-diff-'));
  const worktree = path.join(tmp, 'src');
  const out = path.join(tmp, 'dist');
  git(['worktree', 'add', '--detach', worktree, commit]);
  try {
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(worktree, 'node_modules'), 'dir');
    const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
    const r = spawnSync(tsx, ['main.ts', '--out', out], { cwd: worktree, encoding: 'utf8' });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`rendering ${ref} (${commit.slice(0, 12)}) failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    return readTreeFiles(out);
  } finally {
    try {
      git(['worktree', 'remove', '--force', worktree]);
    } catch {
      git(['worktree', 'prune']);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The price table of the working copy's regions/global.yaml, for both sides of the diff (see
 * tools/diff/cost.ts). Read without the full model check, so a half-edited region file does not
 * cost the diff its cost lines; a missing or broken table only drops them, with a note.
 */
function workingCopyPrices(io: { stderr: (s: string) => void }): PriceLookup | undefined {
  try {
    const global = parse(fs.readFileSync(path.join(root, 'regions', 'global.yaml'), 'utf8')) as Pick<GlobalConfig, 'pricing' | 'nodes'>;
    if (!global?.pricing || typeof global.nodes?.packingEfficiency !== 'number') return undefined;
    return (region) => regionPrices(global, region);
  } catch (error) {
    io.stderr(`diff: no cost estimate (regions/global.yaml pricing: ${(error as Error).message})\n`);
    return undefined;
  }
}

export async function run(argv: readonly string[], io: { stdout: (s: string) => void; stderr: (s: string) => void }): Promise<number> {
  try {
    let args;
    try {
      args = parseArgs({
        args: [...argv],
        allowPositionals: true,
        options: { from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
        strict: true,
      });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (args.values.help) {
      io.stdout(USAGE);
      return 0;
    }
    if (args.positionals.length > 1) throw new UsageError('at most one base ref');
    if (args.positionals.length === 1 && args.values.from) throw new UsageError('give either a base ref or --from, not both');

    let fromLabel: string;
    let filesA: TreeFile[];
    if (args.values.from) {
      fromLabel = args.values.from;
      filesA = readTreeFiles(path.resolve(args.values.from));
    } else {
      let ref = args.positionals[0];
      if (!ref) {
        try {
          ref = git(['merge-base', 'HEAD', 'main']);
        } catch (error) {
          throw new Error(`no base ref given and no merge base with main: ${(error as Error).message}`);
        }
      }
      fromLabel = args.positionals[0] ?? `merge-base ${ref.slice(0, 12)}`;
      filesA = renderRef(ref);
    }
    const toLabel = args.values.to ?? 'working tree (rendered)';
    // The renderer (every chart, cdk8s) is loaded only when the current source is rendered.
    const filesB = args.values.to ? readTreeFiles(path.resolve(args.values.to)) : await (await import('./render-current')).renderCurrent(root);

    const result = diffTrees(filesA, filesB, { from: fromLabel, to: toLabel }, { prices: workingCopyPrices(io) });
    const text = args.values.json ? renderJson(result) : renderMarkdown(result);
    if (args.values.out) fs.writeFileSync(path.resolve(args.values.out), text);
    else io.stdout(text);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`diff: ${error.message}\n${USAGE}`);
      return 2;
    }
    io.stderr(`diff: ${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void run(process.argv.slice(2), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }).then((code) => {
    process.exitCode = code;
  });
}
