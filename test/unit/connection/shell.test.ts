import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { quote, raw, sh } from '../../../src/connection/shell.js';

describe('shell quoting', () => {
  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['', "''"],
    ['with space', "'with space'"],
    ["it's", `'it'\\''s'`],
    ['/etc/haproxy/haproxy.cfg', '/etc/haproxy/haproxy.cfg'],
    ['$(reboot)', "'$(reboot)'"],
    ['a;b', "'a;b'"],
    ['line\nbreak', "'line\nbreak'"],
    ['*', "'*'"],
    ['-n', '-n'],
  ];
  for (const [input, expected] of cases) {
    it(`quotes ${JSON.stringify(input)}`, () => assert.equal(quote(input), expected));
  }

  // The real test of quoting: a POSIX shell reads each value back byte for byte.
  const hostile = ['$(id)', '`id`', "'", '"', '\\', 'a b\tc', '; rm -rf /', '$HOME', '!!', '\u00e9\u00e8', '--', '\n'];
  for (const value of hostile) {
    it(`round-trips ${JSON.stringify(value)} through /bin/sh`, () => {
      const out = execFileSync('/bin/sh', ['-c', `printf %s ${quote(value)}`]).toString();
      assert.equal(out, value);
    });
  }

  it('expands arrays to several quoted words and keeps raw fragments', () => {
    const cmd = sh`apt-get install -y ${['haproxy', 'keep alived']} ${raw('&&')} echo ${"it's"}`;
    assert.equal(cmd.text, `apt-get install -y haproxy 'keep alived' && echo 'it'\\''s'`);
  });

  it('nests commands built with sh unquoted', () => {
    const inner = sh`cat ${'/tmp/a b'}`;
    assert.equal(sh`sudo -n sh -c ${inner.text}`.text, `sudo -n sh -c 'cat '\\''/tmp/a b'\\'''`);
    assert.equal(sh`${inner} | wc -l`.text, `cat '/tmp/a b' | wc -l`);
  });
});
