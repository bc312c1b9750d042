// The regex engine behind grep (src/search/grep.ts): line numbers across batches,
// limits, skipped files, and the time limit that stops a catastrophic pattern.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { grepFiles, type GrepFile } from '../src/search/grep.js';
import { isVfsError } from '../src/errors.js';

async function* files(entries: Record<string, string | Buffer>): AsyncGenerator<GrepFile> {
  for (const [path, body] of Object.entries(entries)) {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
    yield { path, size: buf.length, read: async () => buf };
  }
}

describe('grepFiles', () => {
  it('numbers lines from 1 in each file, also when a file is split over many batches', async () => {
    const big = Array.from({ length: 5000 }, (_, i) => (i % 1000 === 999 ? `match ${i + 1}` : `line ${i + 1}`)).join('\n') + '\n';
    const r = await grepFiles(files({ '/a': 'x\nmatch here\n', '/big': big, '/c': 'match at 1' }), { pattern: '^match', batchBytes: 1024 });
    assert.deepEqual(
      r.matches.map((m) => `${m.path}:${m.line}:${m.text}`),
      ['/a:2:match here', '/big:1000:match 1000', '/big:2000:match 2000', '/big:3000:match 3000', '/big:4000:match 4000', '/big:5000:match 5000', '/c:1:match at 1'],
    );
    assert.equal(r.filesSearched, 3);
    assert.equal(r.truncated, false);
  });

  it('stops at maxMatches, skips binary and oversized files, cuts long lines', async () => {
    const r = await grepFiles(files({ '/bin': Buffer.from([0x61, 0, 0x61]), '/bad-utf8': Buffer.from([0x61, 0xff]), '/huge': 'a'.repeat(2000), '/t': 'a\na\na\n', '/long': 'a'.repeat(1000) }), {
      pattern: 'a',
      maxMatches: 2,
      maxFileBytes: 1500,
      maxLineChars: 10,
    });
    assert.equal(r.matches.length, 2);
    assert.equal(r.truncated, true);
    assert.deepEqual(r.skipped, [
      { path: '/bin', reason: 'binary' },
      { path: '/bad-utf8', reason: 'binary' },
      { path: '/huge', reason: 'too large' },
    ]);
    const long = await grepFiles(files({ '/long': 'a'.repeat(1000) }), { pattern: 'a', maxLineChars: 10 });
    assert.equal(long.matches[0].text, 'a'.repeat(10));
  });

  it('fixed strings, ignore case, and a bad pattern is EINVAL', async () => {
    const r = await grepFiles(files({ '/f': 'a.b\naxb\nA.B\n' }), { pattern: 'a.b', fixedStrings: true, ignoreCase: true });
    assert.deepEqual(
      r.matches.map((m) => m.line),
      [1, 3],
    );
    await assert.rejects(grepFiles(files({}), { pattern: '(' }), (e) => isVfsError(e, 'EINVAL') && /invalid regular expression/.test(e.message));
    await assert.rejects(grepFiles(files({}), { pattern: '' }), (e) => isVfsError(e, 'EINVAL'));
  });

  it('a catastrophic pattern is stopped within its time limit with EINVAL', async () => {
    const t0 = Date.now();
    await assert.rejects(
      grepFiles(files({ '/redos': 'a'.repeat(50_000) + 'b\n' }), { pattern: '(a+)+$', timeoutMs: 300 }),
      (e) => isVfsError(e, 'EINVAL') && /took over 300 ms on \/redos/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 1000, `${Date.now() - t0} ms`);
    // The same pattern on harmless text is fine.
    const ok = await grepFiles(files({ '/fine': 'aaaa\nbbb\n' }), { pattern: '(a+)+$' });
    assert.deepEqual(
      ok.matches.map((m) => m.line),
      [1],
    );
  });
});
