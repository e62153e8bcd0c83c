// `parley backup FILE`: a consistent copy of a live SQLite database while the server keeps writing.
import { resolve } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Copies `sourceFile` to `destinationFile` with SQLite's online backup API, from a separate
 * read-only connection: the copy is one consistent snapshot even while another process writes
 * (WAL readers never block the writer), and pages changed mid-copy are re-copied by SQLite.
 * @see https://www.sqlite.org/backup.html
 */
export async function backupSqlite(sourceFile: string, destinationFile: string): Promise<void> {
  if (sourceFile === ':memory:') throw new Error('cannot back up an in-memory database');
  if (resolve(sourceFile) === resolve(destinationFile)) {
    throw new Error('backup destination must differ from the database file');
  }
  const source = new Database(sourceFile, { readonly: true, fileMustExist: true });
  try {
    source.pragma('busy_timeout = 5000');
    await source.backup(destinationFile);
  } finally {
    source.close();
  }
}
