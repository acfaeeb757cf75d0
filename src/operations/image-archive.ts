/**
 * A `docker save` archive on this machine, read once before planning: its checksum (for the upload
 * check), its size, and the image ID and tags from its manifest.json (read as a stream, gzip or
 * not, so a large archive is never held in memory).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { ImageArchive } from './container.js';

/** From manifest.json: the image ID (sha256:...) and its tags. Docker's classic layout and the OCI one. */
export function parseSaveManifest(json: string): { id: string; tags: string[] }[] {
  const m = JSON.parse(json) as { Config?: string; RepoTags?: string[] | null }[];
  return m.map((e) => {
    const hex = /([0-9a-f]{64})(?:\.json)?$/.exec(e.Config ?? '')?.[1];
    if (!hex) throw new Error(`manifest.json: no image config in entry ${JSON.stringify(e.Config)}`);
    return { id: `sha256:${hex}`, tags: e.RepoTags ?? [] };
  });
}

/** Scan tar headers in a stream of chunks for one small member; undefined when absent. */
export class TarMemberReader {
  private buf = Buffer.alloc(0);
  private skip = 0;
  private want = -1;
  private body: Buffer[] = [];
  done: string | undefined;
  finished = false;

  constructor(private readonly name: string) {}

  push(chunk: Buffer): void {
    if (this.finished) return;
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.buf.length);
        if (this.want >= 0) this.body.push(this.buf.subarray(0, Math.min(n, this.want - Buffer.concat(this.body).length)));
        this.buf = this.buf.subarray(n);
        this.skip -= n;
        if (this.skip > 0) return;
        if (this.want >= 0) {
          this.done = Buffer.concat(this.body).toString('utf8');
          this.finished = true;
          return;
        }
      }
      if (this.buf.length < 512) return;
      const header = this.buf.subarray(0, 512);
      this.buf = this.buf.subarray(512);
      if (header.every((b) => b === 0)) {
        this.finished = true;
        return;
      }
      const field = (a: number, b: number) => header.subarray(a, b).toString('utf8').replace(/\0.*$/s, '');
      const size = parseInt(field(124, 136).trim() || '0', 8);
      const prefix = field(345, 500);
      const path = (prefix ? `${prefix}/` : '') + field(0, 100);
      this.skip = Math.ceil(size / 512) * 512;
      if (path.replace(/^\.\//, '') === this.name && field(156, 157) !== 'x') {
        this.want = size;
        if (size === 0) {
          this.done = '';
          this.finished = true;
          return;
        }
      }
    }
  }
}

export async function readImageArchive(path: string): Promise<ImageArchive & { tags: string[] }> {
  const size = (await stat(path)).size;
  const head = await new Promise<Buffer>((res, rej) => {
    const s = createReadStream(path, { start: 0, end: 1 });
    s.on('data', (b) => res(b as Buffer));
    s.on('error', rej);
    s.on('end', () => res(Buffer.alloc(0)));
  });
  const hash = createHash('sha256');
  const tar = new TarMemberReader('manifest.json');
  await new Promise<void>((res, rej) => {
    const file = createReadStream(path);
    file.on('data', (b) => hash.update(b as Buffer));
    file.on('error', rej);
    const plain = head[0] === 0x1f && head[1] === 0x8b ? file.pipe(createGunzip()) : file;
    plain.on('data', (b: Buffer) => tar.push(b));
    plain.on('error', (e: Error) => rej(new Error(`${path}: not a docker save archive (${e.message})`)));
    plain.on('end', () => res());
  });
  if (tar.done === undefined) throw new Error(`${path}: no manifest.json inside: not a \`docker save\` archive`);
  const images = parseSaveManifest(tar.done);
  if (images.length !== 1) throw new Error(`${path}: holds ${images.length} images; lbdeploy loads an archive of exactly one`);
  return { path, size, sha256: hash.digest('hex'), id: images[0]!.id, tags: images[0]!.tags };
}
