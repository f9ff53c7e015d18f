// What a hostile or careless client meets (issue 18), through the Discord emulator against the real bot: options of
// the wrong type or missing get an answer naming the option (a warning in the log, no stack, and a flood of the same
// request logs once); the PNDM progress counter counts the steps asked for; a forged button pointing past a job's
// images says so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startHarness, type Harness } from './harness.ts';
import { contentOf, customIdStarting, embedFields, ephemeralText, finalOf } from './helpers.ts';
import type { InteractionHandle, Json } from '../emulator/index.ts';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

let h: Harness;
const logs: LogLine[] = [];

before(async () => {
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  h = await startHarness({ log });
});
after(async () => {
  await h?.close();
});

const WARN = 40;
const ERROR = 50;

async function answerTo(handle: InteractionHandle): Promise<string> {
  await handle.waitFor((r) => r.status < 300 && ephemeralText(handle).length > 0, 10_000, 'an ephemeral answer');
  return ephemeralText(handle);
}

function imagine(options: Json[]): InteractionHandle {
  return h.emulator.slashCommand({ name: 'imagine', options, channelId: h.emulator.channels.nsfw.id });
}

const malformedLines = () => logs.filter((l) => l.msg === 'malformed command options');

test('seed as text, steps as 2.5, no prompt: each answer names the option; a warning without a stack, never an error', async () => {
  const cases: [Json[], RegExp][] = [
    [[{ name: 'prompt', type: 3, value: 'a cat' }, { name: 'seed', type: 3, value: 'twelve' }], /`seed` must be a whole number, but it came as text/],
    [[{ name: 'prompt', type: 3, value: 'a cat' }, { name: 'steps', type: 4, value: 2.5 }], /`steps` must be a whole number, but it came as 2\.5/],
    [[{ name: 'seed', type: 4, value: 7 }], /`prompt` is required/],
    [[{ name: 'prompt', type: 3, value: 'a cat' }, { name: 'guidance', type: 5, value: true }], /`guidance` must be a number, but it came as true/],
    [[{ name: 'prompt', type: 3, value: 'a cat' }, { name: 'colour', type: 3, value: 'red' }], /There is no option `colour`/],
  ];
  for (const [options, expected] of cases) {
    const text = await answerTo(imagine(options));
    assert.match(text, expected);
    assert.doesNotMatch(text, /went wrong on the bot/);
  }
  assert.equal(malformedLines().length, cases.length, 'one warning each');
  for (const line of malformedLines()) {
    assert.equal(line.level, WARN);
    assert.ok(!JSON.stringify(line).includes('    at '), 'no stack trace');
  }
  assert.deepEqual(logs.filter((l) => l.level >= ERROR).map((l) => l.msg), [], 'nothing at error level');
  assert.equal(h.emulator.messages(h.emulator.channels.nsfw.id).filter((m: Json) => (Number(m.flags ?? 0) & 64) === 0).length, 0, 'no job started');
});

test('a flood of the same malformed request is answered every time but logged once', async () => {
  const before = malformedLines().length;
  const handles = Array.from({ length: 25 }, () => imagine([{ name: 'prompt', type: 3, value: 'x' }, { name: 'count', type: 3, value: 'four' }]));
  for (const handle of handles) assert.match(await answerTo(handle), /`count` must be a whole number/);
  const logged = malformedLines().slice(before);
  assert.equal(logged.length, 1, logged.map((l) => String(l.problem)).join('\n'));
  assert.match(String(logged[0]!.problem), /count/);
  // A different problem is still logged at once.
  await answerTo(imagine([{ name: 'prompt', type: 3, value: 'x' }, { name: 'width', type: 10, value: 64.5 }]));
  assert.equal(malformedLines().length, before + 2);
});

test('PNDM (the test model\'s default) counts the steps asked for: never "3 of 2"', async () => {
  // Big enough that the job spans several progress intervals (a 2-step job can end inside one on a quiet machine).
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a lighthouse', seed: 3, steps: 2, width: 1024, height: 1024 }, channelId: h.emulator.channels.nsfw.id });
  await finalOf(handle);
  const fields = embedFields(handle.original());
  assert.equal(fields.Sampler, 'pndm');
  assert.equal(fields.Steps, '2');
  const counters = handle.responses.map((r) => /step (\d+)\/(\d+)/.exec(contentOf(r))).filter((m) => m !== null);
  assert.ok(counters.length > 0, 'progress was shown');
  for (const [, done, total] of counters) {
    assert.equal(Number(total), 2);
    assert.ok(Number(done) <= Number(total), `step ${done}/${total}`);
  }
});

test('a forged button for image 4 of a one-image job says what is wrong', async () => {
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a single boat', seed: 4, steps: 2, count: 1 }, channelId: h.emulator.channels.nsfw.id });
  await finalOf(handle);
  const message = handle.original()!;
  const jobId = customIdStarting(message, 'img:reroll:').split(':')[2]!;
  for (const action of ['vary', 'upscale']) {
    const forged = h.emulator.forgeButtonClick({ message, customId: `img:${action}:${jobId}:3` });
    const text = await answerTo(forged);
    assert.match(text, /asks for image 4, but that job made only 1 image/);
    assert.doesNotMatch(text, /no longer available/);
  }
  // The real button still works.
  const real = h.emulator.clickButton({ message, customId: customIdStarting(message, 'img:upscale:') });
  await finalOf(real);
});
