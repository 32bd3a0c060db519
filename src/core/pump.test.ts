import assert from 'node:assert/strict';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { test } from 'node:test';
import { pump } from './pump.ts';

const upper = (): Transform => new Transform({ transform(c: Buffer, _e, cb) { cb(null, Buffer.from(c.toString('latin1').toUpperCase(), 'latin1')); } });
function sink(opts: { failAt?: number } = {}): { w: Writable; got: Buffer[] } {
  const got: Buffer[] = [];
  const w = new Writable({
    write(c: Buffer, _e, cb) {
      if (opts.failAt !== undefined && got.length === opts.failAt) return cb(Object.assign(new Error('disk full'), { code: 'ENOSPC' }));
      got.push(c);
      cb();
    },
  });
  return { w, got };
}

test('pump: everything arrives, in order, and the promise resolves after dst finished', async () => {
  const { w, got } = sink();
  await pump(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), upper(), w);
  assert.equal(Buffer.concat(got).toString(), 'ABCD');
  assert.equal(w.writableFinished, true);
});

test('pump: an error in any stream rejects with it and destroys all three', async () => {
  for (const where of ['src', 'through', 'dst'] as const) {
    const src = new PassThrough();
    const through = where === 'through'
      ? new Transform({ transform(_c, _e, cb) { cb(new Error('bad header')); } })
      : upper();
    const { w } = sink(where === 'dst' ? { failAt: 0 } : {});
    const p = pump(src, through, w);
    if (where === 'src') src.destroy(new Error('client went away'));
    else src.write('x');
    const err = await p.then(() => null, (e: Error) => e);
    assert.ok(err, where);
    assert.match(err.message, where === 'src' ? /client went away/ : where === 'through' ? /bad header/ : /disk full/);
    for (const s of [src, through, w]) assert.equal(s.destroyed, true, `${where}: every stream destroyed`);
  }
});

test('pump: a source closed before its end rejects with ERR_STREAM_PREMATURE_CLOSE instead of hanging', async () => {
  const src = new PassThrough();
  const { w } = sink();
  const p = pump(src, upper(), w);
  src.write('partial');
  src.destroy(); // no error: the session was dropped mid-DATA
  await assert.rejects(p, (e: NodeJS.ErrnoException) => e.code === 'ERR_STREAM_PREMATURE_CLOSE');
});
