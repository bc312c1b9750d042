// The postgres engine's binary COPY reader (src/storage/postgres/copy.ts): the stream parser on
// every way a stream can be cut into messages, damaged streams refused, and copyRows on the
// test cluster: raw bytes of every value (NUL, 0xff, empty, NULL, 1 MiB), a failing statement
// rejected with the connection still usable, and hostile text kept inside its literal; and the
// engine's get and getMany, which ask by a prepared query for a few small records and by COPY
// for more or for large values: the stored bytes every way, from an engine whose cache knows
// nothing yet.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { BinaryCopyParser, bytesLiteral, copyRows } from '../src/storage/postgres/copy.js';
import { getMany } from '../src/storage/contract.js';
import { openEngine } from '../src/storage/engines.js';
import { pgTest } from './helpers/pg-cluster.js';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** A binary COPY stream of these rows, as the server writes it. */
function stream(rows: (Buffer | null)[][], extension = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [SIGNATURE, Buffer.alloc(4), Buffer.alloc(4)];
  parts[2].writeUInt32BE(extension.length);
  parts.push(extension);
  for (const row of rows) {
    const n = Buffer.alloc(2);
    n.writeInt16BE(row.length);
    parts.push(n);
    for (const f of row) {
      const len = Buffer.alloc(4);
      len.writeInt32BE(f === null ? -1 : f.length);
      parts.push(len);
      if (f) parts.push(f);
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

const ROWS: (Buffer | null)[][] = [
  [Buffer.from('key one'), Buffer.from([0, 1, 2, 0xff, 0, 0x5c, 0x27])],
  [Buffer.from('k2'), Buffer.alloc(0)],
  [Buffer.from('k3'), null],
  [Buffer.alloc(300, 7), Buffer.alloc(5000, 9)],
];

describe('binary COPY stream parser', () => {
  it('reads the same rows however the stream is cut into messages', () => {
    const whole = stream(ROWS, Buffer.from('ext'));
    for (let cut = 0; cut <= whole.length; cut++) {
      for (const second of [whole.length, Math.min(whole.length, cut + 3)]) {
        const p = new BinaryCopyParser();
        const pieces = [whole.subarray(0, cut), whole.subarray(cut, second), whole.subarray(second)];
        for (const piece of pieces) {
          const mine = Buffer.from(piece);
          p.push(mine);
          mine.fill(0xaa); // the caller's buffer is reused: the parser must have copied it
        }
        assert.deepEqual(p.finish(), ROWS, `cut at ${cut} and ${second}`);
      }
    }
  });

  it('refuses a bad header, a stream cut short and data after the trailer', () => {
    const whole = stream(ROWS);
    const bad = Buffer.from(whole);
    bad[0] = 0x51;
    assert.throws(() => new BinaryCopyParser().push(bad), /bad header/);
    for (const at of [5, 30, whole.length - 1]) {
      const p = new BinaryCopyParser();
      p.push(whole.subarray(0, at));
      assert.throws(() => p.finish(), /ended early/, `cut at ${at}`);
    }
    assert.throws(() => new BinaryCopyParser().push(Buffer.concat([whole, Buffer.from([0, 1])])), /after the trailer/);
    const negative = stream([]);
    negative.writeInt16BE(-2, negative.length - 2);
    assert.throws(() => new BinaryCopyParser().push(negative), /bad field count/);
  });
});

const pgInfo = pgTest();

describe('copyRows on a server', { skip: !pgInfo.url && (pgInfo.reason ?? 'no cluster') }, () => {
  let client: pg.Client;
  before(async () => {
    client = new pg.Client({ connectionString: pgInfo.url });
    await client.connect();
  });
  after(async () => {
    await client?.end();
  });

  it('returns every value as its raw bytes', async () => {
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
    const values = [Buffer.from([0, 0xff, 0x5c, 0x27, 0x22, 0]), Buffer.alloc(0), big];
    const rows = await copyRows(client, `SELECT n, v FROM (VALUES (1, ${bytesLiteral(values[0])}), (2, ${bytesLiteral(values[1])}), (3, NULL::bytea), (4, ${bytesLiteral(big)})) AS t(n, v) ORDER BY n`);
    assert.equal(rows.length, 4);
    assert.deepEqual(rows[0][1], values[0]);
    assert.deepEqual(rows[1][1], values[1]);
    assert.equal(rows[2][1], null);
    assert.ok(rows[3][1]!.equals(big));
    assert.equal(rows[3][0]!.readInt32BE(0), 4); // an int4 in binary: its 4 bytes, big-endian
  });

  it('rejects a failing statement and leaves the connection usable', async () => {
    await assert.rejects(copyRows(client, 'SELECT 1 / 0'), /division by zero/);
    await assert.rejects(copyRows(client, 'SELECT nonsense FROM nowhere'), /nowhere/);
    const rows = await copyRows(client, `SELECT ${bytesLiteral(Buffer.from('still here'))}`);
    assert.equal(rows[0][0]!.toString(), 'still here');
    assert.equal((await client.query('SELECT 41 + 1 AS n')).rows[0].n, 42);
  });

  it('keeps hostile bytes inside their literal', async () => {
    const hostile = Buffer.from("'); DROP TABLE x; --\\x00'::bytea");
    const rows = await copyRows(client, `SELECT ${bytesLiteral(hostile)}`);
    assert.ok(rows[0][0]!.equals(hostile));
  });

  it('getMany by query (a few keys) and by COPY (more, or a collection of large values) and get() both ways return the stored bytes', async () => {
    const url = `${pgInfo.url}${pgInfo.url!.includes('?') ? '&' : '?'}schema=copy_${process.pid}`;
    const writer = await openEngine('postgres', { path: url, create: true });
    const key = (i: number) => Buffer.from([0, i, 0xff, i]);
    const value = (i: number) => (i % 5 === 0 ? Buffer.alloc(0) : Buffer.alloc(i * 997, i));
    await writer.write(async (tx) => {
      for (let i = 1; i <= 40; i++) await tx.put('chunks', key(i), value(i));
      await tx.put('meta', key(41), Buffer.from('another collection'));
      for (let i = 1; i <= 5; i++) await tx.put('meta', key(100 + i), value(i));
    });
    await writer.close();
    const hex = (v: Buffer | undefined) => v?.toString('hex');
    {
      // get() from a cold cache: chunks (a collection of large values) by COPY, meta by the
      // prepared query; present, empty and missing keys, and a key of the other collection.
      const reader = await openEngine('postgres', { path: url, create: false });
      try {
        await reader.read(async (tx) => {
          for (const i of [1, 5, 7, 40]) assert.equal(hex(await tx.get('chunks', key(i))), hex(value(i)), `chunk ${i}`);
          for (const i of [1, 5]) assert.equal(hex(await tx.get('meta', key(100 + i))), hex(value(i)), `meta ${i}`);
          assert.equal(await tx.get('chunks', key(99)), undefined);
          assert.equal(await tx.get('chunks', key(41)), undefined);
          assert.equal(await tx.get('meta', key(1)), undefined);
        });
      } finally {
        await reader.close();
      }
    }
    for (const n of [1, 3]) {
      const reader = await openEngine('postgres', { path: url, create: false });
      try {
        const asked = [...Array.from({ length: n }, (_, i) => key(101 + i)), key(1), key(101)];
        const got = await reader.read((tx) => getMany(tx, 'meta', asked));
        assert.deepEqual(got.map(hex), [...Array.from({ length: n }, (_, i) => hex(value(i + 1))), undefined, hex(value(1))], `meta, ${n} keys`);
      } finally {
        await reader.close();
      }
    }
    for (const n of [1, 3, 4, 30]) {
      // A fresh engine each time: its cache has seen nothing, so every key goes to the server.
      const reader = await openEngine('postgres', { path: url, create: false });
      try {
        const asked = [...Array.from({ length: n }, (_, i) => key(i + 1)), key(41), key(99), key(1)];
        const got = await reader.read((tx) => getMany(tx, 'chunks', asked));
        const want = await reader.read(async (tx) => Promise.all(asked.map((k) => tx.get('chunks', k))));
        assert.deepEqual(got.map((v) => v?.toString('hex')), want.map((v) => v?.toString('hex')), `${n} keys`);
        assert.deepEqual(got.slice(0, n).map(hex), Array.from({ length: n }, (_, i) => hex(value(i + 1))));
        assert.equal(got[n], undefined); // in meta, not in chunks
        assert.equal(got[n + 1], undefined); // nowhere
      } finally {
        await reader.close();
      }
    }
  });
});
