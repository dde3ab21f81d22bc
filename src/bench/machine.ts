/**
 * The machine line every bench prints and records: CPU model, cores, platform, Node and its
 * OpenSSL, the openssl CLI's version if one is on PATH, and the load average at the start (the
 * machine may be shared, and a figure means little without it).
 * @module
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  platform: string;
  node: string;
  nodeOpenssl: string;
  /** `openssl version` of the CLI on PATH, or null when there is none. */
  opensslCli: string | null;
  loadavg: number[];
}

/** The openssl CLI's version ("3.0.19"), or null when none runs. */
export function opensslCliVersion(): string | null {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (r.status !== 0 || typeof r.stdout !== 'string') return null;
  const m = /OpenSSL\s+(\S+)/.exec(r.stdout);
  return m ? m[1]! : r.stdout.trim();
}

export function machine(): Machine {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.availableParallelism(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    nodeOpenssl: process.versions.openssl ?? 'none',
    opensslCli: opensslCliVersion(),
    loadavg: os.loadavg(),
  };
}
