/**
 * What YAML did, and what happens to every file in regions/ (issue #15 items 3 and 4): each case
 * is refused (or explained) with the file, the line, what YAML did and the fix; nothing is
 * skipped silently, nothing is parsed past its bounds, and the CLI never shows a stack trace.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, formatPath, type ConfigIssue } from '../../regions/config-error';
import { loadModel } from '../../regions/load';
import { MAX_FILE_BYTES, SourceFile } from '../../regions/source-file';
import { configError, regionsWithText, REGIONS_DIR, tempDir } from '../support/regions';
import { runSynth } from '../support/run';
import { readTree } from '../support/tree';

/** A copy of the shipped YAML files plus `extra` (name → text, or a function that makes it). */
function regionsPlus(extra: Record<string, string | ((dir: string) => void)>): string {
  const dir = tempDir('bb-regions-');
  for (const name of fs.readdirSync(REGIONS_DIR).filter((n) => n.endsWith('.yaml'))) fs.copyFileSync(path.join(REGIONS_DIR, name), path.join(dir, name));
  for (const [name, content] of Object.entries(extra)) {
    if (typeof content === 'string') fs.writeFileSync(path.join(dir, name), content);
    else content(dir);
  }
  return dir;
}

function lineOf(file: string, text: string): number {
  const lines = fs.readFileSync(path.join(REGIONS_DIR, file), 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(text));
  if (index === -1) throw new Error(`test setup: ${text} not in ${file}`);
  return index + 1;
}

function only(issues: readonly ConfigIssue[], file: string): ConfigIssue {
  const mine = issues.filter((i) => path.basename(i.file) === file);
  expect(mine, issues.map(formatIssue).join('\n\n')).toHaveLength(1);
  return mine[0];
}

describe('what YAML did to a value', () => {
  it('one syntax slip is one problem: a value on the key line with its block still below it, named at the key line, no guessed keys judged', () => {
    // The parser then trips over every line after: those are its echo, not problems of their own.
    const dir = regionsWithText('us-west-2.yaml', 'shards:', 'shards: null');
    const issue = only(configError(dir).issues, 'us-west-2.yaml');
    expect(issue.line).toBe(lineOf('us-west-2.yaml', 'shards:'));
    expect(issue.found).toMatch(/^"shards:" has a value on its line \(null\) and an indented block below it \(\d+ lines\)$/);
    expect(issue.fix).toBe('delete "null" after "shards:" if the block below is its value; otherwise un-indent the block');
  });

  it('one key indented deeper than the key above it is reported at that line, with the indent to use', () => {
    const dir = regionsWithText('us-west-2.yaml', '    maxReplicas: 1000', '     maxReplicas: 1000');
    const issue = only(configError(dir).issues, 'us-west-2.yaml');
    expect(issue.line).toBe(lineOf('us-west-2.yaml', '    maxReplicas: 1000'));
    expect(issue.found).toBe('this line is indented 5 spaces, deeper than "minReplicas:" on the line above (4), which already has a value: YAML reads it as part of that value');
    expect(issue.fix).toBe('indent this line by 4 spaces, as "minReplicas:" above it');
  });

  it('a parse error no rule explains keeps the parser\'s words, with the line it is about quoted', () => {
    const dir = regionsWithText('us-west-2.yaml', '    maxReplicas: 1000', '    maxReplicas: [1000');
    const issue = only(configError(dir).issues, 'us-west-2.yaml');
    expect(issue.found).toBe('Flow sequence in block collection must be sufficiently indented and end with a ], at "web:"');
    expect(issue.fix).toContain('often the line above it');
    // Several parse errors from one slip: the first is reported, the rest counted as its echo.
    const open = only(configError(regionsWithText('ap-southeast-1.yaml', '  web:', '  web: {')).issues, 'ap-southeast-1.yaml');
    expect(open.found).toMatch(/ \(and 2 more parse errors after it, most likely caused by this one\)$/);
  });


  it('an unquoted #alerts is a comment: found null, with the comment named and the quoting fix', () => {
    const dir = regionsWithText('global.yaml', 'slackChannel: "#bookedbarber-alerts"', 'slackChannel: #bookedbarber-alerts');
    const issue = only(configError(dir).issues, 'global.yaml');
    expect(issue.line).toBe(lineOf('global.yaml', 'slackChannel: "#bookedbarber-alerts"'));
    expect(issue.found).toBe('null — YAML read "#bookedbarber-alerts" as a comment (a # after a space starts one), so the value is empty; quote it: "#bookedbarber-alerts"');
    expect(issue.fix).toContain('slackChannel: "#bookedbarber-alerts"');
  });

  it('.nan is NaN and .inf is infinity, said as such (not "null")', () => {
    const dir = regionsWithText('us-east-1.yaml', 'rolloutWave: 1', 'rolloutWave: .nan');
    const issue = only(configError(dir).issues, 'us-east-1.yaml');
    expect(formatPath(issue.path)).toBe('rolloutWave');
    expect(issue.line).toBe(lineOf('us-east-1.yaml', 'rolloutWave: 1'));
    expect(issue.found).toMatch(/^NaN — YAML read \.nan as NaN \("not a number"\)/);
    expect(issue.fix).toContain('write a number for rolloutWave');
    const inf = only(configError(regionsWithText('us-east-1.yaml', 'rolloutWave: 1', 'rolloutWave: .inf')).issues, 'us-east-1.yaml');
    expect(inf.found).toMatch(/^Infinity — YAML read \.inf as infinity/);
  });

  it('a number written in exponent notation past a numeric bound gets the bound\'s fix, not "quote it for the text"', () => {
    const dir = regionsWithText('us-east-1.yaml', '    maxReplicas: 1000', '    maxReplicas: 1e9');
    const issue = only(configError(dir).issues, 'us-east-1.yaml');
    expect(formatPath(issue.path)).toBe('autoscaling.api.maxReplicas');
    expect(issue.found).toBe('1000000000 — YAML read 1e9 as 1000000000');
    expect(issue.fix).toBe('lower autoscaling.api.maxReplicas to 2000 or less');
  });

  it('a leading zero is not octal (YAML 1.2): 0755 in a text field is the number 755, with the quoting fix', () => {
    const dir = regionsWithText('us-east-1.yaml', '  name: bookedbarber-us-east-1', '  name: 0755');
    const issue = configError(dir).issues.find((i) => formatPath(i.path) === 'cluster.name')!;
    expect(issue.line).toBe(lineOf('us-east-1.yaml', '  name: bookedbarber-us-east-1'));
    expect(issue.found).toContain('755 — YAML read 0755 as the decimal number 755 (YAML 1.2: a leading 0 does not make it octal; octal is 0o755); quote it if you mean the text: "0755"');
    expect(issue.fix).toContain('cluster.name: "0755"');
  });

  it('True in a text field is a boolean, with the quoting fix', () => {
    const issue = configError(regionsWithText('us-east-1.yaml', '  name: bookedbarber-us-east-1', '  name: True')).issues.find((i) => formatPath(i.path) === 'cluster.name')!;
    expect(issue.found).toBe('true — YAML read True as a boolean; quote it if you mean the text: "True"');
  });

  it('yes/no/on/off stay text (YAML 1.2 core schema, not 1.1): no is the string "no", never false', () => {
    const issue = only(configError(regionsWithText('us-east-1.yaml', 'residency: us', 'residency: no')).issues, 'us-east-1.yaml');
    expect(issue.found).toBe('"no"');
  });

  it('a %YAML 1.1 line (yes = true, 0755 = octal) is refused before parsing', () => {
    const dir = regionsWithText('us-east-1.yaml', /^/, '%YAML 1.1\n---\n');
    const issue = only(configError(dir).issues, 'us-east-1.yaml');
    expect([issue.line, issue.column]).toEqual([1, 1]);
    expect(issue.found).toContain('%YAML 1.1');
    expect(issue.fix).toContain('delete the "%YAML 1.1" line');
  });

  it('an empty file says it holds nothing', () => {
    const issue = only(configError(regionsPlus({ 'us-east-1.yaml': '# nothing yet\n' })).issues, 'us-east-1.yaml');
    expect(issue.found).toContain('the file holds no YAML value');
  });
});

describe('YAML structure', () => {
  it('a second document (---) is named as such, not with the library\'s advice', () => {
    const dir = regionsWithText('us-east-1.yaml', 'rolloutWave: 1', 'rolloutWave: 1\n---\nname: other');
    const issue = only(configError(dir).issues, 'us-east-1.yaml');
    expect(issue.line).toBe(lineOf('us-east-1.yaml', 'rolloutWave: 1') + 1);
    expect(issue.found).toBe('a second YAML document: "---" starts one');
    expect(issue.fix).toContain('delete this "---" line');
    expect(formatIssue(issue)).not.toContain('parseAllDocuments');
  });

  it('merge-conflict markers are one problem naming the lines of all three markers', () => {
    const line = lineOf('us-east-1.yaml', 'rolloutWave: 1');
    const dir = regionsWithText('us-east-1.yaml', 'rolloutWave: 1', '<<<<<<< HEAD\nrolloutWave: 1\n=======\nrolloutWave: 2\n>>>>>>> feature/waves');
    const issue = only(configError(dir).issues, 'us-east-1.yaml');
    expect(issue.line).toBe(line);
    expect(issue.found).toBe(`a merge-conflict marker "<<<<<<< HEAD" (<<<<<<< at line ${line}, ======= at line ${line + 2}, >>>>>>> at line ${line + 4})`);
    expect(issue.fix).toContain('delete the <<<<<<<, ======= and >>>>>>> lines');
  });

  it('a duplicate key names both lines', () => {
    const first = lineOf('us-east-1.yaml', 'rolloutWave: 1');
    const dir = regionsWithText('us-east-1.yaml', 'rolloutWave: 1', 'rolloutWave: 1\nrolloutWave: 2');
    const issue = only(configError(dir).issues, 'us-east-1.yaml');
    expect(issue.line).toBe(first + 1);
    expect(formatPath(issue.path)).toBe('rolloutWave');
    expect(issue.found).toBe(`"rolloutWave" a second time (keys must be unique; the first is at line ${first})`);
    expect(issue.fix).toContain('YAML would silently keep only the last one');
  });

  it('a tab in the indentation is named with the fix', () => {
    const dir = regionsWithText('us-east-1.yaml', '  name: bookedbarber-us-east-1', '\tname: bookedbarber-us-east-1');
    const issue = configError(dir).issues[0];
    expect(issue.line).toBe(lineOf('us-east-1.yaml', '  name: bookedbarber-us-east-1'));
    expect(issue.found).toBe('a tab in the indentation');
    expect(issue.fix).toContain('replace the tab(s)');
  });

  it('a no-break space in the indentation is named, at its line, instead of the parser\'s words', () => {
    const dir = regionsWithText('us-west-2.yaml', '    minReplicas: 50', '\u00a0   minReplicas: 50');
    const issue = only(configError(dir).issues, 'us-west-2.yaml');
    expect(issue.line).toBe(lineOf('us-west-2.yaml', '    minReplicas: 50'));
    expect(issue.found).toBe('the character U+00A0 NO-BREAK SPACE in the indentation, at column 1');
    expect(issue.fix).toContain('with spaces');
  });

  it('a quote that never closes is reported at the line that opened it, not at the end of the file', () => {
    const line = lineOf('us-east-1.yaml', '  bucket: s3://bookedbarber-pitr-us-east-1');
    for (const quote of ['"', "'"]) {
      const dir = regionsWithText('us-east-1.yaml', '  bucket: s3://bookedbarber-pitr-us-east-1', `  bucket: ${quote}s3://bookedbarber-pitr-us-east-1`);
      const issue = only(configError(dir).issues, 'us-east-1.yaml');
      expect(issue.line, quote).toBe(line);
      expect(issue.found).toBe(`a ${quote === '"' ? 'double' : 'single'}-quoted value that never closes: ${JSON.stringify(`bucket: ${quote}s3://bookedbarber-pitr-us-east-1`)} (YAML reads every line after it into the value)`);
      expect(issue.fix).toBe(`add the closing ${quote} at the end of the value on this line, or remove the opening one`);
    }
  });

  it('a number written the way people write numbers gets the number to type', () => {
    const fixOf = (value: string) => only(configError(regionsWithText('us-east-1.yaml', 'rolloutWave: 1', `rolloutWave: ${value}`)).issues, 'us-east-1.yaml').fix;
    expect(fixOf('1_000')).toBe('write 1000: a plain number, without "_", "," or spaces');
    expect(fixOf('"1"')).toBe('write 1: a plain number, without quotes');
    expect(fixOf('1.5')).toBe('write a whole number for rolloutWave');
    expect(fixOf('1,000')).toBe('write 1000: a plain number, without "_", "," or spaces');
    // A decimal comma is not a thousands separator (a number field: the SLO's success rate).
    const rate = only(configError(regionsWithText('global.yaml', 'minSuccessRate: 0.999', 'minSuccessRate: "0,999"')).issues, 'global.yaml');
    expect(rate.fix).toBe('write 0.999: a decimal point, not a comma');
    // The same with a look-alike digit (full-width 9): the look-alike is named, the number fix is the same.
    const wide = only(configError(regionsWithText('global.yaml', 'minSuccessRate: 0.999', 'minSuccessRate: "0,99\uff19"')).issues, 'global.yaml');
    expect(wide.fix).toBe('write 0.999: a decimal point, not a comma');
    const half = only(configError(regionsWithText('us-east-1.yaml', 'rolloutWave: 1', 'rolloutWave: "1.\uff15"')).issues, 'us-east-1.yaml');
    expect(half.fix).toBe('write a whole number for rolloutWave');
    // A YAML surprise is the cause to fix: its own advice, not the generic type's.
    const none = only(configError(regionsWithText('us-east-1.yaml', 'rolloutWave: 1', 'rolloutWave: null')).issues, 'us-east-1.yaml');
    expect(none.found).toBe('null — null is YAML\'s "no value"; quote it if you mean the text: "null"');
    expect(none.fix).toBe('write a value for rolloutWave');
  });

  it('billion laughs: alias expansion beyond the bound is refused at the alias, fast', () => {
    const laughs = ['lol0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i <= 9; i++) laughs.push(`lol${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(',')}]`);
    const started = Date.now();
    const issue = only(configError(regionsPlus({ 'us-east-1.yaml': `${laughs.join('\n')}\n` })).issues, 'us-east-1.yaml');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(issue.line).toBeGreaterThan(1);
    expect(issue.found).toContain('more than 100,000 values');
    expect(issue.expected).toContain('aliases (*name) expanded');
  });

  it('anchors, aliases and merge keys (<<: *defaults) within the bound are read', () => {
    const source = new SourceFile('x.yaml', 'base: &b {p: 1, r: [1, 2]}\nm:\n  <<: *b\n  q: 2\nl: *b\n');
    expect(source.syntaxIssues).toEqual([]);
    expect(source.data).toEqual({ base: { p: 1, r: [1, 2] }, m: { p: 1, r: [1, 2], q: 2 }, l: { p: 1, r: [1, 2] } });
  });

  it('an alias inside its own anchor is refused', () => {
    const issue = only(configError(regionsWithText('us-east-1.yaml', 'rolloutWave: 1', 'rolloutWave: 1\nloop: &me [*me]')).issues, 'us-east-1.yaml');
    expect(issue.found).toBe('the alias *me inside its own anchor &me');
  });

  it('nesting 100,000 brackets deep is refused before parsing, fast', () => {
    const started = Date.now();
    const issue = only(configError(regionsPlus({ 'us-east-1.yaml': `x: ${'['.repeat(100_000)}\n` })).issues, 'us-east-1.yaml');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(issue.found).toContain('nested more than 100 levels deep');
  });

  it('a YAML tag such as !!binary is refused', () => {
    const issue = only(configError(regionsWithText('us-east-1.yaml', 'rolloutWave: 1', 'rolloutWave: !!binary AQ==')).issues, 'us-east-1.yaml');
    expect(issue.found).toBe('the YAML tag !!binary');
  });

  it('text that is not UTF-8 names the line and column of the first bad byte', () => {
    const latin1 = Buffer.concat([fs.readFileSync(path.join(REGIONS_DIR, 'us-east-1.yaml')), Buffer.from([0x23, 0x20, 0x63, 0x61, 0x66, 0xe9, 0x0a])]);
    const lines = fs.readFileSync(path.join(REGIONS_DIR, 'us-east-1.yaml'), 'utf8').split('\n').length;
    const issue = only(configError(regionsPlus({ x: (dir) => fs.writeFileSync(path.join(dir, 'us-east-1.yaml'), latin1) })).issues, 'us-east-1.yaml');
    expect([issue.line, issue.column]).toEqual([lines, 6]);
    expect(issue.found).toContain('not UTF-8');
    expect(issue.fix).toBe('save the file as UTF-8');
  });
});

describe('every file in regions/ is read, known, or refused by name', () => {
  it('the shipped folder (YAML, the model\'s *.ts, schema/) loads', () => {
    expect(() => loadModel(REGIONS_DIR)).not.toThrow();
  });

  it.each([
    ['us-east-1.yaml~', 'an editor backup'],
    ['us-east-1.yaml.bak', 'an editor backup'],
    ['us-east-1.yaml.orig', 'a merge leftover'],
    ['.us-east-1.yaml.swp', 'swap'],
    ['notes.txt', 'a file the loader does not read'],
  ])('%s is refused by name', (name, words) => {
    const issue = only(configError(regionsPlus({ [name]: 'name: us-east-1\n' })).issues, name);
    expect([issue.line, issue.column]).toEqual([1, 1]);
    expect(issue.found).toContain(`"${name}"`);
    expect(issue.found).toContain(words.split(' ').pop()!);
    expect(issue.fix).toContain(`${name}`);
  });

  it('a .yml file is refused with "rename to .yaml"', () => {
    const text = fs.readFileSync(path.join(REGIONS_DIR, 'us-east-1.yaml'), 'utf8').replace(/us-east-1/g, 'us-east-2');
    const issue = only(configError(regionsPlus({ 'us-east-2.yml': text })).issues, 'us-east-2.yml');
    expect(issue.found).toBe('"us-east-2.yml": region files must end in .yaml');
    expect(issue.fix).toBe('rename us-east-2.yml to us-east-2.yaml');
  });

  it('a folder other than schema/ is refused', () => {
    const issue = only(configError(regionsPlus({ old: (dir) => fs.mkdirSync(path.join(dir, 'old')) })).issues, 'old');
    expect(issue.found).toBe('"old", a folder the loader does not read');
  });

  it('a copy of a region file is one problem: "two files define us-east-1"', () => {
    const copy = fs.readFileSync(path.join(REGIONS_DIR, 'us-east-1.yaml'), 'utf8').replace('rolloutWave: 1', 'rolloutWave: 9');
    const { issues } = configError(regionsPlus({ 'us-east-1 copy.yaml': copy }));
    expect(issues.map(formatIssue).join('\n\n')).toBe(
      [
        `${issues[0].file}:${lineOf('us-east-1.yaml', 'name: us-east-1')}:1  name`,
        '    found:    two files define us-east-1: us-east-1.yaml and us-east-1 copy.yaml',
        '    expected: one file per region, named after it: a region name not used by us-east-1.yaml',
        '    fix:      delete us-east-1 copy.yaml if it is a copy; if it is a new region, give it its own name and rename the file to match',
      ].join('\n'),
    );
    expect(path.basename(issues[0].file)).toBe('us-east-1 copy.yaml');
  });

  it('a region file whose name: is another region\'s: "two files define", and the fix names its own', () => {
    const text = fs.readFileSync(path.join(REGIONS_DIR, 'us-west-2.yaml'), 'utf8').replace('name: us-west-2', 'name: us-east-1');
    const issue = only(configError(regionsPlus({ 'us-west-2.yaml': text })).issues, 'us-west-2.yaml');
    expect(issue.found).toBe('two files define us-east-1: us-east-1.yaml and us-west-2.yaml');
    expect(issue.fix).toBe('delete us-west-2.yaml if it is a copy; otherwise set its name to "us-west-2", its file name');
  });

  it('a symbolic link that loops is refused without a raw ELOOP', () => {
    const dir = regionsPlus({
      links: (d) => {
        fs.symlinkSync('b.yaml', path.join(d, 'a.yaml'));
        fs.symlinkSync('a.yaml', path.join(d, 'b.yaml'));
      },
    });
    const issue = only(configError(dir).issues, 'a.yaml');
    expect(issue.found).toBe('"a.yaml" is a symbolic link that loops (a.yaml -> b.yaml -> ... never reaches a file)');
    expect(issue.fix).toBe('replace a.yaml with the file it should point to');
  });

  it('a symbolic link out of regions/ is refused; one within it is read', () => {
    const outside = path.join(tempDir(), 'us-east-1.yaml');
    fs.copyFileSync(path.join(REGIONS_DIR, 'us-east-1.yaml'), outside);
    const dir = regionsPlus({ link: (d) => (fs.rmSync(path.join(d, 'us-east-1.yaml')), fs.symlinkSync(outside, path.join(d, 'us-east-1.yaml'))) });
    const issue = only(configError(dir).issues, 'us-east-1.yaml');
    expect(issue.found).toContain('is a symbolic link to');
    expect(issue.found).toContain('outside');
    const inside = regionsPlus({
      link: (d) => (fs.renameSync(path.join(d, 'us-east-1.yaml'), path.join(d, 'real.yaml.txt')), fs.symlinkSync('real.yaml.txt', path.join(d, 'us-east-1.yaml'))),
    });
    // real.yaml.txt itself is a stray file: the link is read, the target's name is refused.
    expect(configError(inside).issues.map((i) => path.basename(i.file))).toEqual(['real.yaml.txt']);
  });

  it(`a file over ${MAX_FILE_BYTES / 1024} KiB is refused from its size, before it is read`, () => {
    const dir = regionsPlus({ 'us-east-1.yaml': `name: us-east-1\n${'x: 1\n'.repeat(MAX_FILE_BYTES / 4)}` });
    const issue = only(configError(dir).issues, 'us-east-1.yaml');
    expect(issue.found).toMatch(/^a file of \d+ KiB \([\d,]+ bytes\); it was not read$/);
    expect(issue.expected).toBe('at most 256 KiB per file (region files are a few KiB)');
  });
});

describe('the CLI on broken files', () => {
  it('a 70 MB file is refused within 2 s of loading, exit 1, output unchanged, no stack trace', () => {
    const dir = regionsPlus({
      big: (d) => {
        const fd = fs.openSync(path.join(d, 'us-east-1.yaml'), 'a');
        const chunk = Buffer.from(`k: [${Array(200).fill('1').join(',')}]\n`.repeat(2000));
        for (let written = 0; written < 70 * 1024 * 1024; written += chunk.length) fs.writeSync(fd, chunk);
        fs.closeSync(fd);
      },
    });
    const out = path.join(tempDir('bb-out-'), 'dist');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.yaml'), 'as it was\n');
    const started = Date.now();
    expect(() => loadModel(dir)).toThrow(/it was not read/);
    expect(Date.now() - started).toBeLessThan(2000);
    const result = runSynth(['--regions', dir, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/us-east-1\.yaml:1:1 {2}\(document\)\n {4}found: {4}a file of 70\.\d MiB/);
    expect(result.stderr).toContain('fix:      this is not a hand-written region file');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(readTree(out)).toEqual({ 'keep.yaml': 'as it was\n' });
  });

  it('a looping symlink and a backup file: exit 1, both named, no stack trace', () => {
    const dir = regionsPlus({ 'us-west-2.yaml.bak': 'x', loop: (d) => fs.symlinkSync('loop.yaml', path.join(d, 'loop.yaml')) });
    const result = runSynth(['--regions', dir, '--out', path.join(tempDir('bb-out-'), 'dist')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('loop.yaml:1:1  (document)\n    found:    "loop.yaml" is a symbolic link that loops');
    expect(result.stderr).toContain('"us-west-2.yaml.bak", an editor backup');
    expect(result.stderr).not.toContain('ELOOP');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
