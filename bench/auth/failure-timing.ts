// How long a failed AUTH PLAIN takes, by the account's hash type and for an
// unknown user: without padding (auth.failureFloorMs 0) and with the default
// floor. Prints medians and spread; nothing is asserted (a loaded machine moves
// the numbers). Run: node bench/auth/failure-timing.ts [rounds]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { encrypt } from 'unixcrypt';
import { silentLogger } from '../../src/core/index.ts';
import { openStore } from '../../src/store/index.ts';
import { AccountStore, Authenticator, checkPassword, deriveScramCredentials } from '../../src/auth/index.ts';

const rounds = Number(process.argv[2] ?? 15);
const dir = mkdtempSync(join(tmpdir(), 'pw-bench-auth-'));
const store = await openStore(join(dir, 'state.db'));
const accounts = await AccountStore.open(store);
const scram = (await deriveScramCredentials('pencil', { iterations: 4096 }))!;
const users: Record<string, string | null> = {
  'argon2id (ours)': null,
  'bcrypt cost 10': `{BLF-CRYPT}${bcrypt.hashSync('pencil', 10)}`,
  'sha512-crypt 5000': `{SHA512-CRYPT}${encrypt('pencil', '$6$saltsaltsalt')}`,
  'dovecot SCRAM 4096': `{SCRAM-SHA-256}4096,${scram.salt},${scram.storedKey},${scram.serverKey}`,
};
const logins: Record<string, string> = {};
let i = 0;
for (const [name, hash] of Object.entries(users)) {
  const login = `u${i++}@isp.example`;
  await accounts.add(hash ? { login, hash } : { login, password: 'pencil' });
  logins[name] = login;
}
logins['unknown user'] = 'nobody@isp.example';

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const show = (title: string, times: Record<string, number[]>) => {
  console.log(`${title}, ms (median  p10  p90) over ${rounds} rounds`);
  for (const [name, xs] of Object.entries(times)) {
    console.log(`  ${name.padEnd(20)} ${q(xs, 0.5).toFixed(1).padStart(7)} ${q(xs, 0.1).toFixed(1).padStart(6)} ${q(xs, 0.9).toFixed(1).padStart(6)}`);
  }
};
const auth = new Authenticator(accounts, { logger: silentLogger, disabledUrl: 'x', rehashOnLogin: false });
await auth.verifyPlain('warm@isp.example', 'x');
for (const login of Object.values(logins)) await auth.verifyPlain(login, 'warm-up'); // starts the worker threads
const raw: Record<string, number[]> = Object.fromEntries(Object.keys(logins).map((k) => [k, []]));
const padded: Record<string, number[]> = Object.fromEntries(Object.keys(logins).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, login] of Object.entries(logins)) {
    // What a failure cost before: the verification alone (the unknown user: the dummy argon2id).
    const rec = await accounts.authRecord(login);
    raw[name].push((await checkPassword(rec?.hash ?? (await accounts.authRecord(logins['argon2id (ours)']))!.hash, `wrong-${r}`)).ms);
    const t = performance.now();
    const res = await auth.verifyPlain(login, `wrong-${r}`);
    padded[name].push(performance.now() - t);
    if (res.ok) throw new Error('a wrong password was accepted');
  }
}
show('verification alone (unpadded)', raw);
show('failed AUTH PLAIN through the Authenticator, default floor 250 ms', padded);
await store.close();
rmSync(dir, { recursive: true, force: true });
