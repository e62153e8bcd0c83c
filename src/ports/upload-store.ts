// Media a business uploads to send (Cloud-API-compatible `POST /{phone-number-id}/media`): the
// bytes live in the blob store, this record says whose they are and how a provider may fetch them.

export interface UploadRecord {
  id: string;
  workspaceId: string;
  /** The number it was uploaded to (Meta scopes uploaded media to a phone number). */
  channelId: string;
  mimeType: string;
  /** The uploaded file's name, used for documents sent without one. */
  filename: string | null;
  size: number;
  /** Lower-case hex SHA-256 of the bytes. */
  sha256: string;
  blobKey: string;
  /** Unguessable secret in the link a provider fetches the file by (no API key there). */
  linkToken: string;
  createdAt: number;
  /** Set by DELETE: the record stays (sent messages point at it), the bytes are gone. */
  deletedAt: number | null;
  /** When a message last linked to it; an upload never used expires after the retention. */
  usedAt: number | null;
}

export type NewUploadRecord = Omit<UploadRecord, 'id' | 'deletedAt' | 'usedAt'>;

export interface UploadStore {
  create(input: NewUploadRecord): Promise<UploadRecord>;
  get(id: string): Promise<UploadRecord | null>;
  /** Marks an upload deleted; false when there is none or it was deleted already. */
  markDeleted(id: string, at: number): Promise<boolean>;
  /**
   * A message is about to link to it: records the use, so retention keeps it. False when it is
   * gone (deleted, or removed by retention meanwhile): the message must not link to it.
   */
  markUsed(id: string, at: number): Promise<boolean>;
  /**
   * Retention: removes up to `limit` records of uploads no message used, created before `before`
   * (oldest first); returns them, so their bytes can go too. A use recorded first keeps one.
   */
  removeUnused(before: number, limit: number): Promise<UploadRecord[]>;
}
