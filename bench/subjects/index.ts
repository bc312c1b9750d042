// Every subject the benchmark knows, in run order, and the --only filter over them.
import { agentvfsSpecs } from './agentvfs.js';
import { agentfsSpecs } from './agentfs.js';
import { hostSpecs } from './host.js';
import { memfsSpecs } from './memfs.js';
import type { SubjectSpec } from './subject.js';

/** postgres only when a server is given: AVFS_BENCH_PG_URL=postgres://user@host/db npm run bench. */
export const ENGINES = ['sqlite', 'lmdb', 'log', 'rocksdb', 'memory', ...(process.env.AVFS_BENCH_PG_URL ? ['postgres'] : [])];

export function allSubjects(): SubjectSpec[] {
  return [...hostSpecs(), ...agentvfsSpecs(ENGINES), ...agentfsSpecs(), ...memfsSpecs()];
}

/**
 * `--only sqlite,host`: a token picks a subject by id (sqlite-batch), by id prefix (sqlite,
 * host, agentfs) or by kind (agentvfs). The host filesystem is what ratios are taken against.
 */
export function pickSubjects(only: string[] | undefined): SubjectSpec[] {
  const all = allSubjects();
  if (!only || only.length === 0) return all;
  const picked = all.filter((s) => only.some((t) => s.id === t || s.id.startsWith(`${t}-`) || s.kind === t));
  const unknown = only.filter((t) => !all.some((s) => s.id === t || s.id.startsWith(`${t}-`) || s.kind === t));
  if (unknown.length > 0) {
    throw new Error(`--only: unknown subject ${unknown.join(', ')} (known: ${all.map((s) => s.id).join(', ')}, agentvfs)`);
  }
  return picked;
}
