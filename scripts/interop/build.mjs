#!/usr/bin/env node
/**
 * Builds the Go interop peer (docs/handshake.md §9) from Debian's golang-go and
 * golang-google-grpc-dev (grpc-go 1.33.3): GO111MODULE=off, a private GOPATH whose src/ links
 * every directory of Debian's Go sources except along google.golang.org/grpc/credentials/alts/,
 * where real directories hold links to Debian's entries plus a copy of the peer's package, so
 * the peer may import credentials/alts/internal/{handshaker,conn}. Debian's source root is
 * derived from the package's own file list (dpkg -L), never written down here.
 *
 * Usage: node scripts/interop/build.mjs   → prints the peer binary's path
 * @module
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const OUT = join(ROOT, 'build', 'interop');
const PEER_PKG = 'google.golang.org/grpc/credentials/alts/altsrecordpeer';
const MARKER = '/google.golang.org/grpc/credentials/alts/internal/handshaker/handshaker.go';

/** Debian's Go source root (the directory holding google.golang.org/), from golang-google-grpc-dev's file list. */
export function debianGoSources() {
  let files;
  try {
    files = execFileSync('dpkg', ['-L', 'golang-google-grpc-dev'], { encoding: 'utf8' }).split('\n');
  } catch {
    throw new Error('golang-google-grpc-dev is not installed (apt-get install golang-go golang-google-grpc-dev)');
  }
  const hit = files.find((f) => f.endsWith(MARKER));
  if (hit === undefined) throw new Error(`golang-google-grpc-dev lists no ${MARKER.slice(1)}`);
  return hit.slice(0, hit.length - MARKER.length);
}

/** dst/<name> → src/<name> for every entry, except `except`, which becomes a real directory. */
function linkAllBut(src, dst, except) {
  mkdirSync(dst, { recursive: true });
  for (const name of readdirSync(src)) if (name !== except) symlinkSync(join(src, name), join(dst, name));
  return except === undefined ? null : join(dst, except);
}

/** Builds into `out` (default build/interop in the repository); returns the binary's path. */
export function buildPeer(out = OUT) {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error('go is not installed (apt-get install golang-go golang-google-grpc-dev)');
  }
  const src = debianGoSources();
  // Outside the repository: a tree of links into the system's sources is no place for tools that
  // copy or walk the work tree (Stryker's sandbox, linters). Removed once the binary is built.
  const gopath = mkdtempSync(join(tmpdir(), 'alts-record-gopath-'));
  try {
    return buildIn(src, gopath, out);
  } finally {
    rmSync(gopath, { recursive: true, force: true });
  }
}

function buildIn(src, gopath, out) {
  // Along the path to credentials/alts: real directories; everything else: links to Debian's.
  const path = ['google.golang.org', 'grpc', 'credentials', 'alts'];
  let from = src;
  let to = join(gopath, 'src');
  for (const part of path) {
    to = linkAllBut(from, to, part);
    from = join(from, part);
  }
  linkAllBut(from, to, undefined);
  const peerDir = join(to, 'altsrecordpeer');
  mkdirSync(peerDir);
  for (const f of readdirSync(join(HERE, 'peer'))) if (f.endsWith('.go')) copyFileSync(join(HERE, 'peer', f), join(peerDir, f));
  mkdirSync(out, { recursive: true });
  const bin = join(out, 'altsrecordpeer');
  execFileSync('go', ['build', '-o', bin, PEER_PKG], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GO111MODULE: 'off', GOPATH: gopath, GOFLAGS: '', GOPROXY: 'off' },
  });
  return bin;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(buildPeer());
  } catch (e) {
    console.error(`interop build: ${e.message}`);
    process.exitCode = 1;
  }
}
