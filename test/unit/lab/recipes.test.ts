import { strict as assert } from 'node:assert';
import { labImageTag, recipeFor, recipeHash, WEB_NGINX_SITE } from '../../../src/lab/recipes.js';
import { baseHash } from '../../../src/image/rootfs.js';

describe('lab image recipes', () => {
  it('hashes a recipe stably and differently per role', () => {
    const lb = recipeFor('lb');
    assert.equal(recipeHash(lb), recipeHash(recipeFor('lb')));
    assert.notEqual(recipeHash(lb), recipeHash(recipeFor('web')));
    assert.match(labImageTag(lb), /^lbdeploy-lab-lb:[0-9a-f]{16}$/);
  });

  it('changes the hash when a file or package changes, and shares the base stage', () => {
    const lb = recipeFor('lb');
    const edited = { ...lb, files: { ...lb.files, '/etc/docker/daemon.json': '{}\n' } };
    assert.notEqual(recipeHash(edited), recipeHash(lb));
    assert.notEqual(recipeHash({ ...lb, rolePackages: ['docker.io', 'jq'] }), recipeHash(lb));
    assert.equal(baseHash(lb), baseHash(recipeFor('web')));
    assert.equal(baseHash(lb), baseHash(recipeFor('client')));
  });

  it('keeps haproxy, keepalived and ipvsadm out of every image: deploying them is lbdeploy\'s job', () => {
    for (const role of ['lb', 'web', 'client'] as const) {
      const r = recipeFor(role);
      for (const pkg of ['haproxy', 'keepalived', 'ipvsadm']) {
        assert.ok(![...r.basePackages, ...r.rolePackages].includes(pkg), `${role} has ${pkg}`);
      }
    }
  });

  it('serves one plain port and one PROXY-protocol port on the web hosts', () => {
    assert.match(WEB_NGINX_SITE, /listen 80 default_server;/);
    assert.match(WEB_NGINX_SITE, /listen 8080 default_server proxy_protocol;/);
    assert.match(WEB_NGINX_SITE, /client=\$proxy_protocol_addr/);
    assert.deepEqual(recipeFor('web').enable, ['ssh.service', 'nginx.service']);
    assert.ok(recipeFor('lb').enable.includes('docker.service'));
  });
});
