/**
 * Containers run by the host's Docker engine: an image (pulled from a registry, or uploaded from a
 * local archive and `docker load`ed, its ID checked) and a long-running container recreated only
 * when its image or its run arguments differ. A config change alone is the playbook's reload signal.
 */
import { createHash } from 'node:crypto';
import { join, sh, type ShellCommand } from '../connection/shell.js';
import { common, fact, type FactRequest, type Operation, type StepOptions, type StepPlan } from './types.js';
import { EXIT_UPLOAD_INCOMPLETE } from './file.js';

/** The label holding the hash of everything a container was created with (image ID and arguments). */
export const CONFIG_HASH_LABEL = 'io.lbdeploy.config-hash';

export interface ImageArchive {
  /** Local path of a `docker save` archive (plain or gzip). */
  path: string;
  sha256: string;
  size: number;
  /** The image ID inside it (sha256:...). */
  id: string;
}

export interface ImageOptions extends StepOptions {
  ref: string;
  /** Air-gapped: upload this archive and `docker load` it when the host lacks the image. */
  archive?: ImageArchive;
  /** The ID the image must have (checked after a pull or a load). */
  id?: string;
}

const ID_FORMAT = '{{.Id}}';

export function imageFact(ref: string): FactRequest {
  return { key: `docker-image:${ref}`, command: sh`if ! command -v docker >/dev/null 2>&1; then echo @no-docker; else docker image inspect --format ${ID_FORMAT} ${ref} 2>/dev/null || echo @absent; fi` };
}

/** What the image fact says: no docker, no image, or its ID. */
export function parseImageFact(stdout: string): { kind: 'no-docker' } | { kind: 'absent' } | { kind: 'present'; id: string } {
  const t = stdout.trim();
  if (t.includes('@no-docker')) return { kind: 'no-docker' };
  if (t === '' || t.includes('@absent')) return { kind: 'absent' };
  return { kind: 'present', id: t };
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export function containerImage(o: ImageOptions): Operation {
  const req = imageFact(o.ref);
  const want = o.archive?.id ?? o.id;
  const checkId = want ? sh`id=$(docker image inspect --format ${ID_FORMAT} ${o.ref} 2>/dev/null || true)
[ "$id" = ${want} ] || { echo "lbdeploy: ${o.ref} has ID \${id:-none}, expected ${want}" >&2; exit 1; }` : sh`:`;
  return {
    ...common('image', `image ${o.ref}`, o),
    facts: () => [req],
    plan: (facts, ctx): StepPlan => {
      const f = parseImageFact(fact(facts, req.key).stdout);
      if (f.kind === 'no-docker') {
        if (ctx.check) return { kind: 'change', summary: `get ${o.ref} once an earlier step installs docker`, script: sh`:` };
        return { kind: 'fail', message: 'docker is not installed', hint: 'install a container engine (docker.io) in an earlier step' };
      }
      if (f.kind === 'present' && (!want || f.id === want)) return { kind: 'ok', reason: `${o.ref} is present (${short(f.id)})` };
      const why = f.kind === 'absent' ? 'absent' : `${short(f.id)} differs from ${short(want!)}`;
      if (!o.archive) return { kind: 'change', summary: `docker pull ${o.ref} (${why})`, script: sh`docker pull -q ${o.ref} >/dev/null\n${checkId}` };
      return {
        kind: 'change',
        summary: `upload ${o.archive.path} (${(o.archive.size / 1048576).toFixed(1)} MiB) and docker load ${o.ref} (${why})`,
        script: loadArchiveScript(o.archive, checkId),
        stdin: { localFile: o.archive.path },
      };
    },
  };
}

/** The remote side of an archive upload: a temp file, its checksum, `docker load`, the ID check; the temp file never stays. */
export function loadArchiveScript(a: ImageArchive, checkId: ShellCommand): ShellCommand {
  return sh`set -e
tmp=$(mktemp /var/tmp/lbdeploy-image.XXXXXX)
trap 'rm -f "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
trap '' PIPE
cat > "$tmp"
if [ "$(sha256sum < "$tmp" | cut -d' ' -f1)" != ${a.sha256} ]; then echo "lbdeploy: upload of the image archive incomplete (checksum mismatch)" >&2; exit ${EXIT_UPLOAD_INCOMPLETE}; fi
docker load -i "$tmp" >/dev/null
${checkId}`;
}

export interface ContainerOptions extends StepOptions {
  name: string;
  image: string;
  /** Host networking, as keepalived needs to own the VIP and program IPVS. */
  network?: 'host' | 'bridge' | 'none';
  restart?: 'always' | 'unless-stopped' | 'on-failure' | 'no';
  /** Least privilege: only these capabilities (ignored when privileged). */
  capAdd?: string[];
  privileged?: boolean;
  /** host:container[:ro]; mount folders, not files, so an atomic rename inside is seen. */
  volumes?: string[];
  env?: Record<string, string>;
  /** Arguments after the image (the image's command). */
  command?: string[];
}

/** The `docker run` arguments, in a stable order (their hash decides whether to recreate). */
export function runArgs(o: ContainerOptions): string[] {
  const args = ['--name', o.name, `--restart=${o.restart ?? 'always'}`, `--network=${o.network ?? 'host'}`];
  if (o.privileged) args.push('--privileged');
  else for (const c of [...(o.capAdd ?? [])].sort()) args.push(`--cap-add=${c}`);
  for (const v of o.volumes ?? []) args.push('-v', v);
  for (const [k, v] of Object.entries(o.env ?? {}).sort(([a], [b]) => a.localeCompare(b))) args.push('-e', `${k}=${v}`);
  return args;
}

/** The hash a container carries in its label: the image's ID (so a new image under the same tag counts) and the arguments. */
export function configHash(o: ContainerOptions, imageId: string): string {
  return createHash('sha256').update(JSON.stringify({ imageId, args: runArgs(o), image: o.image, command: o.command ?? [] })).digest('hex').slice(0, 16);
}

const STATE_FORMAT = `{{.State.Status}} {{.RestartCount}} {{index .Config.Labels "${CONFIG_HASH_LABEL}"}}`;

export function containerFact(name: string): FactRequest {
  return { key: `docker-container:${name}`, command: sh`if ! command -v docker >/dev/null 2>&1; then echo @no-docker; else docker inspect --type container --format ${STATE_FORMAT} ${name} 2>/dev/null || echo @absent; fi` };
}

export type ContainerState = { kind: 'no-docker' } | { kind: 'absent' } | { kind: 'present'; status: string; restarts: number; hash: string };

export function parseContainerFact(stdout: string): ContainerState {
  const t = stdout.trim();
  if (t.includes('@no-docker')) return { kind: 'no-docker' };
  if (t === '' || t.includes('@absent')) return { kind: 'absent' };
  const [status = '', restarts = '0', hash = ''] = t.split(/\s+/);
  return { kind: 'present', status, restarts: Number(restarts), hash: hash === '<no' ? '' : hash };
}

/**
 * A long-running container: created when absent, recreated when the config-hash label (image ID +
 * arguments) differs, started when stopped. The script checks it is still running a moment later,
 * and shows its last log lines when it is not.
 */
export function container(o: ContainerOptions): Operation {
  const img = imageFact(o.image);
  const cur = containerFact(o.name);
  return {
    ...common('container', `container ${o.name}`, o),
    facts: () => [img, cur],
    plan: (facts, ctx): StepPlan => {
      const image = parseImageFact(fact(facts, img.key).stdout);
      const c = parseContainerFact(fact(facts, cur.key).stdout);
      if (image.kind !== 'present' || c.kind === 'no-docker') {
        if (ctx.check) return { kind: 'change', summary: `run ${o.name} once earlier steps install docker and ${o.image}`, script: sh`:` };
        return { kind: 'fail', message: image.kind === 'no-docker' || c.kind === 'no-docker' ? 'docker is not installed' : `image ${o.image} is not on the host`, hint: 'install docker and get the image in earlier steps' };
      }
      const hash = configHash(o, image.id);
      // Still running a moment later (a bad config makes keepalived exit at once); new containers have not restarted.
      const running = (fresh: boolean) => sh`sleep 2
set -- $(docker inspect --format '{{.State.Status}} {{.RestartCount}}' ${o.name})
if [ "$1" != running ] || { ${fresh ? sh`[ "$2" != 0 ]` : sh`false`}; }; then echo "lbdeploy: container ${o.name} is $1 (restarts: $2); its last log lines:" >&2; docker logs --tail 15 ${o.name} >&2 2>&1; exit 1; fi`;
      const run = sh`docker run -d ${runArgs(o)} --label ${`${CONFIG_HASH_LABEL}=${hash}`} ${o.image} ${o.command ?? []} >/dev/null`;
      // SIGTERM first: keepalived then gives up its VIP and IPVS rules (a kill would leave them behind).
      const stop = sh`docker stop -t 20 ${o.name} >/dev/null && docker rm ${o.name} >/dev/null`;
      if (c.kind === 'absent') return { kind: 'change', summary: `create ${o.name} from ${o.image}`, script: join([sh`set -e`, run, running(true)], '\n') };
      if (c.hash !== hash) {
        return { kind: 'change', summary: `recreate ${o.name}: image or arguments changed (config hash ${c.hash || 'none'} -> ${hash})`, script: join([sh`set -e`, stop, run, running(true)], '\n') };
      }
      if (c.status !== 'running') return { kind: 'change', summary: `start ${o.name} (was ${c.status})`, script: join([sh`set -e`, sh`docker start ${o.name} >/dev/null`, running(false)], '\n') };
      return { kind: 'ok', reason: `${o.name} is running (config hash ${hash})` };
    },
  };
}

/** Reload a container's process with a signal (keepalived: SIGHUP), when it runs. */
export function containerSignal(o: StepOptions & { name: string; signal?: string }): Operation {
  const cur = containerFact(o.name);
  const signal = o.signal ?? 'HUP';
  return {
    ...common('container-signal', `signal ${signal} to ${o.name}`, o),
    facts: () => [cur],
    plan: (facts) => {
      const c = parseContainerFact(fact(facts, cur.key).stdout);
      if (c.kind !== 'present' || c.status !== 'running') return { kind: 'ok', reason: `${o.name} is not running: it reads its config when it starts` };
      return { kind: 'change', summary: `docker kill -s ${signal} ${o.name}`, script: sh`docker kill -s ${signal} ${o.name} >/dev/null` };
    },
  };
}
