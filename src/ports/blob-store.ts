// Where Parley keeps media it has downloaded (provider media URLs expire).
export interface BlobStore {
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  get(key: string): Promise<{ data: Buffer; contentType: string } | null>;
  /** Removes a blob; false when there was none. */
  delete(key: string): Promise<boolean>;
}
