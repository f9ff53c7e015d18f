// Gateway behaviours that need their own client: a failed RESUME forcing a fresh IDENTIFY, the MessageContent
// intent gate, and a wrong token.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Client, Events, GatewayIntentBits, type Message } from 'discord.js';
import { startDiscordEmulator, type DiscordEmulator } from './index.ts';

describe('discord emulator gateway', () => {
  let emulator: DiscordEmulator;
  let client: Client;
  const received: Message[] = [];

  before(async () => {
    emulator = await startDiscordEmulator();
    // No MessageContent intent on purpose.
    client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages], rest: { api: emulator.apiUrl } });
    client.on(Events.MessageCreate, (message) => void received.push(message));
    const ready = once(client, Events.ClientReady);
    await client.login(emulator.token);
    await ready;
  });

  after(async () => {
    await client?.destroy();
    await emulator?.close();
  });

  it('blanks message content without the MessageContent intent unless the bot is mentioned', async () => {
    const picture = await emulator.addAttachment(Buffer.from('not really an image'), 'notes.txt', 'text/plain');
    await emulator.userMessage({ channelId: emulator.channels.general.id, content: 'private words', attachments: [picture] });
    await emulator.userMessage({ channelId: emulator.channels.general.id, content: 'draw a fox', mentionsBot: true });
    await emulator.waitFor(() => received.length >= 2 || undefined, 3000, 'two messages');
    assert.equal(received[0]!.content, '');
    assert.equal(received[0]!.attachments.size, 0);
    assert.equal(received[1]!.content, `<@${emulator.botUser.id}> draw a fox`);
  });

  it('re-identifies when the session cannot be resumed', async () => {
    emulator.disconnectGateway({ invalidateSession: true });
    // discord.js waits for its identify throttle (5 s for max_concurrency 1) before identifying again.
    await emulator.waitFor(() => (emulator.gatewayStats.identifies === 2 && emulator.gatewayStats.connected) || undefined, 15000, 'a second IDENTIFY');
    assert.equal(emulator.gatewayStats.resumes, 0);
    assert.ok(emulator.gatewayLog.some((e) => e.direction === 'out' && e.op === 9), 'INVALID_SESSION sent');
    await emulator.userMessage({ channelId: emulator.channels.general.id, content: 'still there?', mentionsBot: true });
    await emulator.waitFor(() => received.some((m) => m.content.endsWith('still there?')) || undefined, 3000, 'message on the new session');
  });

  it('rejects a wrong token like Discord (401 on REST)', async () => {
    const intruder = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: emulator.apiUrl } });
    await assert.rejects(intruder.login('not-the-token'), (error: Error & { code?: string }) => error.code === 'TokenInvalid');
    await intruder.destroy();
    assert.equal(emulator.requests.at(-1)?.status, 401);
  });
});
