import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configHash, container, containerImage, containerSignal, parseContainerFact, runArgs, type ContainerOptions } from '../../../src/operations/container.js';
import { parseSaveManifest, readImageArchive } from '../../../src/operations/image-archive.js';
import type { FactMap, PlanContext } from '../../../src/operations/types.js';

const ctx: PlanContext = { check: false, diff: false, allowReboot: false };
const ID = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const ARCHIVE = { path: '/tmp/k.tar.gz', sha256: 'c'.repeat(64), size: 12 * 1048576, id: ID };

function factsFor(op: ReturnType<typeof container>, values: string[]): FactMap {
  return new Map(op.facts(ctx).map((f, i) => [f.key, { stdout: values[i] ?? '', code: 0 }]));
}

describe('operation: container image (pull or load from an archive, ID checked)', () => {
  const cases: { what: string; archive?: boolean; id?: string; fact: string; kind: string; summary?: RegExp }[] = [
    { what: 'no docker -> fail', fact: '@no-docker\n', kind: 'fail' },
    { what: 'absent, archive -> upload and load', archive: true, fact: '@absent\n', kind: 'change', summary: /^upload \/tmp\/k\.tar\.gz \(12\.0 MiB\) and docker load r:1 \(absent\)$/ },
    { what: 'present with the archive\'s ID -> ok', archive: true, fact: `${ID}\n`, kind: 'ok' },
    { what: 'present with another ID -> load again', archive: true, fact: `${OTHER}\n`, kind: 'change', summary: /bbbbbbbbbbbb differs from aaaaaaaaaaaa/ },
    { what: 'absent, registry -> pull', fact: '@absent\n', kind: 'change', summary: /^docker pull r:1 \(absent\)$/ },
    { what: 'present, registry, no ID asked -> ok', fact: `${OTHER}\n`, kind: 'ok' },
    { what: 'present, registry, other ID than asked -> pull', id: ID, fact: `${OTHER}\n`, kind: 'change', summary: /^docker pull/ },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const op = containerImage({ ref: 'r:1', archive: c.archive ? ARCHIVE : undefined, id: c.id });
      const plan = op.plan(factsFor(op as never, [c.fact]), ctx);
      assert.equal(plan.kind, c.kind);
      if (plan.kind === 'change' && c.summary) assert.match(plan.summary, c.summary);
      if (plan.kind === 'change' && c.archive) {
        assert.deepEqual(plan.stdin, { localFile: '/tmp/k.tar.gz' }, 'the archive streams from the local file');
        assert.match(plan.script.text, /sha256sum[\s\S]*docker load -i "\$tmp"[\s\S]*expected sha256:a{64}/);
      }
    });
  }
});

describe('operation: container (recreate only when the config hash differs)', () => {
  const o: ContainerOptions = { name: 'keepalived', image: 'r:1', capAdd: ['NET_RAW', 'NET_ADMIN', 'NET_BROADCAST'], volumes: ['/etc/keepalived:/live/cfg'] };
  const hash = configHash(o, ID);
  const cases: { what: string; image: string; cur: string; kind: string; summary?: RegExp; script?: RegExp }[] = [
    { what: 'absent -> create', image: ID, cur: '@absent', kind: 'change', summary: /^create keepalived/, script: /docker run -d --name keepalived --restart=always --network=host --cap-add=NET_ADMIN --cap-add=NET_BROADCAST --cap-add=NET_RAW -v \/etc\/keepalived:\/live\/cfg --label io\.lbdeploy\.config-hash=/ },
    { what: 'running with the same hash -> ok', image: ID, cur: `running 0 ${hash}`, kind: 'ok' },
    { what: 'stopped with the same hash -> start, not recreate', image: ID, cur: `exited 0 ${hash}`, kind: 'change', summary: /^start keepalived \(was exited\)/, script: /docker start keepalived/ },
    { what: 'a new image under the same tag -> recreate (SIGTERM first)', image: OTHER, cur: `running 0 ${hash}`, kind: 'change', summary: /^recreate keepalived/, script: /docker stop -t 20 keepalived >\/dev\/null && docker rm keepalived/ },
    { what: 'no label (created by hand) -> recreate', image: ID, cur: 'running 0 <no value>', kind: 'change', summary: /config hash none ->/ },
    { what: 'image missing -> fail', image: '@absent', cur: '@absent', kind: 'fail' },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const op = container(o);
      const plan = op.plan(factsFor(op, [c.image, c.cur]), ctx);
      assert.equal(plan.kind, c.kind);
      if (plan.kind === 'change' && c.summary) assert.match(plan.summary, c.summary);
      if (plan.kind === 'change' && c.script) assert.match(plan.script.text, c.script);
    });
  }

  it('the hash changes with the arguments, the image ID, privilege; not with capability order', () => {
    assert.notEqual(configHash({ ...o, privileged: true }, ID), hash);
    assert.notEqual(configHash({ ...o, volumes: ['/etc/keepalived:/etc/keepalived'] }, ID), hash);
    assert.notEqual(configHash(o, OTHER), hash);
    assert.equal(configHash({ ...o, capAdd: ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW'] }, ID), hash);
    assert.deepEqual(runArgs({ ...o, privileged: true }).filter((a) => a.startsWith('--cap') || a === '--privileged'), ['--privileged'], 'privileged replaces the capabilities');
  });

  it('parses the container fact', () => {
    assert.deepEqual(parseContainerFact('running 2 abc\n'), { kind: 'present', status: 'running', restarts: 2, hash: 'abc' });
    assert.deepEqual(parseContainerFact('@absent\n'), { kind: 'absent' });
    assert.deepEqual(parseContainerFact('@no-docker\n'), { kind: 'no-docker' });
  });

  it('a reload signal goes only to a running container', () => {
    const op = containerSignal({ name: 'keepalived' });
    const key = op.facts(ctx)[0]!.key;
    const running = op.plan(new Map([[key, { stdout: 'running 0 x', code: 0 }]]), ctx);
    assert.equal(running.kind === 'change' && running.script.text, 'docker kill -s HUP keepalived >/dev/null');
    assert.equal(op.plan(new Map([[key, { stdout: '@absent', code: 0 }]]), ctx).kind, 'ok');
  });
});

describe('image archives (docker save): manifest and ID, read as a stream', () => {
  it('reads the classic and the OCI layout of manifest.json', () => {
    assert.deepEqual(parseSaveManifest(`[{"Config":"${'d'.repeat(64)}.json","RepoTags":["a:1"],"Layers":[]}]`), [{ id: `sha256:${'d'.repeat(64)}`, tags: ['a:1'] }]);
    assert.deepEqual(parseSaveManifest(`[{"Config":"blobs/sha256/${'e'.repeat(64)}","RepoTags":null}]`), [{ id: `sha256:${'e'.repeat(64)}`, tags: [] }]);
    assert.throws(() => parseSaveManifest('[{"Config":"x"}]'), /no image config/);
  });

  for (const gzip of [false, true]) {
    it(`finds manifest.json after a large member in a real tar${gzip ? ' (gzip)' : ''}, with size and checksum`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lbdeploy-archive-'));
      const src = join(dir, 'src');
      mkdirSync(join(src, 'layer'), { recursive: true });
      writeFileSync(join(src, 'layer', 'layer.tar'), Buffer.alloc(300_000, 7));
      writeFileSync(join(src, 'manifest.json'), `[{"Config":"${'f'.repeat(64)}.json","RepoTags":["lbdeploy-lab/keepalived:lab"]}]`);
      const out = join(dir, gzip ? 'a.tar.gz' : 'a.tar');
      assert.equal(spawnSync('tar', ['-C', src, gzip ? '-czf' : '-cf', out, 'layer', 'manifest.json']).status, 0);
      const a = await readImageArchive(out);
      assert.equal(a.id, `sha256:${'f'.repeat(64)}`);
      assert.deepEqual(a.tags, ['lbdeploy-lab/keepalived:lab']);
      assert.equal(a.sha256, spawnSync('sha256sum', [out]).stdout.toString().split(' ')[0]);
      assert.ok(a.size > 0);
    });
  }

  it('refuses a file that is not a docker save archive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbdeploy-archive-'));
    writeFileSync(join(dir, 'x'), 'not a tar');
    await assert.rejects(readImageArchive(join(dir, 'x')), /no manifest\.json inside/);
  });
});
