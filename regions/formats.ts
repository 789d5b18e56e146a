/**
 * Structured strings of the region model: parsers that say exactly what is wrong and how to fix
 * it (cron schedules, durations, Kubernetes quantities, URLs, host names, e-mail addresses, label
 * values), and the look-alike Unicode characters (en dash for '-', no-break space, curly quotes,
 * Cyrillic letters, zero-width characters) named by code point and position.
 *
 * schema-check.ts registers every format here with ajv (`format`, `formatMinimum`,
 * `formatMaximum` in the JSON Schema) and asks `explainString` for the message. Plain functions,
 * no I/O: regions/ imports no chart.
 */
import { QUANTITY_SUFFIXES } from './quantity';

/** What is wrong with a value: `found` describes it, `fix` says what to type instead. */
export interface Explanation {
  readonly found: string;
  readonly expected: string;
  readonly fix: string;
}

/** A problem of a value in one format: the detail after the value, and the fix. */
interface Problem {
  readonly detail: string;
  readonly fix: string;
  /** A value that still has a size (16Ei): when it is also out of bounds, say that first. */
  readonly measurable?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Look-alike characters

/** Code point → [Unicode name, the ASCII character it passes for ('' = invisible)]. */
const LOOK_ALIKES: ReadonlyMap<number, readonly [string, string]> = new Map<number, readonly [string, string]>([
  [0x2010, ['HYPHEN', '-']],
  [0x2011, ['NON-BREAKING HYPHEN', '-']],
  [0x2012, ['FIGURE DASH', '-']],
  [0x2013, ['EN DASH', '-']],
  [0x2014, ['EM DASH', '-']],
  [0x2015, ['HORIZONTAL BAR', '-']],
  [0x2212, ['MINUS SIGN', '-']],
  [0xfe58, ['SMALL EM DASH', '-']],
  [0xfe63, ['SMALL HYPHEN-MINUS', '-']],
  [0xff0d, ['FULLWIDTH HYPHEN-MINUS', '-']],
  [0x00a0, ['NO-BREAK SPACE', ' ']],
  [0x1680, ['OGHAM SPACE MARK', ' ']],
  [0x2000, ['EN QUAD', ' ']],
  [0x2001, ['EM QUAD', ' ']],
  [0x2002, ['EN SPACE', ' ']],
  [0x2003, ['EM SPACE', ' ']],
  [0x2004, ['THREE-PER-EM SPACE', ' ']],
  [0x2005, ['FOUR-PER-EM SPACE', ' ']],
  [0x2006, ['SIX-PER-EM SPACE', ' ']],
  [0x2007, ['FIGURE SPACE', ' ']],
  [0x2008, ['PUNCTUATION SPACE', ' ']],
  [0x2009, ['THIN SPACE', ' ']],
  [0x200a, ['HAIR SPACE', ' ']],
  [0x202f, ['NARROW NO-BREAK SPACE', ' ']],
  [0x205f, ['MEDIUM MATHEMATICAL SPACE', ' ']],
  [0x3000, ['IDEOGRAPHIC SPACE', ' ']],
  [0x00ad, ['SOFT HYPHEN', '']],
  [0x180e, ['MONGOLIAN VOWEL SEPARATOR', '']],
  [0x200b, ['ZERO WIDTH SPACE', '']],
  [0x200c, ['ZERO WIDTH NON-JOINER', '']],
  [0x200d, ['ZERO WIDTH JOINER', '']],
  [0x200e, ['LEFT-TO-RIGHT MARK', '']],
  [0x200f, ['RIGHT-TO-LEFT MARK', '']],
  [0x202a, ['LEFT-TO-RIGHT EMBEDDING', '']],
  [0x202b, ['RIGHT-TO-LEFT EMBEDDING', '']],
  [0x202c, ['POP DIRECTIONAL FORMATTING', '']],
  [0x202d, ['LEFT-TO-RIGHT OVERRIDE', '']],
  [0x202e, ['RIGHT-TO-LEFT OVERRIDE', '']],
  [0x2060, ['WORD JOINER', '']],
  [0x2066, ['LEFT-TO-RIGHT ISOLATE', '']],
  [0x2067, ['RIGHT-TO-LEFT ISOLATE', '']],
  [0x2068, ['FIRST STRONG ISOLATE', '']],
  [0x2069, ['POP DIRECTIONAL ISOLATE', '']],
  [0xfeff, ['ZERO WIDTH NO-BREAK SPACE (byte order mark)', '']],
  [0x2018, ['LEFT SINGLE QUOTATION MARK', "'"]],
  [0x2019, ['RIGHT SINGLE QUOTATION MARK', "'"]],
  [0x201a, ['SINGLE LOW-9 QUOTATION MARK', "'"]],
  [0x201b, ['SINGLE HIGH-REVERSED-9 QUOTATION MARK', "'"]],
  [0x2032, ['PRIME', "'"]],
  [0x00b4, ['ACUTE ACCENT', "'"]],
  [0x201c, ['LEFT DOUBLE QUOTATION MARK', '"']],
  [0x201d, ['RIGHT DOUBLE QUOTATION MARK', '"']],
  [0x201e, ['DOUBLE LOW-9 QUOTATION MARK', '"']],
  [0x201f, ['DOUBLE HIGH-REVERSED-9 QUOTATION MARK', '"']],
  [0x2033, ['DOUBLE PRIME', '"']],
  [0x00ab, ['LEFT-POINTING DOUBLE ANGLE QUOTATION MARK', '"']],
  [0x00bb, ['RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK', '"']],
  [0x2024, ['ONE DOT LEADER', '.']],
  [0x3002, ['IDEOGRAPHIC FULL STOP', '.']],
  [0xff0e, ['FULLWIDTH FULL STOP', '.']],
  [0x2044, ['FRACTION SLASH', '/']],
  [0x2215, ['DIVISION SLASH', '/']],
  [0xff1a, ['FULLWIDTH COLON', ':']],
  [0x2236, ['RATIO', ':']],
  [0x0131, ['LATIN SMALL LETTER DOTLESS I', 'i']],
  [0x0430, ['CYRILLIC SMALL LETTER A', 'a']],
  [0x0441, ['CYRILLIC SMALL LETTER ES', 'c']],
  [0x0435, ['CYRILLIC SMALL LETTER IE', 'e']],
  [0x04bb, ['CYRILLIC SMALL LETTER SHHA', 'h']],
  [0x0456, ['CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I', 'i']],
  [0x0458, ['CYRILLIC SMALL LETTER JE', 'j']],
  [0x043e, ['CYRILLIC SMALL LETTER O', 'o']],
  [0x0440, ['CYRILLIC SMALL LETTER ER', 'p']],
  [0x0455, ['CYRILLIC SMALL LETTER DZE', 's']],
  [0x0445, ['CYRILLIC SMALL LETTER HA', 'x']],
  [0x0443, ['CYRILLIC SMALL LETTER U', 'y']],
  [0x0501, ['CYRILLIC SMALL LETTER KOMI DE', 'd']],
  [0x0410, ['CYRILLIC CAPITAL LETTER A', 'A']],
  [0x0412, ['CYRILLIC CAPITAL LETTER VE', 'B']],
  [0x0415, ['CYRILLIC CAPITAL LETTER IE', 'E']],
  [0x041a, ['CYRILLIC CAPITAL LETTER KA', 'K']],
  [0x041c, ['CYRILLIC CAPITAL LETTER EM', 'M']],
  [0x041d, ['CYRILLIC CAPITAL LETTER EN', 'H']],
  [0x041e, ['CYRILLIC CAPITAL LETTER O', 'O']],
  [0x0420, ['CYRILLIC CAPITAL LETTER ER', 'P']],
  [0x0421, ['CYRILLIC CAPITAL LETTER ES', 'C']],
  [0x0422, ['CYRILLIC CAPITAL LETTER TE', 'T']],
  [0x0425, ['CYRILLIC CAPITAL LETTER HA', 'X']],
  [0x0406, ['CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I', 'I']],
  [0x03bf, ['GREEK SMALL LETTER OMICRON', 'o']],
  [0x03b1, ['GREEK SMALL LETTER ALPHA', 'a']],
  [0x03bd, ['GREEK SMALL LETTER NU', 'v']],
  [0x03c1, ['GREEK SMALL LETTER RHO', 'p']],
  [0x0391, ['GREEK CAPITAL LETTER ALPHA', 'A']],
  [0x0392, ['GREEK CAPITAL LETTER BETA', 'B']],
  [0x0395, ['GREEK CAPITAL LETTER EPSILON', 'E']],
  [0x039f, ['GREEK CAPITAL LETTER OMICRON', 'O']],
]);

/** How to type each ASCII character a look-alike passes for. */
const PLAIN: Readonly<Record<string, string>> = {
  '-': 'a plain hyphen-minus',
  ' ': 'a plain space',
  "'": "a plain apostrophe (')",
  '"': 'a plain double quote (")',
  '.': 'a plain full stop (.)',
  '/': 'a plain slash (/)',
  ':': 'a plain colon (:)',
};

export interface LookAlike {
  /** 1-based position in the value, counted in characters (code points). */
  readonly position: number;
  readonly codePoint: number;
  /** `U+2011 NON-BREAKING HYPHEN`. */
  readonly label: string;
  /** The ASCII character it passes for; '' for an invisible one; undefined when none. */
  readonly looksLike?: string;
}

function hex(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

function nameOf(codePoint: number): [string, string | undefined] {
  const known = LOOK_ALIKES.get(codePoint);
  if (known) return [known[0], known[1]];
  // Fullwidth ASCII (U+FF01..U+FF5E) is ASCII shifted by 0xFEE0.
  if (codePoint >= 0xff01 && codePoint <= 0xff5e) {
    const ascii = String.fromCodePoint(codePoint - 0xfee0);
    return [`FULLWIDTH FORM of '${ascii}'`, ascii];
  }
  const char = String.fromCodePoint(codePoint);
  if (/\p{Cf}|\p{Cc}/u.test(char)) return ['(an invisible control or format character)', ''];
  if (/\p{Zs}/u.test(char)) return ['(a space character)', ' '];
  for (const script of ['Cyrillic', 'Greek', 'Armenian', 'Cherokee']) {
    if (new RegExp(`\\p{Script=${script}}`, 'u').test(char)) return [`(a ${script} character '${char}')`, undefined];
  }
  return [`'${char}'`, undefined];
}

/** Every character of `text` outside printable ASCII (plus tab-free control characters). */
export function lookAlikes(text: string): LookAlike[] {
  const out: LookAlike[] = [];
  let position = 0;
  for (const char of text) {
    position += 1;
    const codePoint = char.codePointAt(0)!;
    if (codePoint >= 0x20 && codePoint < 0x7f) continue;
    if (codePoint === 0x0a) continue; // a newline is the YAML's, not a look-alike
    const [name, looksLike] = nameOf(codePoint);
    out.push({ position, codePoint, label: `${hex(codePoint)} ${name}`, ...(looksLike !== undefined ? { looksLike } : {}) });
  }
  return out;
}

/** `text` with every known look-alike replaced by its ASCII character (invisible ones removed). */
export function plainText(text: string): string {
  let out = '';
  for (const char of text) {
    const codePoint = char.codePointAt(0)!;
    const known = codePoint >= 0x20 && codePoint < 0x7f ? undefined : nameOf(codePoint)[1];
    out += known ?? char;
  }
  return out;
}

/**
 * Names the look-alike characters of a value that must be plain ASCII, or undefined if it has
 * none: `"us‑east‑1": the character U+2011 NON-BREAKING HYPHEN at position 3 looks like '-'`.
 */
export function explainLookAlikes(text: string): { found: string; fix: string } | undefined {
  const found = lookAlikes(text);
  if (found.length === 0) return undefined;
  const [first] = found;
  const looks =
    first.looksLike === undefined ? 'is not ASCII' : first.looksLike === '' ? 'is invisible' : `looks like '${first.looksLike}'`;
  const more = found.length > 1 ? ` (and ${found.length - 1} more such character${found.length > 2 ? 's' : ''} at position${found.length > 2 ? 's' : ''} ${found.slice(1).map((f) => f.position).join(', ')})` : '';
  const plain = plainText(text);
  const what =
    first.looksLike === undefined
      ? 'type it with plain ASCII characters'
      : first.looksLike === ''
        ? 'delete the invisible character'
        : `type ${PLAIN[first.looksLike] ?? `the plain letter '${first.looksLike}'`}`;
  const fix = lookAlikes(plain).length === 0 ? `${what}: ${JSON.stringify(plain)}` : what;
  return { found: `${JSON.stringify(text)}: the character ${first.label} at position ${first.position} ${looks}${more}`, fix };
}

// ---------------------------------------------------------------------------------------------
// Durations

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
const UNIT_NAMES: Readonly<Record<string, string>> = { ms: 'milliseconds', s: 'seconds', m: 'minutes', h: 'hours', d: 'days', w: 'weeks', y: 'years' };

/** The duration formats: which single unit suffixes each accepts. */
export const DURATION_FORMATS: Readonly<Record<string, readonly string[]>> = {
  /** Go-style as Argo Rollouts and Karpenter read it, one unit: 30s, 5m, 2h. */
  duration: ['s', 'm', 'h'],
  /** Prometheus retention: 12h, 15d, 2w. */
  'prometheus-duration': ['h', 'd', 'w'],
  /** Whole hours (Jaeger's retention, turned into daily indices). */
  hours: ['h'],
};

function unitList(units: readonly string[]): string {
  return units.join(', ');
}

/** Seconds of `amount` written in the largest of `units` that divides it. */
function inUnits(seconds: number, units: readonly string[]): string | undefined {
  const sorted = [...units].sort((a, b) => DURATION_UNITS[b] - DURATION_UNITS[a]);
  for (const unit of sorted) {
    const n = seconds / DURATION_UNITS[unit];
    if (Number.isInteger(n) && n >= 1) return `${n}${unit}`;
  }
  return undefined;
}

/** Seconds of a duration in the format, or a problem. */
export function parseDuration(text: string, format: string): number | Problem {
  const units = DURATION_FORMATS[format];
  const example = format === 'hours' ? '72h' : format === 'prometheus-duration' ? '15d' : '5m';
  const expectedUnits = `a whole number followed by one of ${unitList(units)}`;
  const trimmed = text.trim();
  if (trimmed !== text) return { detail: 'it has spaces around it', fix: `write ${JSON.stringify(trimmed)}` };
  if (/^[0-9]+$/.test(text)) {
    const guess = inUnits(Number(text), units);
    return { detail: 'a number without a unit', fix: `add the unit: ${guess ? `${guess} if it is ${text} seconds` : `e.g. ${text}${units[0]}`}` };
  }
  const parts = [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)([a-z\u00b5]+)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    return { detail: `not ${expectedUnits}`, fix: `write e.g. ${example}` };
  }
  let seconds = 0;
  for (const [, amount, unit] of parts) {
    if (DURATION_UNITS[unit] === undefined) return { detail: `"${unit}" is not a unit (${unitList(units)})`, fix: `write e.g. ${example}` };
    seconds += Number(amount) * DURATION_UNITS[unit];
  }
  const rewrite = inUnits(seconds, units);
  const instead = rewrite ? `write ${rewrite}` : `round it to whole ${UNIT_NAMES[units[0]]}`;
  if (parts.length > 1) return { detail: 'several units in one value', fix: `use one unit: ${instead}` };
  const [, amount, unit] = parts[0];
  if (!units.includes(unit)) return { detail: `unit "${unit}" (${UNIT_NAMES[unit]}) is not accepted here (${unitList(units)})`, fix: instead };
  if (amount.includes('.')) return { detail: 'a fraction', fix: `use whole numbers: ${instead}` };
  if (/^0[0-9]/.test(amount)) return { detail: 'a leading zero', fix: `write ${Number(amount)}${unit}` };
  if (seconds === 0) return { detail: 'zero', fix: `write e.g. ${example}` };
  return seconds;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes quantities

/** Every suffix Kubernetes knows: parseQuantity's (regions/quantity.ts) and the ones it does not read. */
const QUANTITY_SUFFIX: Readonly<Record<string, number>> = {
  ...QUANTITY_SUFFIXES, n: 1e-9, u: 1e-6, P: 1e15, E: 1e18, Pi: 1024 ** 5, Ei: 1024 ** 6,
};

/** What regions/quantity.ts (parseQuantity, used by the invariants and charts) accepts, by format. */
const SUPPORTED_SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  'k8s-cpu': ['', 'm'],
  'k8s-bytes': Object.keys(QUANTITY_SUFFIXES).filter((suffix) => suffix !== 'm'),
};

/** The value of a Kubernetes quantity (cores for k8s-cpu, bytes for k8s-bytes), or a problem. */
export function parseQuantityValue(text: string, format: string): number | Problem {
  const cpu = format === 'k8s-cpu';
  const example = cpu ? '500m or 2' : '512Mi or 10Gi';
  const m = /^([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)$/.exec(text.trim());
  if (!m) {
    if (/^-/.test(text)) return { detail: 'a negative quantity', fix: `write a positive quantity, e.g. ${example}` };
    if (/\s/.test(text.trim())) return { detail: 'it has a space inside', fix: `write the number and its suffix together: ${JSON.stringify(text.replace(/\s+/g, ''))}` };
    return { detail: 'not a Kubernetes quantity', fix: `write e.g. ${example}` };
  }
  if (m[0] !== text) return { detail: 'it has spaces around it', fix: `write ${JSON.stringify(text.trim())}` };
  const [, amount, suffix] = m;
  const supported = SUPPORTED_SUFFIXES[format];
  if (QUANTITY_SUFFIX[suffix] === undefined) {
    const fixes: Record<string, string> = { mi: 'Mi', gi: 'Gi', ki: 'Ki', ti: 'Ti', MB: 'M (or Mi)', GB: 'G (or Gi)', TB: 'T (or Ti)', MiB: 'Mi', GiB: 'Gi', TiB: 'Ti', KiB: 'Ki', K: 'k', Kb: 'k', KB: 'k' };
    const guess = fixes[suffix];
    return cpu
      ? { detail: `"${suffix}" is not a CPU unit`, fix: `write cores (e.g. 2) or millicores (e.g. 500m)` }
      : { detail: `"${suffix}" is not a Kubernetes quantity suffix (Ki, Mi, Gi, Ti, or k, M, G, T)`, fix: guess ? `write ${amount}${guess}` : `write e.g. ${example}` };
  }
  if (cpu && suffix !== '' && suffix !== 'm') {
    return { detail: `"${suffix}" is a size suffix, not a CPU unit`, fix: 'write cores (e.g. 2) or millicores (e.g. 500m)' };
  }
  if (!cpu && suffix === 'm') {
    return { detail: `"m" means milli: ${text} is ${Number(amount) / 1000} bytes`, fix: `write ${amount}Mi (mebibytes) or ${amount}M (megabytes)` };
  }
  const value = Number(amount) * QUANTITY_SUFFIX[suffix];
  if (cpu && suffix === 'm' && amount.includes('.')) return { detail: 'a fraction of a millicore', fix: `write ${Math.ceil(Number(amount))}m` };
  if (!supported.includes(suffix)) {
    // Still a number: the bound check explains how far off it is; parseQuantity cannot read it.
    return { detail: `suffix "${suffix}" is not one this generator reads (${supported.filter(Boolean).join(', ')})`, fix: `write it with one of those suffixes, e.g. ${example}`, measurable: true };
  }
  return value;
}

/** `18.4 EB`-style reading of a byte count, or cores, for messages. */
export function humanQuantity(value: number, format: string): string {
  if (format === 'k8s-cpu') return value < 1 ? `${Math.round(value * 1000)} millicores` : `${value} cores`;
  const units: Array<[string, number]> = [['EiB', 1024 ** 6], ['PiB', 1024 ** 5], ['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]];
  for (const [unit, size] of units) if (value >= size) return `${Number((value / size).toPrecision(4))} ${unit}`;
  return `${value} bytes`;
}

/** Reads a quantity even with an unsupported suffix (16Ei), for the bound message. */
function rawQuantity(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)$/.exec(text);
  if (!m || QUANTITY_SUFFIX[m[2]] === undefined) return undefined;
  return Number(m[1]) * QUANTITY_SUFFIX[m[2]];
}

// ---------------------------------------------------------------------------------------------
// Cron (the schedule the base-backup sidecar evaluates: charts/postgres/backup.ts)

const CRON_FIELDS: ReadonlyArray<{ name: string; min: number; max: number; names?: readonly string[] }> = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];
const CRON_MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export const CRON_EXPECTED =
  'a cron schedule of 5 fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12) day-of-week (0-7, 0 and 7 = Sunday); each field *, n, a-b, with /step, or a list of these (numbers only)';

/** The values each field selects, or a problem. */
export function parseCron(text: string): number[][] | Problem {
  const macro = CRON_MACROS[text.trim()];
  if (macro) return { detail: `the macro ${text.trim()} is not read by the backup sidecar`, fix: `write "${macro}"` };
  const fields = text.trim().split(/\s+/);
  if (fields.length === 6) return { detail: '6 fields (a seconds or year field, Quartz style)', fix: 'remove the seconds (first) or year (last) field: cron has 5 fields' };
  if (fields.length !== 5) return { detail: `${fields.length} field${fields.length === 1 ? '' : 's'}`, fix: 'write 5 fields: minute hour day-of-month month day-of-week, e.g. "15 2 * * *" (02:15 UTC daily)' };
  const selected: number[][] = [];
  for (const [i, field] of fields.entries()) {
    const spec = CRON_FIELDS[i];
    const values = new Set<number>();
    for (const part of field.split(',')) {
      const where = `${spec.name} "${part}"`;
      if (part === '') return { detail: `${spec.name} "${field}" has an empty list element`, fix: `remove the extra comma in "${field}"` };
      if (/[?LW#]/.test(part)) return { detail: `${where}: ? L W # are Quartz extensions`, fix: `use *, numbers, ranges, steps and lists in the ${spec.name}` };
      const m = /^([^/]+)(?:\/(.*))?$/.exec(part)!;
      const [, range, stepText] = m;
      let step = 1;
      if (stepText !== undefined) {
        if (!/^[0-9]+$/.test(stepText)) return { detail: `${where}: the step "${stepText}" is not a number`, fix: `write a whole step, e.g. ${spec.name === 'minute' ? '*/15' : '*/2'}` };
        step = Number(stepText);
        if (step === 0) return { detail: `${where}: a step of 0`, fix: 'use a step of 1 or more' };
        if (step > spec.max - spec.min) return { detail: `${where}: the step ${step} is larger than the ${spec.name} range ${spec.min}-${spec.max}`, fix: `use a step of at most ${spec.max - spec.min}, or a single value` };
      }
      let lo = spec.min;
      let hi = spec.max;
      if (range !== '*') {
        const bounds = range.split('-');
        if (bounds.length > 2 || bounds.some((b) => b === '')) return { detail: `${where} is not a number or a range a-b`, fix: `write e.g. ${spec.min}-${Math.min(spec.max, spec.min + 5)}` };
        const nums: number[] = [];
        for (const b of bounds) {
          const upper = b.toUpperCase();
          const named = spec.names?.indexOf(upper.slice(0, 3)) ?? -1;
          if (/^[A-Za-z]+$/.test(b)) {
            if (named >= 0 && upper.length === 3) {
              const n = named + (spec.name === 'month' ? 1 : 0);
              return { detail: `${where}: names are not read by the backup sidecar`, fix: `write ${n} for ${upper}` };
            }
            return { detail: `${where}: "${b}" is not a ${spec.name}`, fix: `write a number from ${spec.min} to ${spec.max}` };
          }
          if (!/^[0-9]+$/.test(b)) return { detail: `${where}: "${b}" is not a whole number`, fix: `write a number from ${spec.min} to ${spec.max}` };
          if (/^0[0-9]/.test(b)) return { detail: `${where}: a leading zero`, fix: `write ${Number(b)}, not ${b}` };
          const n = Number(b);
          if (n < spec.min || n > spec.max) return { detail: `${spec.name} ${n} is outside ${spec.min}-${spec.max}`, fix: `use ${spec.name === 'hour' ? 'an' : 'a'} ${spec.name} from ${spec.min} to ${spec.max}${spec.name === 'hour' && n === 24 ? ' (midnight is 0)' : ''}` };
          nums.push(n);
        }
        lo = nums[0];
        hi = nums[1] ?? nums[0];
        if (lo > hi) return { detail: `${where}: the range runs backwards`, fix: `write ${hi}-${lo}, or a list for a range that wraps around` };
        if (stepText !== undefined && bounds.length === 1) hi = spec.max; // n/s: from n to the end
      }
      for (let v = lo; v <= hi; v += step) values.add(spec.name === 'day of week' && v === 7 ? 0 : v);
    }
    selected.push([...values].sort((a, b) => a - b));
  }
  // A day of month no selected month has (31 2 *) never fires, unless the day of week also selects.
  const [, , dom, months] = selected;
  const domRestricted = fields[2] !== '*';
  const dowRestricted = fields[4] !== '*';
  if (domRestricted && !dowRestricted && !dom.some((d) => months.some((mo) => d <= DAYS_IN_MONTH[mo - 1]))) {
    return { detail: `day of month ${fields[2]} never occurs in month ${fields[3]}: the schedule never fires`, fix: 'choose a day of month every selected month has (1-28 always does)' };
  }
  return selected;
}

// ---------------------------------------------------------------------------------------------
// Names, host names, URLs, e-mail

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `label` is not an RFC 1123 label (as Kubernetes names require), or undefined. */
function labelProblem(label: string, what: string): Problem | undefined {
  if (label === '') return { detail: `an empty ${what} (two dots in a row, or a dot at an end)`, fix: 'remove the extra dot' };
  if (label.length > 63) return { detail: `the ${what} "${label.slice(0, 20)}..." has ${label.length} characters (RFC 1123: at most 63)`, fix: `shorten it to 63 characters` };
  // The fix is a label that passes, not one step towards it (Bookedbarber_TLS: lower case and "-" at once).
  const repaired = label.toLowerCase().replace(/_/g, '-');
  const passes = DNS_LABEL.test(repaired);
  if (/[A-Z]/.test(label)) return { detail: `upper-case letters in "${label}"`, fix: passes && repaired !== label.toLowerCase() ? `write "${repaired}" (lower case, "-" for "_")` : `write it in lower case: "${label.toLowerCase()}"` };
  if (/_/.test(label)) return { detail: `"_" in "${label}" (RFC 1123 allows a-z, 0-9 and "-")`, fix: `write "${repaired}"` };
  if (/^-|-$/.test(label)) return { detail: `"${label}" starts or ends with "-"`, fix: `remove the "-" at the ${label.startsWith('-') ? 'start' : 'end'}` };
  if (!DNS_LABEL.test(label)) {
    const bad = [...label].find((c) => !/[a-z0-9-]/.test(c));
    return { detail: `"${bad}" in "${label}" (RFC 1123 allows a-z, 0-9 and "-")`, fix: `remove "${bad}"` };
  }
  return undefined;
}

function hostnameProblem(host: string): Problem | undefined {
  const scheme = /^[a-z]+:\/\//i.exec(host);
  if (scheme) return { detail: 'a URL, not a host name', fix: `write the host name only: "${host.slice(scheme[0].length).split(/[/:]/)[0].toLowerCase()}"` };
  if (host.endsWith('.')) return { detail: 'a trailing dot', fix: `write "${host.slice(0, -1)}"` };
  if (host.length > 253) return { detail: `${host.length} characters (RFC 1123: a host name has at most 253)`, fix: 'shorten it' };
  const labels = host.split('.');
  if (labels.length < 2) return { detail: 'a single label, not a fully qualified name', fix: `write the full name, e.g. "${host}.example.com"` };
  for (const label of labels) {
    const problem = labelProblem(label, 'label');
    if (problem) return problem;
  }
  if (!/^[a-z]{2,63}$/.test(labels[labels.length - 1])) return { detail: `the top-level domain "${labels[labels.length - 1]}" is not letters`, fix: 'end the name with its top-level domain, e.g. .com' };
  return undefined;
}

function labelValueProblem(value: string): Problem | undefined {
  if (value.length > 63) return { detail: `${value.length} characters (a Kubernetes label value has at most 63)`, fix: 'shorten it to 63 characters' };
  if (!/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value)) {
    const bad = [...value].find((c) => !/[-A-Za-z0-9_.]/.test(c));
    if (bad) return { detail: `"${bad}" (a label value holds A-Z, a-z, 0-9, "-", "_" and ".")`, fix: `remove "${bad}"` };
    return { detail: 'it starts or ends with "-", "_" or "."', fix: 'start and end it with a letter or digit' };
  }
  return undefined;
}

/**
 * An image's version: a tag that is a label value, never "latest" (it moves: the same config would
 * run other code tomorrow), and without a digest or repository glued on (those have fields).
 */
function imageVersionProblem(value: string): Problem | undefined {
  const at = value.indexOf('@');
  if (at !== -1) {
    return { detail: 'a digest after the tag (the digest has a field of its own)', fix: `write version: ${JSON.stringify(value.slice(0, at))} and digest: ${JSON.stringify(value.slice(at + 1))}` };
  }
  if (value.includes('/') || value.includes(':')) {
    const tag = value.slice(Math.max(value.lastIndexOf(':'), value.lastIndexOf('/')) + 1);
    return { detail: 'a repository or "name:" before the tag (the repository has a field of its own)', fix: `write version: ${JSON.stringify(tag)} (the tag alone)` };
  }
  if (value.toLowerCase() === 'latest') return { detail: '"latest" moves: the same config would pull other code tomorrow', fix: 'pin the release: its version tag, e.g. 2.14.3' };
  return labelValueProblem(value);
}

/** An image repository: registry[:port]/path, lower case, without a tag or digest (they have fields). */
function imageRepositoryProblem(value: string): Problem | undefined {
  const scheme = /^[a-z]+:\/\//i.exec(value);
  if (scheme) return { detail: `a URL scheme ${JSON.stringify(scheme[0])} (an image reference has none)`, fix: `write ${JSON.stringify(value.slice(scheme[0].length))}` };
  const at = value.indexOf('@');
  if (at !== -1) return { detail: 'a digest after the repository (the digest has a field of its own)', fix: `write repository: ${JSON.stringify(value.slice(0, at))} and digest: ${JSON.stringify(value.slice(at + 1))}` };
  const slash = value.lastIndexOf('/');
  const colon = value.lastIndexOf(':');
  if (colon > slash && slash !== -1) {
    return { detail: `the tag ${JSON.stringify(value.slice(colon + 1))} after the repository (the version has a field of its own)`, fix: `write repository: ${JSON.stringify(value.slice(0, colon).toLowerCase())} and put the tag in version${value.slice(colon + 1) === 'latest' ? ' (a pinned release, never "latest")' : ''}` };
  }
  if (value !== value.toLowerCase()) return { detail: 'upper-case letters (repository names are lower case)', fix: `write ${JSON.stringify(value.toLowerCase())}` };
  if (slash === -1) return { detail: 'no registry or path (e.g. ghcr.io/<owner>/<image>)', fix: 'write the full repository: registry host, then the path' };
  return undefined;
}

function httpsUrlProblem(text: string): Problem | undefined {
  if (/\s/.test(text)) return { detail: 'whitespace in a URL', fix: 'remove the spaces (percent-encode a space as %20)' };
  if (text.length > 2048) return { detail: `${text.length} characters`, fix: 'use a URL of at most 2048 characters' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { detail: 'not a URL', fix: 'write a full URL, e.g. https://example.com/path' };
  }
  if (url.protocol === 'http:') return { detail: 'http://, which sends in plain text', fix: `write ${JSON.stringify(`https://${text.slice('http://'.length)}`)}` };
  if (url.protocol !== 'https:') return { detail: `the scheme ${url.protocol.replace(/:$/, '')}`, fix: 'use an https:// URL' };
  if (url.username || url.password) return { detail: 'credentials in the URL', fix: 'remove user:password@ (credentials come from the secret store)' };
  const problem = hostnameProblem(url.hostname);
  if (problem) return { detail: `host "${url.hostname}": ${problem.detail}`, fix: problem.fix };
  return undefined;
}

function emailProblem(text: string): Problem | undefined {
  const angle = /<([^>]*)>/.exec(text);
  if (angle) return { detail: 'a display name with the address', fix: `write the address only: "${angle[1]}"` };
  if (text.length > 254) return { detail: `${text.length} characters (RFC 5321: at most 254)`, fix: 'use a shorter address' };
  const at = text.split('@');
  if (at.length !== 2) return { detail: at.length === 1 ? 'no "@"' : 'more than one "@"', fix: 'write one address, e.g. ops@example.com' };
  const [local, domain] = at;
  if (local === '' || local.length > 64) return { detail: `the part before "@" has ${local.length} characters (RFC 5321: 1 to 64)`, fix: 'use a mailbox name of 1 to 64 characters' };
  if (!/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local)) return { detail: `the mailbox "${local}" is not a plain RFC 5322 dot-atom`, fix: 'use letters, digits and . _ + - in the mailbox, no leading, trailing or double dots' };
  const problem = hostnameProblem(domain);
  if (problem) return { detail: `domain "${domain}": ${problem.detail}`, fix: problem.fix };
  return undefined;
}

function hostPortProblem(text: string): Problem | undefined {
  const m = /^(.*):([0-9]+)$/.exec(text);
  if (!m) return { detail: 'no ":port"', fix: `write host:port, e.g. "${text}:587"` };
  const problem = hostnameProblem(m[1]);
  if (problem) return { detail: `host "${m[1]}": ${problem.detail}`, fix: problem.fix };
  const port = Number(m[2]);
  if (port < 1 || port > 65535 || /^0/.test(m[2])) return { detail: `port ${m[2]} (TCP ports are 1-65535)`, fix: 'use the relay\'s port, e.g. 587 (submission) or 465' };
  return undefined;
}

function gitRefProblem(text: string): Problem | undefined {
  // git check-ref-format, the parts a branch or tag name in a config can get wrong.
  if (/\s/.test(text)) return { detail: 'whitespace in a branch or tag name', fix: 'remove the spaces' };
  if (/\.\.|\/\/|@\{|[~^:?*[\\]/.test(text)) return { detail: 'a sequence git forbids in a ref name (.., //, @{, ~ ^ : ? * [ \\)', fix: 'use the branch or tag exactly as git shows it' };
  if (/^[/.-]|[/.]$|\.lock$|\/\./.test(text)) return { detail: 'a ref name starting with / . or -, ending with / . or .lock, or a component starting with "."', fix: 'use the branch or tag exactly as git shows it' };
  return undefined;
}

function dateProblem(text: string): Problem | undefined {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(text);
  if (!m) return { detail: 'not YYYY-MM-DD', fix: 'write the date as YYYY-MM-DD, e.g. 2026-12-06' };
  const [y, mo, d] = m.slice(1).map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return { detail: 'no such day in the calendar', fix: 'write a real date' };
  return undefined;
}

function bucketProblem(text: string): Problem | undefined {
  const m = /^(s3|gs):\/\/([^/]*)(\/.*)?$/.exec(text);
  if (!m) return { detail: 'not s3://<bucket>[/prefix] or gs://<bucket>[/prefix]', fix: 'write e.g. s3://my-bucket' };
  const bucket = m[2];
  if (bucket.length < 3 || bucket.length > 63) return { detail: `the bucket name has ${bucket.length} characters (S3 and GCS: 3 to 63)`, fix: 'use a bucket name of 3 to 63 characters' };
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket) || bucket.includes('..')) return { detail: `the bucket name "${bucket}" (lower-case letters, digits, "." and "-", starting and ending with a letter or digit)`, fix: `write "${bucket.toLowerCase().replace(/_/g, '-')}"` };
  if (/^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/.test(bucket)) return { detail: 'a bucket name shaped like an IP address', fix: 'use the bucket\'s name' };
  if ((m[3] ?? '').length > 1024) return { detail: 'a prefix longer than 1024 bytes (the S3 key limit)', fix: 'shorten the prefix' };
  return undefined;
}

/** An IPv4 CIDR block as a network address and prefix, e.g. 10.20.0.0/16. */
export interface Cidr {
  readonly first: number;
  readonly last: number;
}

/**
 * A VPC CIDR block: AWS takes /16 to /28 and only the network address (10.20.0.0/16, not
 * 10.20.1.0/16); the same text is valid in a Service's loadBalancerSourceRanges.
 */
export function parseCidr(text: string): Cidr | Problem {
  const m = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\/([0-9]{1,2})$/.exec(text);
  if (!m) return { detail: 'not an IPv4 CIDR block a.b.c.d/prefix', fix: 'write the block as the VPC shows it, e.g. 10.20.0.0/16' };
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o, i) => o > 255 || /^0[0-9]/.test(m[i + 1]!))) return { detail: 'an address part above 255 or with a leading zero', fix: 'write each of the four parts as 0-255 without leading zeros' };
  const prefix = Number(m[5]);
  if (prefix < 16 || prefix > 28) return { detail: `prefix /${prefix} (a VPC CIDR block is /16 to /28)`, fix: 'use the VPC\'s CIDR block, /16 to /28' };
  const address = ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  if (network !== address) {
    const n = [network >>> 24, (network >>> 16) & 255, (network >>> 8) & 255, network & 255].join('.');
    return { detail: `host bits set: the block of ${text} starts at ${n}`, fix: `write ${n}/${prefix} (the VPC's block), or the prefix it really has` };
  }
  return { first: network, last: network + size - 1 };
}

/** Characters a request path may carry unencoded (the model's pattern): printable ASCII but space " ' \ `. */
const PATH_CHAR = /[!#-&(-\[\]-_a-~]/;

function requestPathProblem(text: string): Problem | undefined {
  if (!text.startsWith('/')) return { detail: 'not starting with "/"', fix: `write "/${text.replace(/^\/*/, '')}"` };
  const chars = [...text];
  const bad = chars.find((c) => !PATH_CHAR.test(c));
  if (bad !== undefined) {
    // Every character that cannot stay, encoded at once: the fix passes on the next run.
    const encode = (c: string) => (PATH_CHAR.test(c) ? c : [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
    return { detail: `${JSON.stringify(bad)} at position ${chars.indexOf(bad) + 1}, which a request line cannot carry as it is`, fix: `percent-encode it: "${chars.map(encode).join('')}"` };
  }
  return undefined;
}

function regionUrlTemplateProblem(text: string): Problem | undefined {
  const scheme = /^(https?):\/\//.exec(text);
  if (!scheme) return { detail: 'no http:// or https:// at the start', fix: `write "https://${text.replace(/^[a-z]*:?\/*/i, '')}"` };
  if (!text.includes('{region}')) return { detail: 'no {region} in it: every region would write to the same cluster', fix: 'put {region} where the region name goes in the host, e.g. "https://traces-{region}.bookedbarber.internal:9200"' };
  const bad = [...text].find((c) => !/[!-~]/.test(c));
  if (bad !== undefined) return { detail: `${JSON.stringify(bad)} in the URL`, fix: 'remove it (a URL has no spaces or non-ASCII characters)' };
  if (/\/[^/]/.test(text.slice(scheme[0].length))) return { detail: 'a path after the host', fix: 'write the scheme, host and port only (Jaeger adds the index path)' };
  return undefined;
}

function pemCertificateProblem(text: string): Problem | undefined {
  if (!text.startsWith('-----BEGIN CERTIFICATE-----\n')) return { detail: 'not starting with a "-----BEGIN CERTIFICATE-----" line', fix: 'paste the CA certificate as PEM in a literal block (caCertificate: |), from its BEGIN line' };
  if (!/\n-----END CERTIFICATE-----\n?$/.test(text)) return { detail: 'not ending with a "-----END CERTIFICATE-----" line', fix: 'paste the whole certificate, up to and including its END line' };
  if (!/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+\n-----END CERTIFICATE-----\n?$/.test(text)) return { detail: 'more than one certificate, or characters that are not base64 between BEGIN and END', fix: 'give the one CA certificate that signed Vault\'s certificate, as PEM' };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The registry

interface FormatDefinition {
  /** What a valid value looks like, for `expected`. */
  readonly expected: string;
  /** A problem, or undefined when the value is valid. */
  readonly problem: (text: string) => Problem | undefined;
  /** A number to compare `formatMinimum`/`formatMaximum` with (durations in seconds, quantities in cores or bytes). */
  readonly measure?: (text: string) => number | undefined;
  /** How to show a measured value in a message. */
  readonly show?: (value: number) => string;
}

const asProblem = <T>(result: T | Problem): Problem | undefined => (typeof result === 'object' && result !== null && 'detail' in result ? result : undefined);
const durationFormat = (format: string): FormatDefinition => ({
  expected: `a duration: a whole number followed by one of ${unitList(DURATION_FORMATS[format])} (${format === 'hours' ? 'e.g. 72h' : format === 'duration' ? 'e.g. 30s, 5m, 2h' : 'e.g. 12h, 31d, 2w'})`,
  problem: (text) => asProblem(parseDuration(text, format)),
  measure: (text) => {
    const r = parseDuration(text, format);
    if (typeof r === 'number') return r;
    const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w|y)$/.exec(text);
    return m ? Number(m[1]) * DURATION_UNITS[m[2]] : undefined;
  },
  show: (seconds) => inUnits(seconds, ['s', 'm', 'h', 'd']) ?? `${seconds}s`,
});
const quantityFormat = (format: string): FormatDefinition => ({
  expected:
    format === 'k8s-cpu'
      ? 'a Kubernetes CPU quantity: cores (2, 0.5) or millicores (500m)'
      : 'a Kubernetes byte quantity: a number with Ki, Mi, Gi, Ti (binary) or k, M, G, T (decimal), e.g. 512Mi, 10Gi',
  problem: (text) => asProblem(parseQuantityValue(text, format)),
  measure: (text) => rawQuantity(text.trim()),
  show: (value) => humanQuantity(value, format),
});
const simple = (expected: string, problem: (text: string) => Problem | undefined): FormatDefinition => ({ expected, problem });

export const FORMATS: Readonly<Record<string, FormatDefinition>> = {
  duration: durationFormat('duration'),
  'prometheus-duration': durationFormat('prometheus-duration'),
  hours: durationFormat('hours'),
  'k8s-cpu': quantityFormat('k8s-cpu'),
  'k8s-bytes': quantityFormat('k8s-bytes'),
  cron: simple(CRON_EXPECTED, (text) => asProblem(parseCron(text))),
  'dns-label': simple('an RFC 1123 label: at most 63 characters, a-z, 0-9 and "-", starting and ending with a letter or digit', (text) => labelProblem(text, 'name')),
  hostname: simple('an RFC 1123 host name: dot-separated labels of a-z, 0-9 and "-" (each at most 63 characters), at most 253 in all, ending with a top-level domain', hostnameProblem),
  'label-value': simple('a Kubernetes label value: at most 63 characters, A-Z a-z 0-9 - _ ., starting and ending with a letter or digit', labelValueProblem),
  'image-version': simple('a release version tag (a Kubernetes label value: at most 63 characters, A-Z a-z 0-9 - _ .), never "latest", without repository or digest', imageVersionProblem),
  'image-repository': simple('an image repository without tag or digest, lower case: registry[:port]/path, e.g. ghcr.io/bookedbarber/booking-api', imageRepositoryProblem),
  'https-url': simple('an https:// URL with a host name, no credentials, at most 2048 characters', httpsUrlProblem),
  email: simple('an e-mail address (RFC 5321/5322): mailbox@domain, plain ASCII, at most 254 characters', emailProblem),
  'host-port': simple('host:port, an RFC 1123 host name and a TCP port 1-65535', hostPortProblem),
  'git-ref': simple('a git branch or tag name (git check-ref-format)', gitRefProblem),
  date: simple('a calendar date YYYY-MM-DD', dateProblem),
  'ipv4-cidr': simple('an IPv4 CIDR block of a VPC: the network address and a prefix of /16 to /28, e.g. 10.20.0.0/16', (text) => asProblem(parseCidr(text))),
  'request-path': simple('an HTTP request path: "/" then printable ASCII (no space, quotes, backslash or backquote: percent-encode them)', requestPathProblem),
  'region-url-template': simple('an http(s) URL of scheme, host and optional port with {region} where the region name goes, e.g. https://traces-{region}.bookedbarber.internal:9200', regionUrlTemplateProblem),
  'pem-certificate': simple('one PEM certificate: a -----BEGIN CERTIFICATE----- line, base64 lines, an -----END CERTIFICATE----- line', pemCertificateProblem),
  'bucket-url': simple('s3://<bucket>[/prefix] or gs://<bucket>[/prefix], the bucket name 3-63 characters of a-z 0-9 . -', bucketProblem),
};

/** Does `text` pass the format (without bounds)? What ajv's `format` keyword calls. */
export function isValidFormat(format: string, text: string): boolean {
  return lookAlikes(text).length === 0 && FORMATS[format].problem(text) === undefined;
}

/** Is `text` within `formatMinimum`/`formatMaximum`? (A value that does not parse passes: `format` reports it.) */
export function withinFormatBound(format: string, text: string, limit: string, side: 'min' | 'max'): boolean {
  const measure = FORMATS[format]?.measure;
  if (!measure) throw new Error(`format ${format} has no order: formatMinimum/formatMaximum cannot apply`);
  const value = measure(text);
  const bound = measure(limit);
  if (bound === undefined) throw new Error(`bound ${limit} is not a valid ${format}`);
  if (value === undefined) return true;
  return side === 'max' ? value <= bound : value >= bound;
}

/** The schema keywords of a string field the explanation reads. */
export interface StringSchema {
  readonly format?: string;
  readonly formatMinimum?: string;
  readonly formatMaximum?: string;
  readonly pattern?: string;
  readonly maxLength?: number;
  readonly minLength?: number;
  readonly description?: string;
}

/**
 * Why `text` fails its string schema, with the fix, for `field` (the dotted path shown in the
 * fix). Look-alike characters come first: they are the cause a reader cannot see.
 */
export function explainString(text: string, schema: StringSchema, field: string): Explanation {
  const about = schema.description ? ` (${schema.description})` : '';
  const def = schema.format ? FORMATS[schema.format] : undefined;
  const bounds =
    schema.formatMinimum && schema.formatMaximum
      ? `, from ${schema.formatMinimum} to ${schema.formatMaximum}`
      : schema.formatMaximum
        ? `, at most ${schema.formatMaximum}`
        : schema.formatMinimum
          ? `, at least ${schema.formatMinimum}`
          : '';
  const expected = `${def ? def.expected : schema.pattern ? `a value matching ${schema.pattern}` : 'a string'}${bounds}${about}`;
  const lookAlike = explainLookAlikes(text);
  if (lookAlike) return { found: lookAlike.found, expected, fix: lookAlike.fix };
  if (schema.maxLength !== undefined && [...text].length > schema.maxLength) {
    return { found: `${JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text)}: ${[...text].length} characters`, expected: `at most ${schema.maxLength} characters; ${expected}`, fix: `shorten ${field} to ${schema.maxLength} characters or fewer` };
  }
  if (schema.minLength !== undefined && [...text].length < schema.minLength) {
    return { found: JSON.stringify(text), expected: `at least ${schema.minLength} character${schema.minLength === 1 ? '' : 's'}; ${expected}`, fix: `fill in ${field}` };
  }
  if (def) {
    const problem = def.problem(text);
    const measure = def.measure;
    if (problem && !(problem.measurable && outOfBounds(text, schema))) {
      return { found: `${JSON.stringify(text)}: ${problem.detail}`, expected, fix: problem.fix };
    }
    if (measure && def.show) {
      const value = measure(text);
      if (value !== undefined) {
        const shown = def.show(value);
        const show = () => (shown === text ? JSON.stringify(text) : `${JSON.stringify(text)} (${shown})`);
        if (schema.formatMaximum && !withinFormatBound(schema.format!, text, schema.formatMaximum, 'max')) {
          return { found: `${show()}: above the maximum ${schema.formatMaximum}`, expected, fix: `lower ${field} to ${schema.formatMaximum} or less` };
        }
        if (schema.formatMinimum && !withinFormatBound(schema.format!, text, schema.formatMinimum, 'min')) {
          return { found: `${show()}: below the minimum ${schema.formatMinimum}`, expected, fix: `raise ${field} to ${schema.formatMinimum} or more` };
        }
      }
    }
    if (problem) return { found: `${JSON.stringify(text)}: ${problem.detail}`, expected, fix: problem.fix };
  }
  if (schema.pattern) {
    // A near miss the pattern accepts (case, surrounding spaces, '_' for '-') is the likely intent.
    const pattern = new RegExp(schema.pattern, 'u');
    const guesses = [text.trim(), text.trim().toLowerCase(), text.trim().toLowerCase().replace(/[_ ]/g, '-')];
    const guess = guesses.find((g) => g !== text && pattern.test(g));
    if (guess !== undefined) return { found: JSON.stringify(text), expected, fix: `write ${JSON.stringify(guess)}` };
    return { found: JSON.stringify(text), expected, fix: `change ${field} so that it matches ${schema.pattern}` };
  }
  return { found: JSON.stringify(text), expected, fix: `write ${field} as ${def ? def.expected.split(':')[0] : 'described'}` };
}

function outOfBounds(text: string, schema: StringSchema): boolean {
  if (!schema.format) return false;
  return (
    (schema.formatMaximum !== undefined && !withinFormatBound(schema.format, text, schema.formatMaximum, 'max')) ||
    (schema.formatMinimum !== undefined && !withinFormatBound(schema.format, text, schema.formatMinimum, 'min'))
  );
}
