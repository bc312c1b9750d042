// Help texts, rendered from the command table and each command's own flag declarations.
import { flagLabel, usageError, type FlagDef } from './args.js';
import { COMMANDS, isGroup } from './commands/index.js';
import type { Command, CommandGroup } from './context.js';
import type { Writer } from './output.js';

function flagTable(flags: readonly FlagDef[]): string {
  const labels = flags.map(flagLabel);
  const w = Math.min(28, Math.max(0, ...labels.map((l) => l.length)));
  return flags.map((f, i) => `  ${labels[i].padEnd(w)}  ${f.help}\n`).join('');
}

function globalLine(globals: readonly FlagDef[]): string {
  return `global flags: ${globals.map(flagLabel).join('; ')}\n`;
}

export function overview(globals: readonly FlagDef[]): string {
  const names = Object.keys(COMMANDS);
  const w = Math.max(...names.map((n) => n.length));
  return (
    'avfs: a versioned virtual filesystem for AI agents, stored in an embedded database\n\n' +
    'usage: avfs [global flags] COMMAND [ARGS...]\n\n' +
    'commands:\n' +
    names.map((n) => `  ${n.padEnd(w)}  ${COMMANDS[n].summary}\n`).join('') +
    '\nglobal flags (before or after the command):\n' +
    flagTable(globals) +
    '\nexit codes: 0 ok, 1 the operation failed, 2 usage error\n' +
    'Run `avfs help COMMAND` or `avfs COMMAND --help` for a command\'s flags.\n'
  );
}

export function commandHelp(cmd: Command, summary: string, globals: readonly FlagDef[]): string {
  let s = `usage: avfs ${cmd.usage}\n\n${summary}\n`;
  if (cmd.notes?.length) s += '\n' + cmd.notes.map((l) => `${l}\n`).join('');
  if (cmd.flags.length) s += `\nflags:\n${flagTable(cmd.flags)}`;
  s += '\n' + globalLine(globals);
  return s;
}

export function groupHelp(name: string, group: CommandGroup, summary: string, globals: readonly FlagDef[]): string {
  const subs = Object.entries(group.sub);
  const w = Math.max(...subs.map(([, c]) => c.usage.length));
  let s = `usage: avfs ${group.usage}\n\n${summary}\n\nsubcommands:\n`;
  s += subs.map(([, c]) => `  avfs ${c.usage.padEnd(w)}  ${c.summary ?? ''}\n`).join('');
  if (group.notes?.length) s += '\n' + group.notes.map((l) => `${l}\n`).join('');
  s += `\nRun \`avfs ${name} SUBCOMMAND --help\` for its flags.\n` + globalLine(globals);
  return s;
}

/** `avfs help [COMMAND [SUBCOMMAND]]`. */
export async function helpFor(words: string[], globals: readonly FlagDef[], out: Writer): Promise<number> {
  if (words.length === 0) {
    await out.write(overview(globals));
    return 0;
  }
  const [name, subName] = words;
  if (name === 'help') {
    await out.write('usage: avfs help [COMMAND [SUBCOMMAND]]\n\nshow help for a command\n');
    return 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) throw usageError(`help: unknown command "${name}" (see avfs --help)`);
  const found = (await entry.load())[name];
  if (isGroup(found)) {
    if (subName === undefined) {
      await out.write(groupHelp(name, found, entry.summary, globals));
      return 0;
    }
    if (!Object.hasOwn(found.sub, subName)) throw usageError(`help: unknown subcommand "${name} ${subName}"`);
    const sub = found.sub[subName];
    await out.write(commandHelp(sub, sub.summary ?? entry.summary, globals));
    return 0;
  }
  await out.write(commandHelp(found, entry.summary, globals));
  return 0;
}
