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
}

export type NewUploadRecord = Omit<UploadRecord, 'id' | 'deletedAt'>;

export interface UploadStore {
  create(input: NewUploadRecord): Promise<UploadRecord>;
  get(id: string): Promise<UploadRecord | null>;
  /** Marks an upload deleted; false when there is none or it was deleted already. */
  markDeleted(id: string, at: number): Promise<boolean>;
}
