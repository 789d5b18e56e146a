/**
 * The structured-string parsers of regions/formats.ts on their own: what each accepts, what it
 * refuses, and that every refusal says why and what to type instead. (Issue 15 item 2.)
 */
import { describe, expect, it } from 'vitest';
import { ImageRelease } from '../../regions/model';
import { explainLookAlikes, explainString, isValidFormat, lookAlikes, parseCron, parseDuration, parseQuantityValue, withinFormatBound } from '../../regions/formats';

describe('look-alike characters', () => {
  it('names the character, its code point and its position, and gives the plain value', () => {
    expect(explainLookAlikes('us\u2011east\u20111')).toEqual({
      found: '"us‑east‑1": the character U+2011 NON-BREAKING HYPHEN at position 3 looks like \'-\' (and 1 more such character at position 8)',
      fix: 'type a plain hyphen-minus: "us-east-1"',
    });
  });

  it.each([
    ['en dash', 'eu\u2013west-1', 'U+2013 EN DASH', "looks like '-'", 'eu-west-1'],
    ['no-break space', '15\u00a02 * * *', 'U+00A0 NO-BREAK SPACE', "looks like ' '", '15 2 * * *'],
    ['curly quote', '\u201clocations\u201d', 'U+201C LEFT DOUBLE QUOTATION MARK', 'looks like \'"\'', '"locations"'],
    ['Cyrillic letter', '\u0430p-southeast-1', 'U+0430 CYRILLIC SMALL LETTER A', "looks like 'a'", 'ap-southeast-1'],
    ['zero-width space', 'bookedbarber\u200b', 'U+200B ZERO WIDTH SPACE', 'is invisible', 'bookedbarber'],
    ['byte order mark', '\ufeffmain', 'U+FEFF ZERO WIDTH NO-BREAK SPACE (byte order mark)', 'is invisible', 'main'],
    ['fullwidth letter', 'ｍain', "U+FF4D FULLWIDTH FORM of 'm'", "looks like 'm'", 'main'],
  ])('%s', (_, text, label, looks, plain) => {
    const explained = explainLookAlikes(text)!;
    expect(explained.found).toContain(`the character ${label}`);
    expect(explained.found).toContain(looks);
    expect(explained.fix).toContain(JSON.stringify(plain));
  });

  it('plain ASCII has none; a character with no ASCII twin is still named', () => {
    expect(lookAlikes('us-east-1')).toEqual([]);
    expect(explainLookAlikes('caf\u00e9')!.found).toContain('U+00E9');
  });
});

describe('cron schedules (the backup sidecar: 5 numeric fields)', () => {
  it.each(['15 2 * * *', '0 */6 * * *', '0 2 * * 0', '0 2 * * 7', '0 1-5/2 * * 1-5', '0,30 2 1,15 * *', '5/10 * * * *', '0 0 29 2 *'])('accepts %s', (cron) => {
    expect(Array.isArray(parseCron(cron))).toBe(true);
  });

  it.each([
    ['15 25 * * *', 'hour 25 is outside 0-23', 'use an hour from 0 to 23'],
    ['60 2 * * *', 'minute 60 is outside 0-59', 'use a minute from 0 to 59'],
    ['0 24 * * *', 'hour 24 is outside 0-23', '(midnight is 0)'],
    ['0 2 0 * *', 'day of month 0 is outside 1-31', 'from 1 to 31'],
    ['0 2 * 13 *', 'month 13 is outside 1-12', 'from 1 to 12'],
    ['0 2 * * 8', 'day of week 8 is outside 0-7', 'from 0 to 7'],
    ['15 2 * *', '4 fields', 'write 5 fields'],
    ['0 15 2 * * *', '6 fields', 'remove the seconds'],
    ['0 2 * * MON', 'names are not read', 'write 1 for MON'],
    ['0 2 * JAN *', 'names are not read', 'write 1 for JAN'],
    ['@daily', 'macro @daily', 'write "0 0 * * *"'],
    ['*/0 * * * *', 'a step of 0', 'step of 1 or more'],
    ['*/90 * * * *', 'step 90 is larger', 'at most 59'],
    ['0 5-2 * * *', 'runs backwards', 'write 2-5'],
    ['05 2 * * *', 'leading zero', 'write 5, not 05'],
    ['0 2 ? * *', 'Quartz', 'use *, numbers'],
    ['0 2 31 2 *', 'never fires', '1-28'],
    ['0 2 1,,2 * *', 'empty list element', 'extra comma'],
  ])('refuses %s: %s', (cron, detail, fix) => {
    const result = parseCron(cron);
    expect(Array.isArray(result)).toBe(false);
    expect(result).toMatchObject({ detail: expect.stringContaining(detail), fix: expect.stringContaining(fix) });
  });

  it('lists the values each field selects (7 is Sunday, like 0)', () => {
    expect(parseCron('0,30 1-5/2 * * 7')).toEqual([[0, 30], [1, 3, 5], Array.from({ length: 31 }, (_, i) => i + 1), Array.from({ length: 12 }, (_, i) => i + 1), [0]]);
  });
});

describe('durations', () => {
  it('reads one whole number and one unit, in seconds', () => {
    expect(parseDuration('90s', 'duration')).toBe(90);
    expect(parseDuration('2h', 'duration')).toBe(7200);
    expect(parseDuration('31d', 'prometheus-duration')).toBe(31 * 86400);
    expect(parseDuration('72h', 'hours')).toBe(72 * 3600);
  });

  it.each([
    ['1.5h', 'duration', 'a fraction', 'write 90m'],
    ['1h30m', 'duration', 'several units', 'write 90m'],
    ['30d', 'duration', 'unit "d" (days) is not accepted', 'write 720h'],
    ['90', 'duration', 'without a unit', '90s'],
    ['3d', 'hours', 'not accepted here (h)', 'write 72h'],
    ['5 m', 'duration', 'not a whole number', 'e.g. 5m'],
    ['0s', 'duration', 'zero', 'e.g. 5m'],
    ['5x', 'duration', '"x" is not a unit', 'e.g. 5m'],
  ])('refuses %s (%s): %s', (text, format, detail, fix) => {
    expect(parseDuration(text, format)).toMatchObject({ detail: expect.stringContaining(detail), fix: expect.stringContaining(fix) });
  });

  it('bounds compare the parsed time, whatever the unit', () => {
    expect(withinFormatBound('duration', '999999h', '20m', 'max')).toBe(false);
    expect(withinFormatBound('duration', '1200s', '20m', 'max')).toBe(true);
    expect(withinFormatBound('prometheus-duration', '2w', '400d', 'max')).toBe(true);
    expect(withinFormatBound('prometheus-duration', '1h', '2h', 'min')).toBe(false);
  });
});

describe('Kubernetes quantities', () => {
  it('reads CPU in cores and sizes in bytes', () => {
    expect(parseQuantityValue('500m', 'k8s-cpu')).toBe(0.5);
    expect(parseQuantityValue('2', 'k8s-cpu')).toBe(2);
    expect(parseQuantityValue('512Mi', 'k8s-bytes')).toBe(512 * 1024 ** 2);
    expect(parseQuantityValue('1G', 'k8s-bytes')).toBe(1e9);
  });

  it.each([
    ['512m', 'k8s-bytes', '"m" means milli', 'write 512Mi (mebibytes) or 512M (megabytes)'],
    ['16GB', 'k8s-bytes', '"GB" is not a Kubernetes quantity suffix', 'write 16G (or Gi)'],
    ['4gi', 'k8s-bytes', '"gi" is not', 'write 4Gi'],
    ['2Gi', 'k8s-cpu', 'is a size suffix, not a CPU unit', 'millicores'],
    ['1.5m', 'k8s-cpu', 'a fraction of a millicore', 'write 2m'],
    ['-1', 'k8s-cpu', 'a negative quantity', 'positive'],
    ['16Ei', 'k8s-bytes', 'suffix "Ei" is not one this generator reads', 'e.g. 512Mi'],
    ['512 Mi', 'k8s-bytes', 'a space inside', '"512Mi"'],
  ])('refuses %s (%s)', (text, format, detail, fix) => {
    expect(parseQuantityValue(text, format)).toMatchObject({ detail: expect.stringContaining(detail), fix: expect.stringContaining(fix) });
  });

  it('a size far out of bounds says how large it is before it says the suffix is unknown', () => {
    const explained = explainString('16Ei', { format: 'k8s-bytes', formatMinimum: '1Mi', formatMaximum: '1536Gi' }, 'postgres.resources.limits.memory');
    expect(explained.found).toBe('"16Ei" (16 EiB): above the maximum 1536Gi');
    expect(explained.fix).toBe('lower postgres.resources.limits.memory to 1536Gi or less');
  });
});

describe('names, host names, URLs, e-mail, label values', () => {
  it.each([
    ['dns-label', 'bookedbarber-us', true],
    ['dns-label', 'BookedBarber', false],
    ['dns-label', 'booked_barber', false],
    ['dns-label', '-bookedbarber', false],
    ['dns-label', 'a'.repeat(64), false],
    ['hostname', 'book.bookedbarber.com', true],
    ['hostname', 'book.bookedbarber.com.', false],
    ['hostname', 'book', false],
    ['hostname', 'book..bookedbarber.com', false],
    ['hostname', `${'a'.repeat(64)}.com`, false],
    ['hostname', 'https://book.bookedbarber.com', false],
    ['label-value', '2.14.3', true],
    ['label-value', '3.3-p3', true],
    ['label-value', '2.14.3-', false],
    ['label-value', 'v1+build', false],
    ['https-url', 'https://aws.amazon.com/ec2/pricing/on-demand/', true],
    ['https-url', 'http://aws.amazon.com/', false],
    ['https-url', 'https://user:secret@example.com/', false],
    ['https-url', 'https://exa mple.com/', false],
    ['email', 'franchise-ops@bookedbarber.com', true],
    ['email', 'Ops <ops@bookedbarber.com>', false],
    ['email', 'ops@@bookedbarber.com', false],
    ['email', 'ops.@bookedbarber.com', false],
    ['email', 'ops@bookedbarber', false],
    ['host-port', 'smtp.bookedbarber.com:587', true],
    ['host-port', 'smtp.bookedbarber.com:70000', false],
    ['host-port', 'smtp.bookedbarber.com', false],
    ['git-ref', 'main', true],
    ['git-ref', 'release/2.14', true],
    ['git-ref', 'release..2', false],
    ['git-ref', 'main.lock', false],
    ['date', '2026-12-06', true],
    ['date', '2026-02-30', false],
    ['bucket-url', 's3://bookedbarber-pitr-us-east-1', true],
    ['bucket-url', 's3://ab', false],
    ['bucket-url', 's3://Bookedbarber_pitr', false],
    ['ipv4-cidr', '10.20.0.0/16', true],
    ['ipv4-cidr', '172.31.240.0/20', true],
    ['ipv4-cidr', '10.20.1.0/16', false],
    ['ipv4-cidr', '10.0.0.0/8', false],
    ['ipv4-cidr', '10.256.0.0/16', false],
    ['ipv4-cidr', '10.020.0.0/16', false],
    ['ipv4-cidr', '10.20.0.0', false],
    ['request-path', '/readyz', true],
    ['request-path', '/locations/search?q=new+york', true],
    ['request-path', 'readyz', false],
    ['request-path', '/book a chair', false],
    ['region-url-template', 'https://traces-{region}.bookedbarber.internal:9200', true],
    ['region-url-template', 'https://traces.bookedbarber.internal:9200', false],
    ['region-url-template', 'traces-{region}.bookedbarber.internal:9200', false],
    ['cron', '15 2 * * *', true],
    ['duration', '5m', true],
  ])('%s %s: %s', (format, text, valid) => {
    expect(isValidFormat(format, text)).toBe(valid);
  });

  it('each refusal explains itself and gives a fix', () => {
    const cases: Array<[string, string, string, string]> = [
      ['hostname', 'https://Book.bookedbarber.com/', 'a URL, not a host name', 'write the host name only: "book.bookedbarber.com"'],
      ['dns-label', 'BookedBarber', 'upper-case letters', 'write it in lower case: "bookedbarber"'],
      // One fix that passes, not lower case first and the "_" on the next run.
      ['dns-label', 'Bookedbarber_Public_TLS', 'upper-case letters', 'write "bookedbarber-public-tls" (lower case, "-" for "_")'],
      ['email', 'Ops <ops@bookedbarber.com>', 'a display name', 'write the address only: "ops@bookedbarber.com"'],
      ['https-url', 'http://prices.example.com/', 'plain text', 'write "https://prices.example.com/"'],
      ['label-value', '2.14.3-', 'starts or ends', 'start and end it with a letter or digit'],
      ['host-port', 'smtp.bookedbarber.com:70000', 'port 70000', 'use the relay\'s port'],
      ['ipv4-cidr', '10.20.1.0/16', 'host bits set: the block of 10.20.1.0/16 starts at 10.20.0.0', 'write 10.20.0.0/16'],
      ['ipv4-cidr', '10.0.0.0/8', 'prefix /8', '/16 to /28'],
      ['request-path', 'readyz', 'not starting with "/"', 'write "/readyz"'],
      ['request-path', '/book a "chair"', '" " at position 6', 'percent-encode it: "/book%20a%20%22chair%22"'],
      ['pem-certificate', 'MIIBszCCAVmgAwIBAgIUQ2E=', 'not starting with a "-----BEGIN CERTIFICATE-----" line', 'literal block'],
      ['request-path', '/book a chair', '" " at position 6', 'percent-encode it: "/book%20a%20chair"'],
      ['region-url-template', 'https://traces.bookedbarber.internal:9200', 'no {region} in it', 'put {region} where the region name goes'],
    ];
    for (const [format, text, detail, fix] of cases) {
      const explained = explainString(text, { format }, 'the.field');
      expect(explained.found, `${format} ${text}`).toContain(detail);
      expect(explained.fix, `${format} ${text}`).toContain(fix);
    }
  });

  it('a look-alike character is what the message names first, whatever the format', () => {
    const explained = explainString('franchise-ops@b\u043eokedbarber.com', { format: 'email' }, 'monitoring.alertmanager.businessEmail');
    expect(explained.found).toContain('U+043E CYRILLIC SMALL LETTER O at position 16');
    expect(explained.fix).toBe('type the plain letter \'o\': "franchise-ops@bookedbarber.com"');
  });
});

describe('image references (releases in global.yaml and versions.yaml)', () => {
  // The model's own schemas, so the fixes are judged against what a region file is checked with.
  const { version, repository } = ImageRelease.properties;

  it('accepts a pinned tag and a lower-case repository, with or without a registry port', () => {
    for (const v of ['2.14.3', '3.3-p3', 'v0.15.0']) expect(isValidFormat('image-version', v), v).toBe(true);
    for (const r of ['ghcr.io/bookedbarber/booking-api', 'registry.internal:5000/team/app']) expect(isValidFormat('image-repository', r), r).toBe(true);
  });

  it.each([
    ['latest', 'pin the release: its version tag, e.g. 2.14.3'],
    ['2.14.3@sha256:abc', 'write version: "2.14.3" and digest: "sha256:abc"'],
    ['booking-api:2.14.3', 'write version: "2.14.3" (the tag alone)'],
  ])('version %s gets the fix to type', (text, fix) => {
    expect(explainString(text, version, 'version').fix).toBe(fix);
  });

  it.each([
    ['ghcr.io/BookedBarber/booking-api', 'write "ghcr.io/bookedbarber/booking-api"'],
    ['ghcr.io/bookedbarber/booking-api:latest', 'write repository: "ghcr.io/bookedbarber/booking-api" and put the tag in version (a pinned release, never "latest")'],
    ['ghcr.io/bookedbarber/booking-api@sha256:abc', 'write repository: "ghcr.io/bookedbarber/booking-api" and digest: "sha256:abc"'],
    ['https://ghcr.io/bookedbarber/booking-api', 'write "ghcr.io/bookedbarber/booking-api"'],
  ])('repository %s gets the fix to type', (text, fix) => {
    expect(explainString(text, repository, 'repository').fix).toBe(fix);
  });
});
