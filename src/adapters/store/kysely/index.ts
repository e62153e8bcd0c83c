// The Kysely store adapter's public face: the factory the container wires, and the backup helper.
export { createKyselyStore, type KyselyStoreOptions } from './kysely-store.ts';
export { backupSqlite } from './sqlite-backup.ts';
export { InvalidCursorError } from './cursor.ts';
