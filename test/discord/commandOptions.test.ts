// The option check the router runs before a slash command's handler, and the warning throttle behind its log line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationCommandOptionType as T, type APIApplicationCommandOption, type CommandInteractionOption } from 'discord.js';
import { optionProblem } from '../../src/discord/commandOptions.ts';
import { WarningThrottle } from '../../src/discord/warningThrottle.ts';
import { imagine } from '../../src/commands/imagine.ts';

const opt = (name: string, type: T, value?: unknown, extra: Partial<CommandInteractionOption> = {}) => ({ name, type, value, ...extra }) as CommandInteractionOption;

test('options as Discord sends them pass', () => {
  assert.equal(optionProblem(imagine.data.options, [opt('prompt', T.String, 'a cat'), opt('seed', T.Integer, 0), opt('guidance', T.Number, 7.5)]), undefined);
  assert.equal(optionProblem(imagine.data.options, [opt('prompt', T.String, 'a cat'), opt('guidance', T.Number, 7)]), undefined, 'a whole number is a number');
});

test('wrong types, unsafe integers, missing, unknown and repeated options are named', () => {
  const defs = imagine.data.options;
  const problem = (given: CommandInteractionOption[]) => optionProblem(defs, given)?.message;
  assert.match(problem([opt('prompt', T.Integer, 5)])!, /`prompt` must be text, but it came as 5/);
  assert.match(problem([opt('prompt', T.String, 'x'), opt('seed', T.Integer, 2 ** 60)])!, /`seed` must be a whole number/);
  assert.match(problem([opt('prompt', T.String, 'x'), opt('seed', T.Integer, undefined)])!, /`seed` .* came as no value/);
  assert.match(problem([opt('prompt', T.String, 'x'), opt('image', T.Attachment, '123456789012345678')])!, /`image` must be an attachment/, 'an id with no resolved attachment');
  assert.match(problem([])!, /`prompt` is required/);
  assert.match(problem([opt('prompt', T.String, 'x'), opt('a`<@1>b', T.String, 'y')])!, /There is no option `a1b`/, 'a foreign name is quoted safely');
  assert.match(problem([opt('prompt', T.String, 'x'), opt('prompt', T.String, 'y')])!, /given twice/);
  // The grouping key never carries what the client chose.
  assert.equal(optionProblem(defs, [opt('prompt', T.String, 'x'), opt('zzz', T.String, 'y')])!.key, 'unknown');
});

test('subcommands: the inner options are checked, and one subcommand is required', () => {
  const defs = [
    { type: T.Subcommand, name: 'add', description: 'd', options: [{ type: T.String, name: 'term', description: 'd', required: true }] },
    { type: T.SubcommandGroup, name: 'limits', description: 'd', options: [{ type: T.Subcommand, name: 'set', description: 'd', options: [{ type: T.Integer, name: 'steps', description: 'd' }] }] },
  ] as APIApplicationCommandOption[];
  assert.equal(optionProblem(defs, [opt('add', T.Subcommand, undefined, { options: [opt('term', T.String, 'x')] })]), undefined);
  assert.match(optionProblem(defs, [opt('add', T.Subcommand, undefined, { options: [] })])!.message, /`term` is required/);
  assert.match(optionProblem(defs, [opt('limits', T.SubcommandGroup, undefined, { options: [opt('set', T.Subcommand, undefined, { options: [opt('steps', T.Integer, 1.5)] })] })])!.message, /`steps` must be a whole number, but it came as 1\.5/);
  assert.match(optionProblem(defs, [])!.message, /Choose one of `add`, `limits`/);
});

test('WarningThrottle: first per window logged, the rest counted and reported with the next', () => {
  let now = 0;
  const throttle = new WarningThrottle(1000, 2, () => now);
  assert.deepEqual(throttle.admit('a'), { log: true, suppressed: 0 });
  assert.deepEqual(throttle.admit('a'), { log: false });
  assert.deepEqual(throttle.admit('a'), { log: false });
  assert.deepEqual(throttle.admit('b'), { log: true, suppressed: 0 }, 'another key is independent');
  now = 1000;
  assert.deepEqual(throttle.admit('a'), { log: true, suppressed: 2 });
  assert.deepEqual(throttle.admit('c'), { log: true, suppressed: 0 });
  // Bounded: past two keys the oldest ('b') is forgotten, so it logs again at once.
  assert.deepEqual(throttle.admit('b'), { log: true, suppressed: 0 });
});
