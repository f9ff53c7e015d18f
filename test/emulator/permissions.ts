// Permission maths the way Discord does it: @everyone + member roles, administrator short-circuit, owner gets all,
// then channel overwrites (@everyone, roles, member). Used for member.permissions / app_permissions and for checks.
import { PermissionFlagsBits } from 'discord.js';
import type { Json } from './types.ts';

export const Perm = PermissionFlagsBits;
export const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((all, bit) => all | bit, 0n);

export function basePermissions(guild: Json, member: Json): bigint {
  if (member.user.id === guild.owner_id) return ALL_PERMISSIONS;
  let permissions = 0n;
  for (const role of guild.roles as Json[]) {
    if (role.id === guild.id || (member.roles as string[]).includes(role.id)) permissions |= BigInt(role.permissions);
  }
  return permissions & Perm.Administrator ? ALL_PERMISSIONS : permissions;
}

export function channelPermissions(guild: Json, member: Json, channel: Json): bigint {
  let permissions = basePermissions(guild, member);
  if (permissions & Perm.Administrator) return ALL_PERMISSIONS;
  const overwrites = (channel.permission_overwrites ?? []) as Json[];
  const apply = (overwrite: Json | undefined) => {
    if (!overwrite) return;
    permissions &= ~BigInt(overwrite.deny);
    permissions |= BigInt(overwrite.allow);
  };
  apply(overwrites.find((o) => o.id === guild.id));
  let allow = 0n;
  let deny = 0n;
  for (const overwrite of overwrites) {
    if (overwrite.type === 0 && overwrite.id !== guild.id && (member.roles as string[]).includes(overwrite.id)) {
      allow |= BigInt(overwrite.allow);
      deny |= BigInt(overwrite.deny);
    }
  }
  permissions = (permissions & ~deny) | allow;
  apply(overwrites.find((o) => o.type === 1 && o.id === member.user.id));
  return permissions;
}

export function has(permissions: bigint, ...bits: bigint[]): boolean {
  return bits.every((bit) => (permissions & bit) === bit);
}
