// `npm run models -- list | fetch <preset or Hugging Face repo> [--revision R] | verify <dir>`
// (plus `defaults <dir> <preset>`: write a preset's imagine.json into a folder you exported yourself).
//
// Environment: HF_TOKEN (gated/private repos; sent as a bearer token, never printed), HF_ENDPOINT (another hub, a
// mirror, or a test server). Progress and diagnostics go to stderr; stdout carries the results (tables, paths).
// Exit codes: 0 fine; 1 the command failed or the model does not verify; 2 bad usage.
import { writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { imagineDefaultsSchema } from '../pipeline/modelFolder.ts';
import { errorText } from '../models/downloadFile.ts';
import { FetchError, fetchModel, folderNameForRepo } from '../models/fetch.ts';
import { listInstalled } from '../models/installed.ts';
import { exportCommand, findPreset, PRESETS, type Preset, type PresetSource } from '../models/presets.ts';
import { formatBytes, StderrProgress } from '../models/progress.ts';
import { verifyModelFolder } from '../models/verify.ts';
import { readEnvironment } from '../process/environment.ts';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** For the progress bar; process.stderr by default. */
  progressStream?: NodeJS.WriteStream;
}

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
const DEFAULT_MODELS_DIR = 'models';

class UsageError extends Error {}

/** Hub access from the environment; the token is checked for shape here so no library error can echo it. */
function hubAccess(env: NodeJS.ProcessEnv): { hubUrl?: string; accessToken?: string } {
  const token = env.HF_TOKEN?.trim() || undefined;
  if (token && !token.startsWith('hf_')) throw new UsageError('HF_TOKEN does not look like a Hugging Face token (they start with "hf_"); create one at huggingface.co/settings/tokens');
  const endpoint = env.HF_ENDPOINT?.trim().replace(/\/+$/, '') || undefined;
  if (endpoint && !/^https?:\/\//.test(endpoint)) throw new UsageError('HF_ENDPOINT must be a URL such as https://huggingface.co');
  return { hubUrl: endpoint, accessToken: token };
}

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

async function listCommand(io: CliIo, opts: { modelsDir: string; quick?: boolean }): Promise<number> {
  io.out('Presets (npm run models -- fetch <name>):');
  io.out(
    table([
      ['NAME', 'FOR', 'SIZE', 'SOURCE', 'WHAT'],
      ...PRESETS.map((p) => [p.name, `${p.hardware.toUpperCase()} ${p.precision}`, p.size, p.source ? p.source.repo : `export ${p.exportFrom}`, p.what]),
    ]),
  );
  io.out('');
  const installed = await listInstalled(opts.modelsDir, { signatures: !opts.quick });
  if (installed.length === 0) {
    io.out(`No models installed in ${opts.modelsDir}/ yet.`);
    return EXIT.ok;
  }
  io.out(`Installed in ${opts.modelsDir}/${opts.quick ? ' (layout checked only; run verify for signatures)' : ''}:`);
  io.out(
    table([
      ['NAME', 'SIZE', 'STATUS', 'PREVIEWS', 'FROM'],
      ...installed.map((m) => [m.name, formatBytes(m.bytes), m.report.ok ? 'ok' : `BROKEN (${m.report.problems.length} problem${m.report.problems.length === 1 ? '' : 's'})`, m.hasPreviewDecoder ? 'taesd' : '-', m.repo ? `${m.repo}@${m.revision}` : '-']),
    ]),
  );
  for (const m of installed.filter((x) => !x.report.ok)) io.out(`\n${m.name}: run \`npm run models -- verify ${m.dir}\` for details; first problem:\n  ${m.report.problems[0]}`);
  return EXIT.ok;
}

async function verifyCommand(io: CliIo, dir: string): Promise<number> {
  const report = await verifyModelFolder(dir);
  if (report.ok) {
    const f = report.folder!;
    const parts = Object.keys(f.paths).join(', ');
    io.out(`${dir}: ok (${parts}${Object.keys(f.defaults).length ? `; defaults ${JSON.stringify(f.defaults)}` : ''})`);
    return EXIT.ok;
  }
  io.out(`${dir}: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`);
  for (const p of report.problems) io.out(`  - ${p}`);
  return EXIT.failed;
}

function explainExport(io: CliIo, preset: Preset, modelsDir: string): number {
  const out = join(modelsDir, preset.name);
  io.err(`${preset.name}: no ready ONNX export of ${preset.exportFrom} is known on the hub, so export it yourself (Python, once):`);
  io.err(`  pip install "optimum[onnxruntime]" diffusers`);
  io.err(`  ${exportCommand(preset.exportFrom!, out, preset.precision === 'fp16')}`);
  io.err(`  npm run models -- defaults ${out} ${preset.name}`);
  io.err(`  npm run models -- verify ${out}`);
  return EXIT.failed;
}

interface FetchFlags {
  revision?: string;
  name?: string;
  into?: string;
  subfolder?: string;
  force?: boolean;
  modelsDir: string;
}

async function fetchCommand(io: CliIo, what: string, flags: FetchFlags): Promise<number> {
  const access = hubAccess(io.env);
  const preset = findPreset(what);
  let source: PresetSource;
  if (preset) {
    if (!preset.source) return explainExport(io, preset, flags.modelsDir);
    source = { ...preset.source, ...(flags.subfolder !== undefined ? { subfolder: flags.subfolder } : {}) };
  } else if (/^[\w.-]+\/[\w.-]+$/.test(what)) {
    source = { repo: what, subfolder: flags.subfolder };
  } else {
    throw new UsageError(`"${what}" is neither a preset (${PRESETS.map((p) => p.name).join(', ')}) nor a Hugging Face repo id (owner/name)`);
  }
  const kind = preset?.kind ?? 'model';
  let into = flags.into;
  if (kind === 'preview-decoder') {
    if (!into) throw new UsageError(`${preset!.name} is installed into a model: add --into <model name or folder> (see npm run models -- list)`);
    // a bare name means a model under the models folder
    if (!into.includes('/') && !into.includes('\\')) into = join(flags.modelsDir, into);
  } else if (into) {
    throw new UsageError('--into is only for preview decoders (taesd)');
  }
  const name = kind === 'preview-decoder' ? `${preset!.name}--${basename(resolve(into!))}` : (flags.name ?? preset?.name ?? folderNameForRepo(source.repo));
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) throw new UsageError(`--name: "${name}" is not a plain folder name`);

  const progress = new StderrProgress(io.progressStream ?? process.stderr);
  const result = await fetchModel({
    modelsDir: flags.modelsDir,
    source,
    name,
    kind,
    into,
    defaults: preset?.defaults,
    access,
    revision: flags.revision,
    force: flags.force,
    progress,
    log: (line) => io.err(line),
  });
  io.err(`installed ${result.files} files (${formatBytes(result.bytes)}) into ${result.dir}`);
  if (kind === 'model') {
    io.err(`use it: set MODEL_DIR=${join(flags.modelsDir, name)} in .env${preset?.defaults ? '' : ' (add an imagine.json with its defaults, see models/README.md)'}`);
    if (preset && preset.hardware === 'gpu') io.err('this is an fp16 export for GPUs: set PROVIDER=cuda (or dml) in .env');
  }
  io.out(result.dir);
  return EXIT.ok;
}

async function defaultsCommand(io: CliIo, dir: string, presetName: string): Promise<number> {
  const preset = findPreset(presetName);
  if (!preset?.defaults) throw new UsageError(`"${presetName}" is not a preset with defaults (${PRESETS.filter((p) => p.defaults).map((p) => p.name).join(', ')})`);
  const file = join(dir, 'imagine.json');
  await writeFile(file, JSON.stringify(imagineDefaultsSchema.parse(preset.defaults), null, 2) + '\n');
  io.out(file);
  return EXIT.ok;
}

function buildProgram(io: CliIo, done: (code: Promise<number>) => void): Command {
  const program = new Command('models')
    .description('Get, list and check Stable Diffusion ONNX models for imagine-bot')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .showHelpAfterError();
  const modelsDirOption = ['--models-dir <dir>', 'the models folder', DEFAULT_MODELS_DIR] as const;

  program
    .command('list')
    .description('presets, and the models installed under models/ with whether each verifies')
    .option(...modelsDirOption)
    .option('--quick', 'check layout only (do not open the ONNX files)')
    .action((opts: { modelsDir: string; quick?: boolean }) => done(listCommand(io, opts)));

  program
    .command('fetch')
    .description('download a preset or a Hugging Face repo into models/<name> (resumable, checksum-verified)')
    .argument('<preset-or-repo>', 'a preset name (see list) or a repo id such as owner/name')
    .option('--revision <rev>', 'branch, tag or commit to download')
    .option('--name <folder>', 'folder name under models/ (default: the preset name or the repo name)')
    .option('--into <model>', 'for taesd: the model (name under models/, or a folder) to add the preview decoder to')
    .option('--subfolder <dir>', 'the repo folder holding the ONNX layout (detected: the root, or onnx/)')
    .option('--force', 'replace an existing folder')
    .option(...modelsDirOption)
    .action((what: string, opts: FetchFlags) => done(fetchCommand(io, what, opts)));

  program
    .command('verify')
    .description('check a model folder: layout, configs, and every ONNX input/output signature')
    .argument('<dir>', 'the model folder')
    .action((dir: string) => done(verifyCommand(io, dir)));

  program
    .command('defaults')
    .description("write a preset's imagine.json defaults into a model folder you exported yourself")
    .argument('<dir>', 'the model folder')
    .argument('<preset>', 'the preset whose defaults to write')
    .action((dir: string, preset: string) => done(defaultsCommand(io, dir, preset)));
  return program;
}

/** Runs the command line; resolves to the exit code. */
export async function runModelsCli(argv: readonly string[], io: CliIo): Promise<number> {
  let pending: Promise<number> | undefined;
  const program = buildProgram(io, (p) => (pending = p));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    if (!pending) {
      io.err(program.helpInformation());
      return EXIT.usage;
    }
    return await pending;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof UsageError) {
      io.err(`models: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof FetchError) {
      io.err(`models: ${err.message}`);
      return EXIT.failed;
    }
    // Hub errors (HTTP status, repo not found, gated repo without a token) carry a useful message; never a token.
    const message = errorText(err);
    const hint = /401|403|gated|Unauthorized|restricted/i.test(message)
      ? ' (a gated or private repo: accept its terms on the hub and set HF_TOKEN)'
      : /fetch failed|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN/.test(message)
        ? ` (cannot reach ${io.env.HF_ENDPOINT?.trim() || 'https://huggingface.co'}: check the network, a proxy, or HF_ENDPOINT)`
        : '';
    io.err(`models: ${message}${hint}`);
    return EXIT.failed;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const io: CliIo = { out: (t) => process.stdout.write(t + '\n'), err: (t) => process.stderr.write(t + '\n'), env: readEnvironment().values };
  runModelsCli(process.argv.slice(2), io).then((code) => (process.exitCode = code));
}
