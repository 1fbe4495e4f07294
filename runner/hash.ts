import { createHash } from 'node:crypto';

/** Hex SHA-256 of a text: checksums of nodes and the keys of the partial-parse cache. */
export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
