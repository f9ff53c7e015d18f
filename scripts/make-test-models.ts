// Generates the tiny ONNX test models into test/.models/<name>/ (git-ignored); `npm test` runs it first.
// Skips all work when test/.models/.stamp matches the generator's fingerprint. Flags: --force, --root <dir>.
// What each model computes: test/fixtures/README.md.
import { DEFAULT_TEST_MODELS_ROOT, generateTestModels } from './testModels/generate.ts';

const args = process.argv.slice(2);
const rootFlag = args.indexOf('--root');
const root = rootFlag >= 0 ? args[rootFlag + 1] : DEFAULT_TEST_MODELS_ROOT;
const start = performance.now();
const generated = await generateTestModels(root, { force: args.includes('--force') });
console.log(`test models ${generated ? 'generated' : 'up to date'} in ${root} (${Math.round(performance.now() - start)} ms)`);
