// `npm run try`: see the pipeline work in about a minute, with no Discord and no 4 GB download. Writes a tiny model with
// random weights into models/tiny-random (the test models' generator: the real diffusers/optimum layout and
// signatures, a few MB) and runs `generate` on it, writing try.png. A random model draws noise: this checks that the
// install works end to end, not what pictures look like; real pictures need `npm run models -- fetch <preset>`.
// Arguments go on to generate and win over the defaults here (e.g. `npm run try -- --out noise.png --count 4`).
import { renameSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTestModel } from './testModels/folders.ts';
import { main as generate } from '../src/cli/generate.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TRY_MODEL_DIR = join(ROOT, 'models', 'tiny-random');

// Written fresh each time (it takes well under a second), into a staging folder first so an interrupted run never
// leaves half a model behind.
const staging = `${TRY_MODEL_DIR}.tmp-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
writeTestModel(staging, 'tiny-sd15');
rmSync(TRY_MODEL_DIR, { recursive: true, force: true });
renameSync(staging, TRY_MODEL_DIR);
const shown = relative(process.cwd(), TRY_MODEL_DIR) || TRY_MODEL_DIR;
process.stderr.write(`made a tiny model with random weights in ${shown}; generating...\n`);

const code = await generate(['--model', TRY_MODEL_DIR, '--prompt', 'a lighthouse on a cliff at dusk', '--out', 'try.png', '--seed', '1', '--width', '256', '--height', '256', ...process.argv.slice(2)]);
if (code === 0) {
  process.stderr.write(
    [
      'It works. The picture is noise: the tiny model has random weights, so it shows that the pipeline runs here, not what a real model draws.',
      'Real pictures: `npm run models -- list` shows the presets; `npm run models -- fetch lcm-dreamshaper-v7` (about 4 GB, fast on a CPU) installs one.',
      '',
    ].join('\n'),
  );
}
process.exitCode = code;
