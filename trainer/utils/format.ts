// printf-style %g formatting. LightGBM writes doubles with {:.17g} and float32 gains with {:g}; reproducing the
// exact text keeps our model files byte-comparable with LightGBM's and keeps tree_sizes meaningful.

/** C's %.<prec>g for a double: `prec` significant digits, trailing zeros stripped, exponent when out of range. */
export function formatG(x: number, prec: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const e = x.toExponential(prec - 1);
  const ePos = e.indexOf('e');
  let mant = e.slice(0, ePos);
  const exp = Number(e.slice(ePos + 1));
  const neg = mant.startsWith('-');
  if (neg) mant = mant.slice(1);
  const digits = mant.replace('.', '');
  let out: string;
  if (exp < -4 || exp >= prec) {
    let m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '');
    const a = Math.abs(exp);
    out = `${m}e${exp < 0 ? '-' : '+'}${a < 10 ? '0' : ''}${a}`;
  } else if (exp >= 0) {
    const intPart = digits.slice(0, exp + 1);
    const frac = digits.slice(exp + 1).replace(/0+$/, '');
    out = frac ? `${intPart}.${frac}` : intPart;
  } else {
    const frac = ('0'.repeat(-exp - 1) + digits).replace(/0+$/, '');
    out = `0.${frac}`;
  }
  return neg ? `-${out}` : out;
}

/** {:.17g}: round-trips every double. */
export const g17 = (x: number): string => formatG(x, 17);
/** {:g} / ostream default: 6 significant digits. */
export const g6 = (x: number): string => formatG(x, 6);

/** Parses a number the way LightGBM's loader does, including `inf`, `-inf` and `nan`. */
export function parseNum(s: string): number {
  const v = Number(s);
  if (!Number.isNaN(v) || s === 'NaN') return v;
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'nan' || t === '-nan' || t === 'na') return NaN;
  return NaN;
}
