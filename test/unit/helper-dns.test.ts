/**
 * The embedded DNS server's messages (native/helper/dns_message.c) through `skiff-helper
 * dns-answer NAMES_FILE NDOTS_SET`: the query on stdin, the reply on stdout (exit 0), exit 3 when
 * it would be forwarded upstream, 4 when dropped. Docker's answers, and malformed datagrams
 * (hostile input from inside the container) answered FORMERR or dropped, never a crash.
 * native/helper/fuzz/dns_fuzz.c goes further with libFuzzer.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const HELPER = process.env.SKIFF_TEST_HELPER ?? path.resolve(__dirname, '../../native/helper/build/skiff-helper');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-dns-'));
const NAMES = path.join(dir, 'dns-names');

beforeAll(() => {
  if (!fs.existsSync(HELPER)) throw new Error(`${HELPER} is missing: build it first with "npm run build" (npm test does)`);
  // a dead peer: no PID is above pid_max's ceiling
  fs.writeFileSync(NAMES, [
    '# comment', 'external',
    'app 0 0 10.89.1.2 web www 0123456789ab',
    'app 4194305 1 10.89.1.9 gone',
    'app 0 0 10.89.1.3 db',
    'other 0 0 10.89.2.2 web solo',
  ].join('\n') + '\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function answer(query: Buffer, ndots = 0, tcp = false): { code: number | null; reply: Buffer } {
  const r = spawnSync(HELPER, ['dns-answer', NAMES, String(ndots), ...(tcp ? ['tcp'] : [])], { input: query });
  return { code: r.status, reply: r.stdout };
}

/** A query: ID 0x1234, RD, one question (NAME, TYPE, class IN), optionally an EDNS OPT record. */
function query(name: string, type = 1, opt?: number): Buffer {
  const labels = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const head = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, opt ? 1 : 0]);
  const tail = Buffer.from([0, type >> 8, type & 0xff, 0, 1]);
  const edns = opt ? Buffer.from([0, 0, 41, opt >> 8, opt & 0xff, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0);
  return Buffer.concat([head, ...labels, tail, edns]);
}

const rcode = (reply: Buffer) => reply[3] & 0xf;
const answers = (reply: Buffer) => reply.readUInt16BE(6);
/** The A records' addresses (answers follow the echoed question, 16 bytes each). */
function addresses(q: Buffer, reply: Buffer): string[] {
  const questionEnd = q.length - (q[11] ? 11 : 0);
  const out: string[] = [];
  for (let o = questionEnd; o + 16 <= reply.length; o += 16) out.push([...reply.subarray(o + 12, o + 16)].join('.'));
  return out;
}

describe('answers from the names file (Docker\'s embedded DNS)', () => {
  it('A for a name, an alias, a short ID, without case, with a trailing dot: the first network that has it', () => {
    for (const name of ['web', 'WWW', '0123456789ab', 'web.']) {
      const q = query(name);
      const { code, reply } = answer(q);
      expect(code).toBe(0);
      expect(reply.readUInt16BE(0)).toBe(0x1234);
      expect(reply[2] & 0x80).toBe(0x80); // a response
      expect(rcode(reply)).toBe(0);
      expect(addresses(q, reply)).toEqual(['10.89.1.2']);
    }
  });

  it('NAME.NETWORK picks the network; a name on a later network only is found there', () => {
    const q = query('web.other');
    expect(addresses(q, answer(q).reply)).toEqual(['10.89.2.2']);
    const solo = query('solo');
    expect(addresses(solo, answer(solo).reply)).toEqual(['10.89.2.2']);
  });

  it('AAAA and MX for a known name: no error, no answer; PTR: NAME.NETWORK', () => {
    for (const type of [28, 15]) {
      const { code, reply } = answer(query('web', type));
      expect(code).toBe(0);
      expect(rcode(reply)).toBe(0);
      expect(answers(reply)).toBe(0);
    }
    const { reply } = answer(query('3.1.89.10.in-addr.arpa', 12));
    expect(answers(reply)).toBe(1);
    expect(reply.toString('latin1')).toContain('\x02db\x03app\x00');
  });

  it('forwards what it does not know: unknown names, a stopped peer, other types, other classes', () => {
    expect(answer(query('example.com')).code).toBe(3);
    expect(answer(query('gone')).code).toBe(3);
    expect(answer(query('web', 16)).code).toBe(3);
    expect(answer(query('9.1.89.10.in-addr.arpa', 12)).code).toBe(3);
    const chaos = query('web');
    chaos.writeUInt16BE(3, chaos.length - 2);
    expect(answer(chaos).code).toBe(3);
  });

  it('with ndots set by the user, an unknown single label gets no error and no answer instead of going upstream', () => {
    const { code, reply } = answer(query('nosuch'), 1);
    expect(code).toBe(0);
    expect([rcode(reply), answers(reply)]).toEqual([0, 0]);
    expect(answer(query('nosuch.example'), 1).code).toBe(3);
  });

  it('sets TC when the answers do not fit the 512 bytes a client without EDNS takes, and uses the EDNS size when given', () => {
    const many = ['app 0 0 10.89.1.2 web', ...Array.from({ length: 60 }, (_, i) => `app 0 0 10.89.3.${i + 1} crowd`)].join('\n');
    fs.writeFileSync(NAMES, `external\n${many}\n`);
    const small = answer(query('crowd'));
    expect(small.reply.length).toBeLessThanOrEqual(512);
    expect(small.reply[2] & 0x02).toBe(0x02);
    const big = answer(query('crowd', 1, 4096));
    expect(answers(big.reply)).toBe(60);
    expect(big.reply[2] & 0x02).toBe(0);
    // over TCP there is no 512-byte limit: all of them, no TC
    const tcp = answer(query('crowd'), 0, true);
    expect(answers(tcp.reply)).toBe(60);
    expect(tcp.reply.length).toBeGreaterThan(512);
    expect(tcp.reply[2] & 0x02).toBe(0);
  });
});

describe('malformed datagrams (hostile input from the container)', () => {
  const dropped = (q: Buffer) => expect(answer(q).code).toBe(4);
  const formerr = (q: Buffer) => {
    const { code, reply } = answer(q);
    expect(code).toBe(0);
    expect(rcode(reply)).toBe(1);
    expect(reply.length).toBe(12);
  };

  it('drops what is no query: shorter than a header, empty, a response', () => {
    dropped(Buffer.alloc(0));
    dropped(Buffer.alloc(11));
    const response = query('web');
    response[2] |= 0x80;
    dropped(response);
  });

  it('FORMERR for questions that do not parse: cut short, pointers, over-long labels and names, question counts', () => {
    const q = query('web');
    for (let n = 12; n < q.length; n++) formerr(q.subarray(0, n));
    formerr(Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]));
    formerr(Buffer.concat([q.subarray(0, 12), Buffer.from([64]), Buffer.alloc(64, 0x61), Buffer.from([0, 0, 1, 0, 1])]));
    const long = Array.from({ length: 5 }, () => 'a'.repeat(63)).join('.');
    formerr(query(long));
    const two = Buffer.from(q);
    two.writeUInt16BE(2, 4);
    formerr(two);
    const none = Buffer.from(q);
    none.writeUInt16BE(0, 4);
    formerr(none);
  });

  it('NOTIMP for other opcodes; names with odd bytes are forwarded as they are, never matched', () => {
    const update = query('web');
    update[2] = 0x28;
    expect(rcode(answer(update).reply)).toBe(4);
    const odd = Buffer.from(query('web'));
    odd[14] = 0; // "we\0"
    expect(answer(odd).code).toBe(3);
  });

  it('a names file with junk lines, no file at all: still answers or forwards', () => {
    fs.writeFileSync(NAMES, 'app\napp 0\napp 0 0 not-an-ip web\n\n\napp 0 0 10.89.1.2\napp 0 0 10.89.1.5 web\n');
    const q = query('web');
    expect(addresses(q, answer(q).reply)).toEqual(['10.89.1.5']);
    fs.rmSync(NAMES);
    expect(answer(query('web')).code).toBe(3);
  });
});
