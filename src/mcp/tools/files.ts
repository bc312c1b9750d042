// Tools that read and change single files and folders: read_file, read_multiple_files,
// write_file, edit_file, append_file, create_directory, move, copy, delete, stat.
import { z } from 'zod';
import { isVfsError, vfsError } from '../../errors.js';
import type { FileOps } from '../../api/fileops.js';
import { unifiedDiff } from '../../util/diff.js';
import { tool, pathArg, atArg, statShape, statOut, contentBytes, utf8OrUndefined, humanBytes, describeError, errorLine, MAX_WRITE_BYTES, type ToolDef, READ_ONLY } from '../common.js';
import { readForModel, readNote, readShape, DEFAULT_LINES, MAX_CHARS, type ReadOut } from '../read.js';

const int = (min: number): z.ZodNumber => z.number().int().min(min).max(Number.MAX_SAFE_INTEGER);
const encodingArg = z
  .enum(['utf8', 'base64'])
  .optional()
  .describe('how `content` is written: utf8 text (default), or base64 for binary bytes');

const readFile = tool({
  name: 'read_file',
  title: 'Read a file',
  description:
    `Read a text file from the vault. Returns up to \`limit\` lines (default ${DEFAULT_LINES}) starting at line \`offset\` (counted from 1), and at most ${MAX_CHARS / 1024} KiB of text per call; ` +
    'when the file goes on, `truncated` is true and `nextOffset` says where to continue. ' +
    'Give `version` (a number from file_history) to read an earlier version of the file, even one that has been deleted, or `at` to read the file as it was at a snapshot, operation number or time. ' +
    'Binary files (up to 1 MiB) come back base64-encoded with encoding "base64".',
  input: {
    path: pathArg(),
    offset: int(1).optional().describe('first line to return, counted from 1 (default 1)'),
    limit: int(1).optional().describe(`how many lines to return at most (default ${DEFAULT_LINES})`),
    version: int(1).optional().describe('read this content version of the file (see file_history) instead of the current content'),
    at: atArg,
  },
  output: readShape,
  ...READ_ONLY,
  async run(a, s) {
    const r = await readForModel(s, a);
    const note = readNote(r);
    return { text: note ? (r.content === '' ? note : [r.content, note]) : r.content, data: r };
  },
});

const fileResult = z.object({
  path: z.string(),
  ok: z.boolean(),
  encoding: z.enum(['utf8', 'base64']).optional(),
  content: z.string().optional(),
  size: z.number().optional(),
  version: z.number().optional(),
  lines: z.number().optional(),
  truncated: z.boolean().optional(),
  nextOffset: z.number().optional(),
  error: z.string().optional().describe('why this file could not be read ("ENOENT: ...")'),
});

const MAX_TOTAL = 1024 * 1024;

const readMultiple = tool({
  name: 'read_multiple_files',
  title: 'Read several files',
  description:
    `Read several text files in one call (up to 50). Each file gets the first ${DEFAULT_LINES} lines / ${MAX_CHARS / 1024} KiB, as read_file gives; ` +
    'a file that cannot be read gets an `error` ("ENOENT: ...") and the others are still returned. The whole reply is capped at 1 MiB; files past that get an error saying so (read them separately).',
  input: {
    paths: z.array(z.string()).min(1).max(50).describe('vault paths of the files to read'),
  },
  output: { files: z.array(fileResult) },
  ...READ_ONLY,
  async run(a, s) {
    const files: z.infer<typeof fileResult>[] = [];
    const text: string[] = [];
    let total = 0;
    for (const path of a.paths) {
      if (total >= MAX_TOTAL) {
        const error = 'EFBIG: not read: this reply already holds 1 MiB; read this file with read_file';
        files.push({ path, ok: false, error });
        text.push(`==> ${path} <==\n${error}\n`);
        continue;
      }
      try {
        const r: ReadOut = await readForModel(s, { path }, Math.min(MAX_CHARS, MAX_TOTAL - total));
        total += r.content.length;
        const f: z.infer<typeof fileResult> = { path: r.path, ok: true, encoding: r.encoding, content: r.content, size: r.size, version: r.version, lines: r.lines, truncated: r.truncated };
        if (r.nextOffset !== undefined) f.nextOffset = r.nextOffset;
        files.push(f);
        const note = readNote(r);
        text.push(`==> ${r.path} <==\n${r.content}${r.content.endsWith('\n') || r.content === '' ? '' : '\n'}${note ? note + '\n' : ''}`);
      } catch (e) {
        const error = errorLine(describeError(e, s.confine));
        files.push({ path, ok: false, error });
        text.push(`==> ${path} <==\n${error}\n`);
      }
    }
    return { text: text.join('\n'), data: { files } };
  },
});

const writtenShape = {
  path: z.string(),
  size: z.number(),
  version: z.number().describe('the content version this write made'),
  hash: z.string().optional(),
};

const writeFile = tool({
  name: 'write_file',
  title: 'Write a file',
  description:
    'Create a file or replace its whole content. Missing parent folders are created. The previous content is kept in the file\'s history (file_history, restore_version), so a replace can be undone. ' +
    'Set `create_only` to fail with EEXIST instead of replacing an existing file. To change part of a file, prefer edit_file; to add to the end, append_file. At most 32 MiB per call.',
  input: {
    path: pathArg(),
    content: z.string().describe('the new content of the file'),
    encoding: encodingArg,
    create_only: z.boolean().optional().describe('fail with EEXIST if the file already exists (default false)'),
  },
  output: writtenShape,
  mutates: true,
  destructiveHint: true,
  idempotentHint: true,
  async run(a, s) {
    const st = await s.write(
      async (ops) => ({ p: await s.resolve(ops, a.path, true), data: contentBytes(a.content, a.encoding, a.path) }),
      (ops, { p, data }) => ops.writeFile(p, data, { exclusive: !!a.create_only }),
    );
    const data = { path: s.out(st.path), size: st.size, version: st.version, ...(st.hash ? { hash: st.hash } : {}) };
    return { text: `wrote ${humanBytes(st.size)} to ${data.path} (version ${st.version})`, data };
  },
});

const appendFile = tool({
  name: 'append_file',
  title: 'Append to a file',
  description:
    'Add content to the end of a file (created, with its parent folders, if missing). Nothing is inserted between the old content and the new: include a leading newline if you need one. ' +
    'Stores only the changed end of a big file. At most 32 MiB per call.',
  input: {
    path: pathArg(),
    content: z.string().describe('what to add at the end'),
    encoding: encodingArg,
  },
  output: writtenShape,
  mutates: true,
  destructiveHint: false,
  idempotentHint: false,
  async run(a, s) {
    const st = await s.write(
      async (ops) => ({ p: await s.resolve(ops, a.path, true), data: contentBytes(a.content, a.encoding, a.path) }),
      (ops, { p, data }) => ops.appendFile(p, data),
    );
    const data = { path: s.out(st.path), size: st.size, version: st.version, ...(st.hash ? { hash: st.hash } : {}) };
    return { text: `appended to ${data.path}: now ${humanBytes(st.size)} (version ${st.version})`, data };
  },
});

/** The library's EISDIR says "use -r" (the CLI's words); a tool's caller sets `recursive`. */
function agentHint(verb: string): (e: unknown) => never {
  return (e) => {
    if (isVfsError(e, 'EISDIR') && /use -r/.test(e.message)) throw vfsError('EISDIR', e.path, `is a directory (set recursive: true to ${verb} it and everything in it)`);
    throw e;
  };
}

const MAX_EDITS = 100;
/** edit_file holds the file (and its new text) in memory: it works on files up to this size. */
const MAX_EDIT_FILE = 64 * 1024 * 1024;

const editFile = tool({
  name: 'edit_file',
  title: 'Edit a file',
  description:
    'Change a text file by exact string replacement. Each edit replaces `old_text` with `new_text`; `old_text` must match the file exactly (whitespace, indentation and line endings included) ' +
    'and occur exactly once, unless `replace_all` is set for that edit. Edits apply in order, each to the result of the ones before. ' +
    'All or nothing: if any edit does not match, nothing is written and the error says which edit failed and why. Returns a unified diff of the change; with `dry_run` nothing is written. ' +
    'The previous content stays in the file\'s history.',
  input: {
    path: pathArg(),
    edits: z
      .array(
        z.object({
          old_text: z.string().describe('exact text to find (copy it from read_file output, with enough surrounding lines to be unique)'),
          new_text: z.string().describe('text to put in its place'),
          replace_all: z.boolean().optional().describe('replace every occurrence instead of requiring exactly one (default false)'),
        }),
      )
      .min(1)
      .max(MAX_EDITS)
      .describe('replacements, applied in order'),
    dry_run: z.boolean().optional().describe('only show the diff; write nothing (default false)'),
  },
  output: {
    path: z.string(),
    diff: z.string().describe("unified diff of the change ('' when nothing changed)"),
    replacements: z.number().describe('occurrences replaced in all'),
    changed: z.boolean(),
    dryRun: z.boolean(),
    version: z.number().optional().describe('the content version written (not with dry_run or when nothing changed)'),
    size: z.number(),
  },
  mutates: true,
  destructiveHint: true,
  idempotentHint: false,
  async run(a, s) {
    const plan = async (ops: FileOps) => {
      const p = await s.resolve(ops, a.path, true);
      const st = await ops.stat(p);
      if (st.type === 'directory') throw vfsError('EISDIR', p);
      if (st.size > MAX_EDIT_FILE) throw vfsError('EFBIG', p, `file of ${humanBytes(st.size)}: edit_file edits files up to ${humanBytes(MAX_EDIT_FILE)} (use append_file, or write_file in parts)`);
      const added = a.edits.reduce((n, e) => n + e.new_text.length, 0);
      if (added > MAX_WRITE_BYTES) throw vfsError('EFBIG', p, `new_text over ${humanBytes(MAX_WRITE_BYTES)} in all: split the change into several calls`);
      const before = utf8OrUndefined(await ops.readFile(p));
      if (before === undefined) throw vfsError('EINVAL', p, 'binary file: edit_file changes text files only (use write_file)');
      let text = before;
      let replacements = 0;
      a.edits.forEach((e, i) => {
        const which = a.edits.length > 1 ? `edit ${i + 1} of ${a.edits.length}` : 'the edit';
        if (e.old_text === '') throw vfsError('EINVAL', p, `${which}: old_text is empty`);
        let n = 0;
        for (let at = text.indexOf(e.old_text); at >= 0; at = text.indexOf(e.old_text, at + e.old_text.length)) n++;
        if (n === 0) {
          const hint = i > 0 ? ' (after the edits before it)' : '';
          throw vfsError('EINVAL', p, `${which}: old_text not found in the file${hint}; it must match exactly, whitespace and line endings included (read the file again)`);
        }
        if (n > 1 && !e.replace_all) {
          throw vfsError('EINVAL', p, `${which}: old_text occurs ${n} times; include more surrounding text to make it unique, or set replace_all`);
        }
        text = e.replace_all ? text.split(e.old_text).join(e.new_text) : text.replace(e.old_text, () => e.new_text);
        replacements += e.replace_all ? n : 1;
      });
      const shown = s.out(p);
      return { p, before, after: text, replacements, diff: unifiedDiff(before, text, shown, shown) };
    };
    if (a.dry_run) {
      const r = await s.read(plan);
      const data = { path: s.out(r.p), diff: r.diff, replacements: r.replacements, changed: r.before !== r.after, dryRun: true, size: Buffer.byteLength(r.after) };
      return { text: r.diff || 'no change', data };
    }
    // Read, check and write in one transaction: a concurrent write cannot be lost in between.
    const r = await s.write(plan, async (ops, r) => ({ ...r, st: r.before === r.after ? undefined : await ops.writeFile(r.p, r.after) }), { atomic: true });
    const data = {
      path: s.out(r.p),
      diff: r.diff,
      replacements: r.replacements,
      changed: r.st !== undefined,
      dryRun: false,
      size: r.st?.size ?? Buffer.byteLength(r.after),
      ...(r.st ? { version: r.st.version } : {}),
    };
    return { text: r.st ? r.diff : 'no change (the edits left the file as it was)', data };
  },
});

const createDirectory = tool({
  name: 'create_directory',
  title: 'Create a folder',
  description: 'Create a folder, and any missing folders above it. Succeeds quietly if the folder already exists; fails with EEXIST if a file is in the way.',
  input: { path: pathArg() },
  output: { path: z.string(), created: z.boolean().describe('false when the folder was already there') },
  mutates: true,
  destructiveHint: false,
  idempotentHint: true,
  async run(a, s) {
    const r = await s.write(
      async (ops) => {
        const p = await s.resolve(ops, a.path, true);
        const there = await ops.stat(p).catch(() => undefined);
        return { p, existed: there?.type === 'directory' };
      },
      async (ops, r) => {
        if (!r.existed) await ops.mkdir(r.p, { recursive: true });
        return r;
      },
    );
    const path = s.out(r.p);
    return { text: r.existed ? `${path} already exists` : `created ${path}`, data: { path, created: !r.existed } };
  },
});

const move = tool({
  name: 'move',
  title: 'Move or rename',
  description:
    'Move or rename a file, folder or symlink, atomically. `destination` is the new path itself (not a folder to move into). ' +
    'Fails with EEXIST if something is already there, unless `overwrite` is set (a folder can only replace an empty folder). Parent folders of the destination must exist.',
  input: {
    source: pathArg('the path to move'),
    destination: pathArg('its new path'),
    overwrite: z.boolean().optional().describe('replace what is at destination (default false)'),
  },
  output: { source: z.string(), destination: z.string() },
  mutates: true,
  destructiveHint: true,
  idempotentHint: false,
  async run(a, s) {
    const r = await s.write(
      async (ops) => {
        const from = await s.resolve(ops, a.source, false);
        s.notRoot(from, 'move');
        return { from, to: await s.resolve(ops, a.destination, false) };
      },
      async (ops, r) => ({ ...r, done: await ops.rename(r.from, r.to, { noClobber: !a.overwrite }) }),
    );
    if (!r.done) throw vfsError('EEXIST', r.to, 'destination exists (set overwrite to replace it)');
    const data = { source: s.out(r.from), destination: s.out(r.to) };
    return { text: `moved ${data.source} to ${data.destination}`, data };
  },
});

const copy = tool({
  name: 'copy',
  title: 'Copy',
  description:
    'Copy a file, or a folder with `recursive`, to exactly `destination` (not into it). Content is shared, not duplicated, so copies are cheap. ' +
    'Fails with EEXIST if the destination exists, unless `overwrite` is set. The destination\'s folder must exist (create_directory makes one).',
  input: {
    source: pathArg('the path to copy'),
    destination: pathArg('the path of the copy'),
    recursive: z.boolean().optional().describe('copy a folder and everything in it (required for folders; default false)'),
    overwrite: z.boolean().optional().describe('replace what is at destination (default false)'),
  },
  output: { source: z.string(), destination: z.string() },
  mutates: true,
  destructiveHint: true,
  idempotentHint: true,
  async run(a, s) {
    const r = await s.write(
      async (ops) => ({ from: await s.resolve(ops, a.source, true), to: await s.resolve(ops, a.destination, true) }),
      async (ops, r) => ({ ...r, done: await ops.copy(r.from, r.to, { recursive: !!a.recursive, noClobber: !a.overwrite }) }),
    ).catch(agentHint('copy'));
    if (!r.done) throw vfsError('EEXIST', r.to, 'destination exists (set overwrite to replace it)');
    const data = { source: s.out(r.from), destination: s.out(r.to) };
    return { text: `copied ${data.source} to ${data.destination}`, data };
  },
});

const del = tool({
  name: 'delete',
  title: 'Delete',
  description:
    'Delete a file or symlink, or a folder with `recursive` (a folder without it fails with EISDIR). A symlink is removed itself, never what it points to. ' +
    'Deleted files stay in history: file_history and restore_version bring one back, snapshot_restore a whole tree.',
  input: {
    path: pathArg(),
    recursive: z.boolean().optional().describe('delete a folder and everything in it (default false)'),
  },
  output: { path: z.string(), deleted: z.boolean(), type: z.enum(['file', 'directory', 'symlink']).optional() },
  mutates: true,
  destructiveHint: true,
  idempotentHint: true,
  async run(a, s) {
    const r = await s.write(
      async (ops) => {
        const p = await s.resolve(ops, a.path, false);
        s.notRoot(p, 'delete');
        return { p, type: (await ops.lstat(p).catch(() => undefined))?.type };
      },
      async (ops, r) => ({ ...r, deleted: await ops.rm(r.p, { recursive: !!a.recursive }) }),
    ).catch(agentHint('delete'));
    const data = { path: s.out(r.p), deleted: r.deleted, ...(r.type ? { type: r.type } : {}) };
    return { text: `deleted ${data.path}`, data };
  },
});

const stat = tool({
  name: 'stat',
  title: 'File details',
  description:
    'Details of a file, folder or symlink: type, size, permission bits, content version, SHA-256 hash, times. A symlink is described itself (with its target) unless `follow_symlinks` is set.',
  input: {
    path: pathArg(),
    follow_symlinks: z.boolean().optional().describe('describe what a symlink points to instead of the link (default false)'),
    at: atArg,
  },
  output: statShape,
  ...READ_ONLY,
  async run(a, s) {
    const st = await s.readAt(a.at, async (ops) => {
      const p = await s.resolve(ops, a.path, !!a.follow_symlinks);
      return a.follow_symlinks ? ops.stat(p) : ops.lstat(p);
    });
    const data = statOut(st, s.confine);
    const lines = [
      `path: ${data.path}`,
      `type: ${data.type}${data.target !== undefined ? ` -> ${data.target}` : ''}`,
      `size: ${data.size} (${humanBytes(data.size)})`,
      `mode: ${data.mode}`,
      `version: ${data.version}`,
      ...(data.hash ? [`sha256: ${data.hash}`] : []),
      `modified: ${data.mtime}`,
      `changed: ${data.ctime}`,
      `created: ${data.birthtime}`,
    ];
    return { text: lines.join('\n'), data };
  },
});

export const fileTools: ToolDef[] = [readFile, readMultiple, writeFile, editFile, appendFile, createDirectory, move, copy, del, stat] as unknown as ToolDef[];
