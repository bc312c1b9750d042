// What every command gets: its parsed arguments, the global options, the output writers and a
// way to open the vault (only commands that need one open it). No module-level state: main()
// builds one Context per run.
import type { Vault } from '../api/vault.js';
import type { FlagDef, Flags } from './args.js';
import type { Writer } from './output.js';

export interface Context {
  /** Positional arguments (after the command name, flags removed). */
  readonly args: string[];
  /** The command's flags and the global ones. */
  readonly flags: Flags;
  readonly json: boolean;
  readonly quiet: boolean;
  /** Where avfs keeps its config ($AVFS_HOME or ~/.avfs). */
  readonly home: string;
  /** --vault NAME|PATH, if given. */
  readonly vaultRef: string | undefined;
  /** --actor NAME, if given (else the library's default: $AVFS_ACTOR, else the OS user). */
  readonly actor: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly out: Writer;
  readonly err: Writer;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdinIsTTY: boolean;
  /** Open the vault (--vault, else the current one), once; main closes it at the end. */
  vault(): Promise<Vault>;
  /** Print data: lines for people (ignored with --json, which uses printJson). */
  print(text: string): Promise<void>;
  /** A confirmation or summary: suppressed by --quiet and --json. */
  note(text: string): Promise<void>;
  /** One JSON document on one line. */
  printJson(value: unknown): Promise<void>;
  /** A warning on stderr (`avfs: warning: ...`); shown even with --quiet. */
  warn(text: string): Promise<void>;
  /**
   * Report one operand's failure and carry on (like GNU tools); the run then exits 1. With no
   * error, only marks the run failed (the command already said why, e.g. vault check).
   */
  fail(e?: unknown): Promise<void>;
  /** True once fail() was called. */
  readonly failed: boolean;
  /** Exit with at least this code (diff's 1 "different" and 2 "trouble"); marks the run failed. */
  setExitCode(code: number): void;
}

export interface Command {
  /** Usage after `avfs `, e.g. `ls [-l] [-a] [-R] [PATH...]`. */
  usage: string;
  /** One line; for subcommands (the top-level lines live in commands/index.ts). */
  summary?: string;
  /** Extra help lines shown by `avfs CMD --help`. */
  notes?: string[];
  flags: FlagDef[];
  /** Positional argument count. */
  min: number;
  max: number;
  run(ctx: Context): Promise<void>;
}

/** A command module exports its commands by name; a group (vault) also has subcommands. */
export interface CommandGroup {
  usage: string;
  notes?: string[];
  /** Why `--at` does not apply to this group's data (it has no history): refused with this. */
  noAt?: string;
  sub: Record<string, Command>;
}

export type CommandModule = Record<string, Command | CommandGroup>;
