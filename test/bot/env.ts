// The environment that points the bot at a Discord emulator, a test model and a data folder: one map for the bot in
// the test process (test/bot/harness.ts configFor, through loadConfig) and the bot as a child process
// (test/reliability/botProcess.ts botEnv), so both run with the same settings.
import type { DiscordEmulator } from '../emulator/index.ts';

export function emulatorEnv(emulator: DiscordEmulator, modelDir: string, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DISCORD_TOKEN: emulator.token,
    DISCORD_API_URL: emulator.apiUrl,
    DEV_GUILD_ID: String(emulator.guild.id),
    MODEL_DIR: modelDir,
    DATA_DIR: dataDir,
    ATTACHMENT_HOSTS: new URL(emulator.url).host,
    ORT_THREADS: '1',
    // Progress edits often enough that tests see a few within a short job.
    PROGRESS_INTERVAL_MS: '250',
    SHUTDOWN_GRACE_SECONDS: '5',
    ...extra,
  };
}
