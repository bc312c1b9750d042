// Unit tests for the CLI's pieces that need no vault on disk: the argument parser, find's GNU
// size/age rules, the progress bar's throttle, the formatters, and main() driven in-process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, type ArgsSpec } from '../src/cli/args.js';
import { sizeBounds, mtimeBounds } from '../src/cli/commands/find.js';
import { ProgressBar } from '../src/cli/progress.js';
import { humanBytes, memoryWriter, modeString, oneLine, toVfsError } from '../src/cli/output.js';
import { main } from '../src/cli/main.js';
import { isVfsError } from '../src/errors.js';

const spec: ArgsSpec = {
  flags: [
    { key: 'long', short: 'l', help: '' },
    { key: 'recursive', short: 'R', long: 'recursive', help: '' },
    { key: 'level', short: 'L', long: 'level', value: 'N', int: true, help: '' },
    { key: 'name', single: 'name', value: 'GLOB', help: '' },
    { key: 'mtime', single: 'mtime', value: 'N', help: '' },
    { key: 'type', single: 'type', value: 'T', choices: ['f', 'd'], help: '' },
  ],
  min: 0,
  max: 3,
};

function usage(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => isVfsError(e, 'EUSAGE') && re.test(e.message));
}

describe('cli argument parser', () => {
  it('combined short flags, values glued or separate, long flags with =', () => {
    const a = parseArgs(['-lR', 'x', '-L2', '--level=3', 'y'], spec, 't');
    assert.deepEqual(a.args, ['x', 'y']);
    assert.equal(a.flags.bool('long'), true);
    assert.equal(a.flags.bool('recursive'), true);
    assert.equal(a.flags.int('level'), 3, 'the last one wins');
    assert.equal(parseArgs(['-lL', '4'], spec, 't').flags.int('level'), 4);
    assert.equal(parseArgs(['--level', '5'], spec, 't').flags.int('level'), 5);
  });

  it('single-dash long flags and values that start with a dash', () => {
    const a = parseArgs(['/src', '-name', '*.ts', '-mtime', '-7'], spec, 'find');
    assert.deepEqual(a.args, ['/src']);
    assert.equal(a.flags.str('name'), '*.ts');
    assert.equal(a.flags.str('mtime'), '-7');
  });

  it('a flag declared multi accumulates its values, in order', () => {
    const multi: ArgsSpec = {
      flags: [
        { key: 'op', long: 'op', value: 'OP', multi: true, help: '' },
        { key: 'v', short: 'v', value: 'N', int: true, multi: true, help: '' },
      ],
      min: 0,
      max: 1,
    };
    const a = parseArgs(['--op', 'write', '-v1', 'p', '--op=rm', '-v', '2'], multi, 't');
    assert.deepEqual(a.flags.list('op'), ['write', 'rm']);
    assert.deepEqual(a.flags.ints('v'), [1, 2]);
    assert.deepEqual(a.args, ['p']);
    assert.deepEqual(parseArgs([], multi, 't').flags.list('op'), []);
    usage(() => parseArgs(['-v', 'x'], multi, 't'), /non-negative integer/);
  });

  it('-- ends the flags; a lone - is an argument', () => {
    const a = parseArgs(['-l', '--', '-R', '--level', '-'], spec, 't');
    assert.deepEqual(a.args, ['-R', '--level', '-']);
    assert.equal(a.flags.bool('recursive'), false);
    assert.deepEqual(parseArgs(['-'], spec, 't').args, ['-']);
  });

  it('usage errors: unknown flags, missing or bad values, argument counts', () => {
    usage(() => parseArgs(['--nope'], spec, 't'), /unknown flag --nope/);
    usage(() => parseArgs(['-lx'], spec, 't'), /unknown flag -x/);
    usage(() => parseArgs(['-L'], spec, 't'), /needs a value/);
    usage(() => parseArgs(['-L', 'many'], spec, 't'), /non-negative integer/);
    usage(() => parseArgs(['-type', 'q'], spec, 't'), /one of f, d/);
    usage(() => parseArgs(['--recursive=yes'], spec, 't'), /takes no value/);
    usage(() => parseArgs(['a', 'b', 'c', 'd'], spec, 't'), /too many arguments: d/);
    usage(() => parseArgs([], { ...spec, min: 1 }, 't'), /missing argument/);
  });

  it('stopAtPositional leaves the command and its arguments untouched', () => {
    const a = parseArgs(['-l', 'cmd', '--nope', 'x'], spec, '', { stopAtPositional: true });
    assert.deepEqual(a.rest, ['cmd', '--nope', 'x']);
    assert.equal(a.flags.bool('long'), true);
  });
});

describe('find: GNU -size and -mtime', () => {
  it('-size rounds up to the unit, a bare number is 512-byte blocks', () => {
    assert.deepEqual(sizeBounds('+1M'), { minSize: 1024 * 1024 + 1 });
    assert.deepEqual(sizeBounds('-10k'), { maxSize: 9 * 1024 });
    assert.deepEqual(sizeBounds('-1M'), { maxSize: 0 }, 'GNU: only empty files');
    assert.deepEqual(sizeBounds('5c'), { minSize: 5, maxSize: 5 });
    assert.deepEqual(sizeBounds('2'), { minSize: 513, maxSize: 1024 });
    assert.deepEqual(sizeBounds('0'), { minSize: 0, maxSize: 0 });
    usage(() => sizeBounds('1T'), /-size/);
    usage(() => sizeBounds('+'), /-size/);
  });

  it('-mtime counts whole days', () => {
    const now = 1_000_000_000_000;
    const day = 86_400_000;
    assert.deepEqual(mtimeBounds('-7', now), { newerThanMs: now - 7 * day + 1 });
    assert.deepEqual(mtimeBounds('+7', now), { olderThanMs: now - 8 * day + 1 });
    assert.deepEqual(mtimeBounds('0', now), { newerThanMs: now - day + 1, olderThanMs: now + 1 });
    usage(() => mtimeBounds('7d', now), /-mtime/);
  });
});

describe('progress bar', () => {
  it('draws at most every 100 ms and wipes the line at the end', () => {
    let t = 0;
    const out: string[] = [];
    const bar = new ProgressBar({ write: (s) => out.push(s) }, 'importing', () => t);
    const p = { files: 1, bytes: 1024, totalFiles: 10, totalBytes: 10240 };
    bar.update(p);
    t = 50;
    bar.update({ ...p, files: 2 });
    t = 150;
    bar.update({ ...p, files: 3 });
    assert.equal(out.length, 2);
    t = 1000;
    assert.equal(bar.line({ files: 3, bytes: 3 * 1024 * 1024, totalFiles: 10, totalBytes: 0 }), 'importing   3/10 files  3.0 MiB  3.0 MiB/s');
    bar.clear();
    assert.equal(out[out.length - 1], '\r\x1b[K');
    assert.ok(out[0].startsWith('\r\x1b[Kimporting'));
  });
});

describe('formatting', () => {
  it('mode strings like ls', () => {
    assert.equal(modeString('directory', 0o755), 'drwxr-xr-x');
    assert.equal(modeString('file', 0o644), '-rw-r--r--');
    assert.equal(modeString('symlink', 0o777), 'lrwxrwxrwx');
    assert.equal(modeString('file', 0o4755), '-rwsr-xr-x');
    assert.equal(modeString('directory', 0o1777), 'drwxrwxrwt');
    assert.equal(modeString('file', 0o2644), '-rw-r-Sr--');
  });

  it('sizes, one-line messages, foreign errors', () => {
    assert.equal(humanBytes(512), '512 B');
    assert.equal(humanBytes(12.3 * 1024 * 1024), '12.3 MiB');
    assert.equal(oneLine('a\nb\0c\x1b'), 'a\\nb\\0c\\x1b');
    const host = Object.assign(new Error('EACCES: permission denied, open \'/x\'\nmore'), { code: 'EACCES' });
    assert.deepEqual(toVfsError(host).toJSON(), { error: 'EACCES', message: "EACCES: permission denied, open '/x'" });
    assert.equal(toVfsError(new TypeError('boom\nstack')).code, 'EIO');
    assert.equal(toVfsError('text').message, 'text');
  });
});

describe('main() in-process', () => {
  const io = () => ({ stdout: memoryWriter(), stderr: memoryWriter(), stdinIsTTY: true, env: { AVFS_HOME: '/nonexistent-avfs-home' } });

  it('usage errors: exit 2, one line, JSON on stdout with --json', async () => {
    const a = io();
    assert.equal(await main(['nope'], a), 2);
    assert.equal(a.stderr.text(), 'avfs: unknown command "nope" (see avfs --help)\n');
    assert.equal(a.stdout.text(), '');
    const b = io();
    assert.equal(await main(['--json', 'ls', '-Q'], b), 2);
    assert.deepEqual(JSON.parse(b.stdout.text()), { error: 'EUSAGE', message: 'ls: unknown flag -Q (see avfs ls --help)' });
    assert.equal(b.stderr.text(), '');
  });

  it('runs commands against an in-memory vault', async () => {
    const a = io();
    assert.equal(await main(['--vault', ':memory:', '--json', 'write', '/a/b', 'hi'], a), 0);
    assert.equal((JSON.parse(a.stdout.text()) as { size: number }).size, 2);
    const b = io();
    assert.equal(await main(['--vault', ':memory:', 'cat', '/a/b'], b), 1);
    assert.equal(b.stderr.text(), 'avfs: /a: no such file or directory\n', 'each :memory: run starts empty');
    const c = io();
    assert.equal(await main(['write', '--vault', ':memory:', '/x'], c), 2, 'no CONTENT, stdin a terminal');
  });
});
