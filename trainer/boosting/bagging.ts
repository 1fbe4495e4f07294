// LightGBM's bagging (src/boosting/bagging.hpp): one LCG per block of 1024 rows, seeded bagging_seed + block, and
// a row is in the bag when its draw / 32768 < bagging_fraction. The rows keep their order in both lists.

export class Bagging {
  /** The in-bag rows [0, bagCnt) and the out-of-bag rows [0, oobCnt), ascending. */
  readonly bag: Int32Array;
  readonly oob: Int32Array;
  bagCnt = 0;
  oobCnt = 0;
  private readonly states: Uint32Array;
  /** draw / 32768 < fraction <=> draw < fraction * 32768: both sides scaled by a power of two, exactly. */
  private readonly threshold: number;

  constructor(
    private readonly numData: number,
    fraction: number,
    seed: number,
  ) {
    this.bag = new Int32Array(numData);
    // Shared: the histogram worker walks half of the out-of-bag rows through each tree.
    this.oob = new Int32Array(new SharedArrayBuffer(4 * numData));
    this.states = new Uint32Array(Math.ceil(numData / 1024));
    for (let b = 0; b < this.states.length; b++) this.states[b] = (seed + b) >>> 0;
    this.threshold = fraction * 32768;
  }

  /** Draws the next bag. */
  next(): void {
    const { bag, oob, states, threshold, numData } = this;
    let bagCnt = 0,
      oobCnt = 0;
    for (let blk = 0; blk < states.length; blk++) {
      let x = states[blk];
      const end = Math.min(numData, (blk + 1) * 1024);
      for (let i = blk * 1024; i < end; i++) {
        x = (Math.imul(214013, x) + 2531011) >>> 0;
        // Branch-free: both lists get the row, only one count moves on.
        const inBag = (((x >>> 16) & 0x7fff) < threshold) as unknown as number;
        bag[bagCnt] = i;
        oob[oobCnt] = i;
        bagCnt += inBag;
        oobCnt += 1 - inBag;
      }
      states[blk] = x;
    }
    this.bagCnt = bagCnt;
    this.oobCnt = oobCnt;
  }
}
