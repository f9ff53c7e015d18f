// The storage layer's public surface: import from here.
export { openDatabase, databasePath, DATABASE_FILE } from './database.ts';
export type { Database, OpenDatabaseOptions } from './database.ts';
export { registerMigrations, registeredMigrations, applyMigrations, applyCoreMigrations } from './migrations.ts';
export type { Migration, MigrationSet } from './migrations.ts';
export { CORE_MIGRATIONS } from './schema.ts';
export { JobStore, FINAL_JOB_STATES } from './jobStore.ts';
export type { JobState, NewJob, JobRecord } from './jobStore.ts';
export { GenerationStore } from './generationStore.ts';
export type { NewGeneration, GenerationRecord, ByUserOptions } from './generationStore.ts';
export { writeFileAtomic } from './files.ts';
export type { FileData, WriteFileAtomicOptions } from './files.ts';
