// Streams a data file line by line in fixed-size chunks (gunzipped when the name ends in .gz), so a file of any
// size is read without ever holding its text. Like LightGBM's TextReader it drops CRs at line ends and skips
// empty lines, and reads a last line that has no line break.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { DataError, TrainerError } from '../utils/errors.ts';

/** Bytes read at a time: big enough that per-chunk costs vanish, small enough to stay out of the peak. */
export const DEFAULT_CHUNK_SIZE = 1 << 20;

/**
 * Called with one non-empty line as bytes [start, end) of `buf` and its 1-based physical line number. Returning
 * true stops the read. A DataError it throws is re-thrown prefixed with `file:line:`.
 */
export type LineHandler = (buf: Uint8Array, start: number, end: number, lineNo: number) => unknown;

export async function forEachLine(path: string, onLine: LineHandler, chunkSize = DEFAULT_CHUNK_SIZE): Promise<void> {
  const file = createReadStream(path, { highWaterMark: chunkSize });
  let source: NodeJS.ReadableStream = file;
  if (path.endsWith('.gz')) {
    // zlib's smallest output chunk is 64 bytes.
    const gunzip = createGunzip({ chunkSize: Math.max(64, chunkSize) });
    // pipe() does not forward errors: a missing file must still end the loop below.
    file.on('error', (e) => gunzip.destroy(e));
    source = file.pipe(gunzip);
  }
  let lineNo = 0;
  let stopped = false;
  const emit = (buf: Uint8Array, start: number, end: number): void => {
    lineNo++;
    while (end > start && buf[end - 1] === 13) end--;
    if (end === start) return;
    try {
      stopped = onLine(buf, start, end, lineNo) === true;
    } catch (e) {
      if (e instanceof DataError) throw new DataError(`${path}:${lineNo}: ${e.message}`);
      throw e;
    }
  };
  let carry: Buffer | null = null;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let start = 0;
      let nl = chunk.indexOf(10);
      if (carry !== null) {
        if (nl < 0) {
          carry = Buffer.concat([carry, chunk]);
          continue;
        }
        const joined = Buffer.concat([carry, chunk.subarray(0, nl)]);
        carry = null;
        emit(joined, 0, joined.length);
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      while (nl >= 0 && !stopped) {
        emit(chunk, start, nl);
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      if (stopped) return;
      // A copy: the rest of the line must not pin (or be overwritten in) the stream's chunk.
      if (start < chunk.length) carry = Buffer.from(chunk.subarray(start));
    }
  } catch (e) {
    if (e instanceof TrainerError) throw e;
    throw new DataError(`cannot read data file ${path}: ${(e as Error).message}`);
  } finally {
    file.destroy();
  }
  if (carry !== null) emit(carry, 0, carry.length);
}
