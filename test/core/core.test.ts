import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  canonicalJson,
  decodeUtf8,
  digestFile,
  fromBase64,
  fromHex,
  parseDigestAlgorithm,
  parseJson,
  readInput,
  writeFileAtomic,
} from '../../src/core/index.js';
import { expectCode, tempDir } from '../helpers.js';

describe('core/encoding', () => {
  it('decodes standard and url-safe base64 and refuses anything else', async () => {
    assert.deepEqual(fromBase64('aGk='), Buffer.from('hi'));
    assert.deepEqual(fromBase64('-_8'), Buffer.from([0xfb, 0xff]));
    assert.deepEqual(fromBase64('aGk'), Buffer.from('hi')); // unpadded: valid in the url-safe form
    assert.deepEqual(fromBase64('-_8='), Buffer.from([0xfb, 0xff])); // url-safe, padded
    // 'aGl=' decodes to "hi" as well, through non-zero trailing bits: a second spelling, refused.
    for (const bad of ['a', '!!!!', 'aG k=', 'aGk==', 'aGl=', 'aGk=\n', '+_8=']) {
      await expectCode(() => fromBase64(bad), 'ERR_BASE64');
    }
  });
  it('decodes hex strictly', async () => {
    assert.deepEqual(fromHex('00ff'), Buffer.from([0, 255]));
    await expectCode(() => fromHex('0'), 'ERR_HEX');
    await expectCode(() => fromHex('zz'), 'ERR_HEX');
  });
  it('refuses invalid UTF-8', async () => {
    assert.equal(decodeUtf8(Buffer.from('é')), 'é');
    await expectCode(() => decodeUtf8(Buffer.from([0xc3, 0x28])), 'ERR_INPUT_ENCODING');
  });
});

describe('core/json', () => {
  it('canonicalises per RFC 8785 key order', () => {
    assert.equal(
      canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } }),
      '{"a":[true,null,"x"],"b":1,"c":{"y":2,"z":1}}',
    );
  });
  it('codes parse errors', async () => {
    await expectCode(() => parseJson('{"a":'), 'ERR_JSON_PARSE');
    await expectCode(() => parseJson(Buffer.from([0x7b, 0xff])), 'ERR_INPUT_ENCODING');
  });
});

describe('core/digest', () => {
  it('streams a file through several hashes', async () => {
    const dir = tempDir();
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    const path = join(dir, 'f.bin');
    writeFileSync(path, data);
    const d = await digestFile(path, ['sha256', 'sha384', 'sha512']);
    for (const a of ['sha256', 'sha384', 'sha512'] as const) {
      assert.equal(d[a].toString('hex'), createHash(a).update(data).digest('hex'));
    }
  });
  it('refuses SHA-1 and unknown algorithms, codes unreadable files', async () => {
    assert.equal(parseDigestAlgorithm('SHA2_256'), 'sha256');
    await expectCode(() => parseDigestAlgorithm('sha1'), 'ERR_DIGEST_UNSUPPORTED');
    await expectCode(() => digestFile('/nonexistent/file'), 'ERR_INPUT_UNREADABLE');
  });
});

describe('core/io', () => {
  it('caps input size before reading', async () => {
    const dir = tempDir();
    const p = join(dir, 'big');
    writeFileSync(p, Buffer.alloc(2048));
    await expectCode(() => readInput(p, 1024), 'ERR_INPUT_TOO_LARGE');
    assert.equal((await readInput(p, 4096)).length, 2048);
  });
  it('writes atomically and refuses to overwrite when asked', async () => {
    const dir = tempDir();
    const p = join(dir, 'out');
    await writeFileAtomic(p, 'one');
    await expectCode(() => writeFileAtomic(p, 'two', { overwrite: false }), 'ERR_OUTPUT_EXISTS');
    assert.equal((await readInput(p)).toString(), 'one');
  });
});
