// The address sources in the real portwarden process: `start` with
// directory.radiusListen, a secret file, a detail file and a Kea lease file;
// radclient's Start reaches the node's RADIUS server, FreeRADIUS-style and Kea
// records are followed, and `portwarden address who` (another process, the
// same store) names the holders; a Stop ends the session; `config check`
// refuses a secret file others can read.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden, startWithSink } from '../lib/portwarden.ts';
import { needTools, tempDir } from '../lib/tools.ts';
import { radclient, packet } from '../lib/radclient.ts';

const skip = needTools('radclient');
const tmp = tempDir('pw-e2e-sources-');
const secrets = join(tmp.path, 'radius-clients');
const detail = join(tmp.path, 'detail');
const kea = join(tmp.path, 'kea-leases4.csv');
const NOW = Math.floor(Date.now() / 1000);

describe('address sources on the real server', { skip }, () => {
  let sink: CaptureSink, pw: Portwarden;
  before(async () => {
    writeFileSync(secrets, '# the BNG\n127.0.0.1 e2e-secret\n', { mode: 0o600 });
    writeFileSync(kea, 'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n');
    ({ sink, pw } = await startWithSink({
      extraYaml: `directory:\n  radiusListen: "127.0.0.1:0"\n  radiusSecretFile: ${secrets}\n  detailFiles: [${detail}]\n  keaLeaseFiles: [${kea}]\n  pollMs: 100\n`,
    }));
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
    tmp.remove();
  });

  const who = async (addr: string): Promise<string> => (await pw.cli(['address', 'who', addr])).stdout;
  const eventually = async (addr: string, re: RegExp): Promise<void> => {
    let out = '';
    for (let i = 0; i < 50 && !re.test(out); i++) { out = await who(addr); if (!re.test(out)) await sleep(100); }
    assert.match(out, re);
  };

  test('radclient, a detail record and a Kea lease become assignments the CLI can ask about', async () => {
    const port = pw.port('radius-accounting');
    const start = { 'User-Name': 'ruth', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'e2e-1', 'NAS-Identifier': 'bng1', 'Framed-IP-Address': '100.64.40.1', 'Event-Timestamp': NOW - 60 };
    const r = await radclient(`127.0.0.1:${port}`, 'e2e-secret', [packet(start)]);
    assert.equal(r.replies, 1, r.out);
    await eventually('100.64.40.1', /ruth/);

    writeFileSync(detail, `Wed Dec  2 13:20:00 2026\n\tAcct-Status-Type = Start\n\tUser-Name = "sam"\n\tAcct-Session-Id = "e2e-2"\n\tFramed-IP-Address = 100.64.40.2\n\tNAS-IP-Address = 192.0.2.1\n\tTimestamp = ${NOW - 30}\n\n`);
    await pw.cli(['subscriber', 'put', 'tara', '--access', 'hw:02:00:00:00:00:42']);
    appendFileSync(kea, `198.51.100.42,02:00:00:00:00:42,,600,${NOW + 500},1,0,0,,0,\n`);
    await eventually('100.64.40.2', /sam/);
    await eventually('198.51.100.42', /tara/);

    const stop = await radclient(`127.0.0.1:${port}`, 'e2e-secret', [packet({ ...start, 'Acct-Status-Type': 'Stop', 'Event-Timestamp': NOW - 10 })]);
    assert.equal(stop.replies, 1, stop.out);
    await eventually('100.64.40.1', /^(?![\s\S]*ruth)/);
  });

  test('config check refuses a secret file others can read', async () => {
    chmodSync(secrets, 0o644);
    try {
      await pw.cli(['config', 'check']);
      assert.fail('config check passed');
    } catch (e) {
      assert.match(String((e as { stderr: string }).stderr), /radiusSecretFile: .*mode 644 lets others read it/);
    } finally {
      chmodSync(secrets, 0o600);
    }
  });
});
