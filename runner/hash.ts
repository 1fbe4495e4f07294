import { createHash } from 'node:crypto';

/** Hex SHA-256 of a text or of bytes: checksums of nodes and the keys of the partial-parse cache. */
export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
