import { describe, expect, it } from 'vitest';
import { humanDuration, humanSize, shortId, table } from '../../src/util/format';

// Docker's CLI prints sizes with go-units HumanSizeWithPrecision(size, 3), i.e.
// fmt.Sprintf("%.3g%s", size, unit) after dividing by 1000 while size >= 1000.
describe('humanSize (go-units HumanSizeWithPrecision(x, 3))', () => {
  const cases: [number, string][] = [
    [0, '0B'],
    [1, '1B'],
    [999, '999B'],
    [1000, '1kB'],
    [1024, '1.02kB'],
    [1500, '1.5kB'],
    [12345, '12.3kB'],
    [99999, '100kB'],
    [123456, '123kB'],
    [1000000, '1MB'],
    [1048576, '1.05MB'],
    [4260000, '4.26MB'],
    [2 * 1000 ** 2, '2MB'],
    [3.42 * 1000 ** 3, '3.42GB'],
    [5.372 * 1000 ** 4, '5.37TB'],
    [2.22 * 1000 ** 5, '2.22PB'],
    [1000 ** 6, '1EB'],
    [1000 ** 7, '1ZB'],
    [1000 ** 8, '1YB'],
    [123 * 1000 ** 8, '123YB'],
  ];
  it.each(cases)('%d -> %s', (bytes, want) => {
    expect(humanSize(bytes)).toBe(want);
  });

  // BUG: Go's %.3g switches to exponent form when the rounded value has more digits than the
  // precision: fmt.Sprintf("%.3g", 999.999) == "1e+03", so Docker prints "1e+03kB" for 999999
  // bytes (and go-units' own test expects HumanSize(1e13 PB) == "1e+04YB"). skiff's
  // Number(toPrecision(3)) gives "1000kB" / "10000YB".
  it('999999 -> "1e+03kB" as Go\'s %.3g', () => {
    expect(humanSize(999_999)).toBe('1e+03kB');
  });
  it('1e28 -> "1e+04YB" (beyond the last unit) as Go\'s %.3g', () => {
    expect(humanSize(1e28)).toBe('1e+04YB');
  });
});

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 365 * DAY;

describe('humanDuration (go-units HumanDuration)', () => {
  // go-units duration_test.go, TestHumanDuration
  const upstream: [number, string][] = [
    [450, 'Less than a second'],
    [1 * SEC, '1 second'],
    [45 * SEC, '45 seconds'],
    [46 * SEC, '46 seconds'],
    [59 * SEC, '59 seconds'],
    [60 * SEC, 'About a minute'],
    [1 * MIN, 'About a minute'],
    [3 * MIN, '3 minutes'],
    [35 * MIN, '35 minutes'],
    [35 * MIN + 40 * SEC, '35 minutes'],
    [45 * MIN, '45 minutes'],
    [45 * MIN + 40 * SEC, '45 minutes'],
    [46 * MIN, '46 minutes'],
    [59 * MIN, '59 minutes'],
    [1 * HOUR, 'About an hour'],
    [1 * HOUR + 29 * MIN, 'About an hour'],
    [1 * HOUR + 31 * MIN, '2 hours'],
    [1 * HOUR + 59 * MIN, '2 hours'],
    [3 * HOUR, '3 hours'],
    [3 * HOUR + 29 * MIN, '3 hours'],
    [3 * HOUR + 31 * MIN, '4 hours'],
    [3 * HOUR + 59 * MIN, '4 hours'],
    [3 * HOUR + 60 * MIN, '4 hours'],
    [24 * HOUR, '24 hours'],
    [1 * DAY + 12 * HOUR, '36 hours'],
    [2 * DAY, '2 days'],
    [7 * DAY, '7 days'],
    [13 * DAY + 5 * HOUR, '13 days'],
    [2 * WEEK, '2 weeks'],
    [2 * WEEK + 4 * DAY, '2 weeks'],
    [3 * WEEK, '3 weeks'],
    [4 * WEEK, '4 weeks'],
    [4 * WEEK + 3 * DAY, '4 weeks'],
    [1 * MONTH, '4 weeks'],
    [1 * MONTH + 2 * WEEK, '6 weeks'],
    [2 * MONTH, '2 months'],
    [2 * MONTH + 2 * WEEK, '2 months'],
    [3 * MONTH, '3 months'],
    [3 * MONTH + 1 * WEEK, '3 months'],
    [5 * MONTH + 2 * WEEK, '5 months'],
    [13 * MONTH, '13 months'],
    [23 * MONTH, '23 months'],
    [24 * MONTH, '24 months'],
    [24 * MONTH + 2 * WEEK, '2 years'],
    [3 * YEAR + 2 * MONTH, '3 years'],
  ];
  it.each(upstream)('%d ms -> %s', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });

  // Boundaries of each branch of duration.go.
  const boundaries: [number, string][] = [
    [0, 'Less than a second'],
    [-5 * SEC, 'Less than a second'],
    [999, 'Less than a second'],
    [1999, '1 second'],
    [2 * SEC, '2 seconds'],
    [59 * SEC + 999, '59 seconds'],
    [2 * MIN - 1, 'About a minute'],
    [2 * MIN, '2 minutes'],
    [60 * MIN - 1, '59 minutes'],
    // hours are rounded: int(d.Hours() + 0.5)
    [HOUR + 30 * MIN - 1, 'About an hour'],
    [HOUR + 30 * MIN, '2 hours'],
    [47 * HOUR + 29 * MIN, '47 hours'],
    [47 * HOUR + 30 * MIN, '2 days'],
    [14 * DAY - 31 * MIN, '13 days'],
    [14 * DAY - 30 * MIN, '2 weeks'],
    [60 * DAY - 31 * MIN, '8 weeks'],
    [60 * DAY - 30 * MIN, '2 months'],
    [2 * YEAR - 31 * MIN, '24 months'],
    [2 * YEAR, '2 years'],
    [10 * YEAR, '10 years'],
  ];
  it.each(boundaries)('boundary %d ms -> %s', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });

  // BUG: the years branch of go-units uses the truncated hours, int(d.Hours())/24/365, not the
  // rounded ones: 3 years minus 20 minutes is "2 years" in Docker, "3 years" in skiff.
  it('years use truncated hours, as go-units', () => {
    expect(humanDuration(3 * YEAR - 20 * MIN)).toBe('2 years');
  });
});

describe('table (Docker tabwriter: padding 3)', () => {
  it('pads every column but the last to its widest cell plus 3 spaces', () => {
    const out = table(['CONTAINER ID', 'IMAGE NAME', 'STATUS'], [
      ['0123456789ab', 'busybox-long-image', 'Up 3 seconds'],
      ['ba9876543210', 'alpine', 'Created'],
    ]);
    expect(out).toBe(
      'CONTAINER ID   IMAGE NAME           STATUS\n' +
      '0123456789ab   busybox-long-image   Up 3 seconds\n' +
      'ba9876543210   alpine               Created\n');
  });

  it('trims trailing spaces when the last cells are empty', () => {
    expect(table(['AAAAAAAAAA', 'BBBBBBBBBBBB', 'C'], [['x', '', '']])).toBe(
      'AAAAAAAAAA   BBBBBBBBBBBB   C\n' +
      'x\n');
  });

  it('treats a missing cell as empty', () => {
    expect(table(['AAAAAAAAAA', 'B'], [['xxxxxxxxxxxxx']])).toBe(
      'AAAAAAAAAA      B\n' +
      'xxxxxxxxxxxxx\n');
  });

  it('prints only the header when there are no rows', () => {
    expect(table(['NAME1234567', 'VALUE'], [])).toBe('NAME1234567   VALUE\n');
  });

  // BUG: Docker's table writer is tabwriter.NewWriter(out, 10, 1, 3, ' ', 0): minwidth 10, so a
  // column is never narrower than 10 (cell + padding). An empty `docker ps` prints
  // "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES"; skiff pads narrow
  // columns with only 3 spaces ("IMAGE   COMMAND   ...").
  it('columns are at least 10 wide (tabwriter minwidth), as docker ps', () => {
    expect(table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], [])).toBe(
      'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
  });
});

describe('shortId', () => {
  const hex = '86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';
  it('strips sha256: and keeps 12 characters', () => {
    expect(shortId(`sha256:${hex}`)).toBe('86e0e091d0da');
    expect(shortId(hex)).toBe('86e0e091d0da');
  });
  it('leaves short strings whole and only strips a leading sha256:', () => {
    expect(shortId('abc')).toBe('abc');
    expect(shortId('xsha256:abcdef')).toBe('xsha256:abcd');
  });
});
