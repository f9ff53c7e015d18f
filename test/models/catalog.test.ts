// The model catalog: MODEL_DIR plus every valid folder under MODELS_DIR, with family, default size and estimated
// memory; a broken folder is skipped with the loader's message and never stops the bot; a broken MODEL_DIR does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelCatalog } from '../../src/models/catalog.ts';
import { ensureTestModels } from '../fixtures/models.ts';

test('every valid folder is offered; broken ones are skipped with the reason; caches do not count as size', async () => {
  const root = await ensureTestModels();
  const dir = await mkdtemp(join(tmpdir(), 'imagine-catalog-'));
  try {
    await cp(join(root, 'tiny-sd15'), join(dir, 'alpha'), { recursive: true });
    await cp(join(root, 'tiny-lcm'), join(dir, 'beta'), { recursive: true });
    await cp(join(root, 'tiny-sd2-v'), join(dir, 'gamma'), { recursive: true });
    // Broken: no UNet.
    await cp(join(root, 'tiny-sd15'), join(dir, 'broken'), { recursive: true });
    await rm(join(dir, 'broken', 'unet'), { recursive: true });
    // Not a model at all (no model_index.json): ignored silently.
    await mkdir(join(dir, 'notes'));
    const logged: string[] = [];
    const catalog = await loadModelCatalog({ modelDir: join(dir, 'beta'), modelsDir: dir, log: (m) => logged.push(m) });
    assert.equal(catalog.defaultModel, 'beta');
    assert.deepEqual(catalog.names, ['beta', 'alpha', 'gamma']);
    assert.deepEqual(catalog.skipped.map((s) => s.dir), [join(dir, 'broken')]);
    assert.match(catalog.skipped[0]!.reason, /unet\/model\.onnx: missing/);
    assert.equal(logged.length, 1);
    assert.equal(catalog.get('beta')!.family, 'LCM');
    assert.equal(catalog.get('gamma')!.family, 'SD 2.x');
    assert.deepEqual([catalog.get('alpha')!.width, catalog.get('alpha')!.height], [64, 64]);
    assert.equal(catalog.get('beta')!.folderSampler, 'lcm');
    const before = catalog.get('alpha')!.bytes;
    assert.ok(before > 10_000);
    // A cache file beside the UNet is not part of the model's size.
    await writeFile(join(dir, 'alpha', 'unet', 'model.ort-all-cpu.onnx'), Buffer.alloc(50_000));
    await writeFile(join(dir, 'alpha', 'unet', 'model.attn-auto-cpu.onnx'), Buffer.alloc(50_000));
    const again = await loadModelCatalog({ modelDir: join(dir, 'beta'), modelsDir: dir });
    assert.equal(again.get('alpha')!.bytes, before);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('MODEL_DIR outside MODELS_DIR is offered too; a missing MODELS_DIR offers just the default; a broken MODEL_DIR fails', async () => {
  const root = await ensureTestModels();
  const only = await loadModelCatalog({ modelDir: join(root, 'tiny-sd15'), modelsDir: join(root, 'no-such-folder') });
  assert.deepEqual(only.names, ['tiny-sd15']);
  await assert.rejects(loadModelCatalog({ modelDir: join(root, 'no-such-model'), modelsDir: root }), /no-such-model: missing/);
});
