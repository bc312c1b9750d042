// End-to-end tests of the agent-memory commands: memory, kv, session, stream, state. The real
// `avfs` in child processes, a fresh AVFS_HOME, on a sqlite vault (the commands only parse and
// print: memory itself runs on every engine in test/memory.test.ts and memory-procs.test.ts, and a
// second engine here doubled a minute of CI for nothing the library suites miss); bad input is a
// one-line error and changes nothing; `stream cat -f` and `state watch` run across processes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MEMORY_COLLECTIONS } from '../src/memory/dump.js';
import { dumpStore } from './helpers/store-dump.js';
import { AVFS_BIN, cliHome, type RunOptions, type RunResult, assertOk, assertOneLineError, assertJsonError, okCalls } from './helpers/cli.js';

interface Mem {
  id: number;
  text: string;
  tags: string[];
  timeMs: number;
  time: string;
  actor: string;
  score?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const backend of ['sqlite'] as const) {
  describe(`avfs agent-memory commands (${backend})`, () => {
    let home: string;
    let run: (args: readonly string[], opts?: RunOptions) => Promise<RunResult>;
    const { json, text } = okCalls(() => run);
    /** Agent memory's rows, read in-process (no spawn per look): a failed command changed none. */
    const everything = async (): Promise<string> => (await dumpStore(join(home, 'vaults', 'm.avfs'), MEMORY_COLLECTIONS)).state;
    /** What memory holds, as the CLI lists it: compared across a snapshot restore. */
    const memoryListed = async (): Promise<string> =>
      [
        await text(['--json', 'memory', 'list']),
        await text(['--json', 'kv', 'list']),
        await text(['--json', 'session', 'list']),
        await text(['--json', 'stream', 'list']),
        (await run(['--json', 'state', 'get'])).out,
      ].join('\n');

    /** Start a long-running avfs command; collect its stdout. */
    function background(args: string[]): { out: () => string; done: Promise<{ code: number | null; signal: string | null; stderr: string }>; kill: (s: NodeJS.Signals) => void } {
      const child = spawn(process.execPath, [AVFS_BIN, ...args], { env: { ...process.env, AVFS_HOME: home, AVFS_DEBUG: undefined }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
        child.on('close', (code, signal) => resolve({ code, signal, stderr: err })),
      );
      return { out: () => out, done, kill: (s) => child.kill(s) };
    }
    async function until(cond: () => boolean, ms = 5000): Promise<void> {
      const t0 = Date.now();
      while (!cond()) {
        if (Date.now() - t0 > ms) throw new Error('timed out waiting');
        await sleep(10);
      }
    }

    before(async () => {
      const h = cliHome(`avfs-clim-${backend}-`);
      home = h.home;
      run = h.run;
      assertOk(await run(['vault', 'create', 'm', '--backend', backend]));
      assertOk(await run(['vault', 'use', 'm']));
    });
    after(() => rmSync(home, { recursive: true, force: true }));

    it('--help lists the memory commands', async () => {
      const help = await text(['--help']);
      for (const c of ['memory', 'kv', 'session', 'stream', 'state']) assert.match(help, new RegExp(`^  ${c} `, 'm'), c);
      assert.match(await text(['memory', '--help']), /avfs memory search \[--tag T\]\.\.\. \[--limit N\] QUERY/);
      assert.match(await text(['kv', 'set', '--help']), /--if-version N/);
      assert.match(await text(['stream', 'cat', '--help']), /-f, --follow/);
    });

    describe('memory', () => {
      it('add prints the id; get, list, search, forget', async () => {
        assert.equal(await text(['memory', 'add', 'The user likes concise answers', '--tag', 'prefs']), '1\n');
        assert.equal(await text(['memory', 'add', '-t', 'ops', '-t', 'prefs', 'Deploy with make release']), '2\n');
        assert.equal(await text(['memory', 'add', '--stdin'], { input: 'from stdin: the release train leaves on Fridays\n' }), '3\n');
        assert.equal(await text(['memory', 'add'], { input: 'piped without --stdin\n' }), '4\n');
        assert.equal(await text(['memory', 'get', '3']), 'from stdin: the release train leaves on Fridays\n');
        const m = await json<Mem>(['memory', 'get', '2']);
        assert.deepEqual([m.id, m.text, m.tags], [2, 'Deploy with make release', ['ops', 'prefs']]);
        assert.match(m.time, /^\d{4}-\d\d-\d\dT/);

        const list = await text(['memory', 'list']);
        assert.deepEqual(list.trimEnd().split('\n').map((l) => l.trim().split(/\s+/)[0]), ['4', '3', '2', '1']);
        assert.match(list, /^2  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  Deploy with make release  \[ops, prefs\]$/m);
        assert.deepEqual((await json<Mem[]>(['memory', 'list', '--tag', 'prefs'])).map((x) => x.id), [2, 1]);
        assert.deepEqual((await json<Mem[]>(['memory', 'list', '--tag', 'prefs', '--tag', 'ops'])).map((x) => x.id), [2]);
        assert.deepEqual((await json<Mem[]>(['memory', 'list', '--limit', '2'])).map((x) => x.id), [4, 3]);
        assert.deepEqual((await json<Mem[]>(['memory', 'list', '--since', '1h'])).length, 4);
        assert.deepEqual(await json<Mem[]>(['memory', 'list', '--since', '2999-01-01']), []);

        const hits = await json<Mem[]>(['memory', 'search', 'release']);
        assert.deepEqual(hits.map((h) => h.id).sort(), [2, 3]);
        assert.ok(hits.every((h) => typeof h.score === 'number' && h.score > 0));
        assert.match(await text(['memory', 'search', 'concise']), /^1  \d+\.\d{3}  The user likes concise answers  \[prefs\]\n$/);
        assert.deepEqual((await json<Mem[]>(['memory', 'search', 'release', '--tag', 'ops'])).map((h) => h.id), [2]);
        assert.deepEqual((await json<Mem[]>(['memory', 'search', 'release OR concise', '--limit', '1'])).length, 1);
        assert.deepEqual((await json<Mem[]>(['memory', 'search', '"release train"'])).map((h) => h.id), [3]);
        assert.deepEqual((await json<Mem[]>(['memory', 'search', 'rel* NOT train'])).map((h) => h.id), [2]);

        await text(['memory', 'forget', '4']);
        assert.deepEqual((await json<Mem[]>(['memory', 'list'])).map((x) => x.id), [3, 2, 1]);
        assertOneLineError(await run(['memory', 'get', '4']), 1, /memory 4: no such memory/);
        assert.deepEqual((await json<{ op: string; info: { target: string } }[]>(['audit', '--limit', '1'])).map((r) => [r.op, r.info.target]), [['memory.forget', 'memory 4']]);
      });

      it('bad input: one-line errors, exit codes, nothing changed', async () => {
        const before = await everything();
        assertOneLineError(await run(['memory', 'get', '99']), 1, /no such memory/);
        assertOneLineError(await run(['memory', 'forget', '99']), 1, /no such memory/);
        assertOneLineError(await run(['memory', 'get', 'abc']), 1, /id must be a whole number/);
        assertOneLineError(await run(['memory', 'search', '"unclosed']), 1, /^avfs: query: missing closing quote/);
        assertOneLineError(await run(['memory', 'search', 'a OR']), 1, /query: OR at character 3 needs a term after it/);
        assertOneLineError(await run(['memory', 'search', 'x', '--limit', '0']), 2);
        assertOneLineError(await run(['memory', 'list', '--since', 'someday']), 2, /--since/);
        assertOneLineError(await run(['memory', 'add', '']), 1, /memory text is empty/);
        assertOneLineError(await run(['memory', 'add', 'x', '--stdin']), 2);
        assertOneLineError(await run(['memory', 'frob']), 2, /unknown subcommand/);
        assertJsonError(await run(['--json', 'memory', 'get', '99']), 1, 'ENOENT');
        assert.equal(await everything(), before);
      });
    });

    describe('kv', () => {
      it('set, get (bytes), list, del; --ttl; --if-version', async () => {
        assert.equal(await text(['kv', 'set', 'greeting', 'hello']), 'set greeting (version ' + (await json<{ version: number }>(['kv', 'get', 'greeting'])).version + ')\n');
        assert.equal(await text(['kv', 'get', 'greeting']), 'hello');
        const bin = Buffer.from([0, 1, 2, 0xfe, 0xff, 10]);
        assertOk(await run(['kv', 'set', 'bin', '--stdin'], { input: bin }));
        assert.ok((await run(['kv', 'get', 'bin'])).stdout.equals(bin));
        const g = await json<{ value: string; encoding: string; size: number; version: number }>(['kv', 'get', 'bin']);
        assert.deepEqual([g.encoding, Buffer.from(g.value, 'base64').equals(bin), g.size], ['base64', true, 6]);
        await text(['kv', 'set', 'cfg/b', '2']);
        await text(['kv', 'set', 'cfg/a', '1']);
        assert.equal(await text(['kv', 'list', 'cfg/']), 'cfg/a\ncfg/b\n');
        assert.equal(await text(['kv', 'list']), 'bin\ncfg/a\ncfg/b\ngreeting\n');
        assert.match(await text(['kv', 'list', '-l', 'cfg/a']), /^cfg\/a  1  v\d+  -\n$/);

        const v1 = (await json<{ version: number }>(['kv', 'set', 'lock', 'agent-a', '--if-version', '0'])).version;
        const r = await run(['kv', 'set', 'lock', 'agent-b', '--if-version', '0']);
        assertOneLineError(r, 1, /^avfs: kv "lock": version conflict: expected version 0, but its version is \d+ \(nothing changed\)$/);
        assertJsonError(await run(['--json', 'kv', 'set', 'lock', 'agent-b', '--if-version', String(v1 + 100)]), 1, 'ECONFLICT');
        const v2 = (await json<{ version: number }>(['kv', 'set', 'lock', 'agent-b', '--if-version', String(v1)])).version;
        assert.ok(v2 > v1);
        assert.equal(await text(['kv', 'get', 'lock']), 'agent-b');
        assertOneLineError(await run(['kv', 'del', 'lock', '--if-version', String(v1)]), 1, /version conflict/);
        assertOk(await run(['kv', 'del', 'lock', '--if-version', String(v2)]));
        assertOneLineError(await run(['kv', 'get', 'lock']), 1, /kv "lock": no such key/);

        await text(['kv', 'set', 'tmp', 'soon gone', '--ttl', '1']);
        const info = await json<{ expiresMs: number; expires: string }>(['kv', 'get', 'tmp']);
        assert.ok(info.expiresMs > Date.now());
        await sleep(1100);
        assertOneLineError(await run(['kv', 'get', 'tmp']), 1, /no such key/);
        assert.doesNotMatch(await text(['kv', 'list']), /tmp/);
      });

      it('bad input: one-line errors, nothing changed; the size limit is a vault setting', async () => {
        const before = await everything();
        assertOneLineError(await run(['kv', 'set', 'x', 'v', '--ttl', '0']), 2);
        assertOneLineError(await run(['kv', 'set', 'x', 'v', '--ttl', '-5']), 2);
        assertOneLineError(await run(['kv', 'set', 'x', 'v', '--if-version', 'two']), 2);
        assertOneLineError(await run(['kv', 'set', '', 'v']), 1, /kv key must not be empty/);
        assertOneLineError(await run(['kv', 'set', 'k'.repeat(500), 'v']), 1, /is 500 bytes long \(at most 400\)/);
        assertOneLineError(await run(['kv', 'get']), 2);
        assertOk(await run(['vault', 'config', 'memory_max_value_kb', '1']));
        const mid = await everything();
        assertOneLineError(await run(['kv', 'set', 'big', '--stdin'], { input: Buffer.alloc(1025, 0x61) }), 1, /over the vault's limit memory_max_value_kb=1/);
        assertOneLineError(await run(['memory', 'add', 'y'.repeat(2000)]), 1, /memory text of 2000 bytes is over/);
        assertOneLineError(await run(['stream', 'append', 's', 'z'.repeat(2000)]), 1, /stream append of 2000 bytes/);
        assertOneLineError(await run(['state', 'set', JSON.stringify({ a: 'x'.repeat(2000) })]), 1, /state of \d+ bytes/);
        assertOneLineError(await run(['session', 'start', '--payload', JSON.stringify('p'.repeat(2000))]), 1, /session payload of \d+ bytes/);
        assert.equal(await everything(), mid);
        assertOk(await run(['vault', 'config', '--unset', 'memory_max_value_kb']));
        assert.equal(await everything(), before);
      });
    });

    describe('session', () => {
      it('start prints the id (--json {"id"}); get, list newest first, end', async () => {
        assert.equal(await text(['session', 'start', '--intent', 'fix-bug', '--payload', '{"ticket":42}']), '1\n');
        const s2 = await json<{ id: number }>(['session', 'start']);
        assert.equal(s2.id, 2);
        assert.equal(await text(['session', 'start', '--intent', 'fix-bug']), '3\n');
        const got = await json<{ id: number; intent: string; payload: unknown; startedMs: number; started: string }>(['session', 'get', '1']);
        assert.deepEqual([got.id, got.intent, got.payload], [1, 'fix-bug', { ticket: 42 }]);
        assert.match(await text(['session', 'get', '1']), /^id: {6}1\nintent: {2}fix-bug\nstarted: .*\nended: {3}- \(active\)\nactor: .*\npayload: \{"ticket":42\}\n$/);
        assert.deepEqual((await json<{ id: number }[]>(['session', 'list'])).map((s) => s.id), [3, 2, 1]);
        assert.deepEqual((await json<{ id: number }[]>(['session', 'list', '--intent', 'fix-bug'])).map((s) => s.id), [3, 1]);
        assert.deepEqual((await json<{ id: number }[]>(['session', 'list', '--limit', '1'])).map((s) => s.id), [3]);
        const lines = (await text(['session', 'list'])).trimEnd().split('\n');
        assert.match(lines[0], /^3  \S+Z  active\s+fix-bug$/);
        assert.equal(await text(['session', 'end', '1']), 'ended session 1\n');
        assert.match((await text(['session', 'list'])).trimEnd().split('\n')[2], /^1  \S+Z  \S+Z  fix-bug$/);
        assertOneLineError(await run(['session', 'end', '1']), 1, /session 1: already ended/);
        assertOneLineError(await run(['session', 'get', '9']), 1, /session 9: no such session/);
        const before = await everything();
        assertOneLineError(await run(['session', 'start', '--payload', '{not json']), 1, /^avfs: --payload is not valid JSON/);
        assertOneLineError(await run(['session', 'start', '--payload']), 2);
        assert.equal(await everything(), before);
      });
    });

    describe('stream', () => {
      it('append, cat (--from, --json), list, trim', async () => {
        assert.equal(await text(['stream', 'append', 'log', 'one', '-l']), 'appended 4 bytes to log at offset 0\n');
        assertOk(await run(['stream', 'append', 'log', '--stdin'], { input: 'two\n' }));
        assertOk(await run(['--quiet', 'stream', 'append', '--line', 'log', 'three']));
        assert.equal(await text(['stream', 'cat', 'log']), 'one\ntwo\nthree\n');
        assert.equal(await text(['stream', 'cat', 'log', '--from', '4']), 'two\nthree\n');
        assert.equal(await text(['stream', 'cat', 'log', '--from', '5']), 'three\n');
        const lines = (await text(['--json', 'stream', 'cat', 'log'])).trimEnd().split('\n').map((l) => JSON.parse(l) as { offset: number; size: number; value: string; encoding: string });
        assert.deepEqual(lines.map((l) => [l.offset, l.size, l.value, l.encoding]), [[0, 4, 'one\n', 'utf8'], [4, 4, 'two\n', 'utf8'], [8, 6, 'three\n', 'utf8']]);
        assert.match(await text(['stream', 'list']), /^log  3  14  0  14  \S+Z\n$/);
        assert.equal(await text(['stream', 'trim', 'log', '--before', '8']), 'removed 2 appends (8 bytes) from log; it now starts at offset 8\n');
        assert.equal(await text(['stream', 'cat', 'log']), 'three\n');
        assertOneLineError(await run(['stream', 'cat', 'nope']), 1, /stream "nope": no such stream/);
        assertOneLineError(await run(['stream', 'trim', 'log']), 2, /--before OFFSET is required/);
        assertOneLineError(await run(['stream', 'append', 'log', '']), 1, /nothing to append/);
      });

      it('cat -f follows appends made by other processes, and stops on Ctrl-C', async () => {
        const f = background(['stream', 'cat', '-f', 'live']);
        await sleep(300);
        for (const line of ['a', 'b', 'c']) assertOk(await run(['stream', 'append', '-l', 'live', line]));
        await until(() => f.out() === 'a\nb\nc\n');
        f.kill('SIGINT');
        const r = await f.done;
        assert.equal(r.stderr, '');
        assert.equal(r.code, 0, `exit ${r.code} ${r.signal}`);
        assert.equal(f.out(), 'a\nb\nc\n');
      });
    });

    describe('state', () => {
      it('set, get, watch across processes (a late watcher sees the last value first)', async () => {
        assertOneLineError(await run(['state', 'get']), 1, /no agent state has been set/);
        assert.match(await text(['state', 'set', '{"status":"planning"}']), /^state version \d+\n$/);
        assert.equal(await text(['state', 'get']), '{"status":"planning"}\n');
        const full = await json<{ version: number; value: unknown; time: string }>(['state', 'get']);
        assert.deepEqual(full.value, { status: 'planning' });
        const w = background(['state', 'watch', '--count', '3']);
        await until(() => w.out().length > 0);
        assert.equal(w.out(), '{"status":"planning"}\n', 'the current state first');
        assertOk(await run(['state', 'set', '--stdin'], { input: '{"status":"working","step":1}' }));
        assertOk(await run(['state', 'set', '"done"']));
        const r = await w.done;
        assert.equal(r.code, 0);
        assert.equal(w.out(), '{"status":"planning"}\n{"status":"working","step":1}\n"done"\n');
        const late = await text(['--json', 'state', 'watch', '--count', '1']);
        assert.deepEqual((JSON.parse(late) as { value: unknown }).value, 'done');
        const before = await everything();
        assertOneLineError(await run(['state', 'set', '{oops']), 1, /^avfs: state is not valid JSON/);
        assertOneLineError(await run(['state', 'set', '']), 1, /state is not valid JSON/);
        assert.equal(await everything(), before);
        const wi = background(['state', 'watch']);
        await until(() => wi.out().length > 0);
        wi.kill('SIGTERM');
        assert.equal((await wi.done).code, 0);
      });
    });

    it('audit names what each memory operation touched', async () => {
      const recs = await json<{ op: string; info?: { target?: string } }[]>(['audit', '--limit', '200']);
      const ops = new Set(recs.map((r) => r.op));
      for (const op of ['memory.add', 'memory.forget', 'kv.set', 'kv.del', 'session.start', 'session.end', 'stream.append', 'stream.trim', 'state.set']) assert.ok(ops.has(op), op);
      assert.match(await text(['audit', '--limit', '1', '--op', 'stream.trim']), /stream\.trim\s+stream log/);
    });

    it('snapshot save --with-memory, list, restore (and --keep-memory); vault check; kv sweep; --at refused', async () => {
      assertOk(await run(['kv', 'set', 'snapkey', 'then']));
      const saved = await run(['snapshot', 'save', '--with-memory', 'mem-cli']);
      assertOk(saved);
      assert.match(saved.out, /^saved snapshot mem-cli \(operation \d+, with agent memory: \d+ memor(y|ies), \d+ keys?, \d+ sessions?, \d+ streams?\)\n$/);
      assert.match(await text(['snapshot', 'list']), /^mem-cli +\d+ +\S+ \S+ +\S+ +memory$/m);
      const listed = await json<{ name: string; memory?: { hash: string; memories: number } }[]>(['snapshot', 'list']);
      assert.ok(listed.find((x) => x.name === 'mem-cli')?.memory?.hash);
      const atSnap = await memoryListed();
      assertOk(await run(['kv', 'set', 'snapkey', 'now']));
      assertOk(await run(['memory', 'add', 'added after the snapshot']));
      const keep = await json<{ memory: boolean }>(['snapshot', 'restore', '--keep-memory', 'mem-cli']);
      assert.equal(keep.memory, false);
      assert.equal(await text(['kv', 'get', 'snapkey']), 'now');
      const r = await run(['snapshot', 'restore', 'mem-cli']);
      assertOk(r);
      assert.match(r.out, /restored snapshot mem-cli and its agent memory: /);
      assert.equal(await text(['kv', 'get', 'snapkey']), 'then');
      // The same memory as at the snapshot, but for the versions a restore moves on.
      const strip = (t: string): string => t.replace(/"version":\d+,?/g, '').replace(/"(updatedMs|updated)":[^,}]+,?/g, '').replace(/\n\{"timeMs":\d+,"actor":"[^"]*","value"/, '\n{"value"').replace(/,"time":"[^"]+"\}\n$/, '}\n');
      assert.equal(strip(await memoryListed()), strip(atSnap));
      assert.match(await text(['vault', 'check']), /^ok: /);

      // --at: memory has no history, said in one line (JSON under --json), exit 2.
      for (const args of [['kv', 'get', '--at', 'mem-cli', 'snapkey'], ['memory', 'list', '--at=1'], ['stream', 'cat', 'log', '--at', '1'], ['state', 'get', '--at', '1'], ['session', 'list', '--at', '1']]) {
        assertOneLineError(await run(args), 2, /agent memory has no history, so --at does not apply/);
      }
      assertJsonError(await run(['--json', 'kv', 'list', '--at', '1']), 2, 'EUSAGE');
      assert.equal(await text(['kv', 'get', '--', '--at']).catch(() => 'absent'), 'absent', 'after --, --at is a key');

      // kv sweep.
      assertOk(await run(['kv', 'set', '--ttl', '1', 'short', 'x']));
      await sleep(1100);
      const sw = await run(['kv', 'sweep']);
      assertOk(sw);
      assert.match(sw.out, /^removed [1-9]\d* expired keys?\n$/);
      assert.deepEqual(await json<{ removed: number }>(['kv', 'sweep']), { removed: 0 });
      assertOneLineError(await run(['kv', 'sweep', 'extra']), 2, /kv sweep/);
      assertOneLineError(await run(['snapshot', 'save', '--with-memory=yes', 'x']), 2);
      assertOneLineError(await run(['snapshot', 'restore', '--keep-memory', 'no-such-snapshot']), 1, /no snapshot named/);
    });
  });
}
