// Discord snowflakes: (ms since 2015-01-01) << 22 | worker << 17 | process << 12 | increment.
// Real-looking ids matter: @discordjs/rest only recognises 17-19 digit ids as major route parameters.
import type { EmulatorClock } from './clock.ts';

const DISCORD_EPOCH = 1420070400000n;

export class SnowflakeFactory {
  private increment = 0n;

  constructor(private readonly clock: EmulatorClock) {}

  next(): string {
    const ms = BigInt(this.clock.now()) - DISCORD_EPOCH;
    this.increment = (this.increment + 1n) & 0xfffn;
    return ((ms << 22n) | (1n << 17n) | (1n << 12n) | this.increment).toString();
  }
}

/** Milliseconds since the Unix epoch encoded in a snowflake. */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}
