// Where avfs keeps its own files: ~/.avfs, or $AVFS_HOME. Holds config.toml (settings and the
// vault registry), state.json (per-vault working directory) and vaults/ (default vault home).
import { homedir } from 'node:os';
import { join } from 'node:path';

export function avfsHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.AVFS_HOME && env.AVFS_HOME.length > 0 ? env.AVFS_HOME : join(homedir(), '.avfs');
}

export const configFile = (home: string): string => join(home, 'config.toml');
export const stateFile = (home: string): string => join(home, 'state.json');
export const vaultsDir = (home: string): string => join(home, 'vaults');
