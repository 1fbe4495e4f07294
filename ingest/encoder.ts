// The fast path of validation + COPY encoding: one function per endpoint, generated once from its field
// list, that reads a raw API record with typed checks and writes its CSV line and dedupe key directly (no
// zod pass, no parsed copy of the record, no per-cell closures). It accepts a record only when the zod
// schema of fields.ts certainly would, with the same converted values; anything else (a wrong type, a
// null required field, a value it does not convert itself) returns false and the caller asks zod, so a
// rejected record keeps exactly zod's message. tests/ingest/encoder.test.ts holds the two to agreement.
import type { Field } from './fields.ts';
import { normalizeDate } from './fields.ts';

export interface Encoded {
  /** The record's key fields as the window's duplicate set knows them. */
  key: string;
  /** The CSV line for COPY, as csvLine writes it for the zod-parsed record. */
  line: string;
}

/** Fills `out` and returns true, or returns false when zod has to decide. */
export type RecordEncoder = (raw: unknown, out: Encoded) => boolean;

export interface EncoderSpec {
  fields: Field[];
  /** Raw-table key columns. */
  key: string[];
  /** The record-level rule that the schema checks after its fields (e.g. closeTime >= openTime). */
  rule?: (r: Record<string, unknown>) => string | undefined;
}

const SPECIAL = /[",\r\n]/;
const INT = /^-?\d+$/;
const NUM = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const ISO_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/** The checks and conversions the generated code calls; one object so the code is a single closure. */
const helpers = {
  q: (v: string) => (v === '' || SPECIAL.test(v) ? `"${v.replace(/"/g, '""')}"` : v),
  date: normalizeDate,
  INT,
  NUM,
  ISO_TS,
  OBJECT: Object.prototype,
};

/**
 * Generates the encoder. Per field: the raw value's type picks the same branch of the zod union, the same
 * conversion (Number, String, normalizeDate, 0/1 -> bool) and the same checks (safe integer, finite);
 * a field rule runs on the converted value as zod's superRefine does. Text is quoted when it needs it;
 * numbers, dates and regex-checked timestamps never contain a delimiter, quote or line break.
 */
export function compileEncoder(spec: EncoderSpec): RecordEncoder {
  const { fields, rule } = spec;
  const refines = fields.map((f) => f.refine);
  const known = new Set(fields.map((f) => f.api));
  const lines: string[] = [];
  const emit = (s: string) => lines.push(s);
  // Plain objects only (what JSON.parse makes); arrays, class instances and null-prototype objects go to zod.
  emit(`if (typeof r !== 'object' || r === null || Object.getPrototypeOf(r) !== h.OBJECT) return false;`);
  emit('let v;');
  fields.forEach((f, i) => {
    const c = `c${i}`;
    emit(`let ${c};`);
    emit(`v = r[${JSON.stringify(f.api)}];`);
    // A record rule sees zod's output object, whose keys are the present fields: keep it exact by leaving
    // records with an absent field to zod when there is a rule.
    emit(
      `if (v === null) { ${f.required ? 'return false;' : `${c} = null;`} } ` +
        `else if (v === undefined) { ${f.required || rule ? 'return false;' : `${c} = undefined;`} } else {`,
    );
    switch (f.kind) {
      case 'text':
        emit(
          `if (typeof v === 'string') ${c} = v; ` +
            `else if (typeof v === 'number' && Number.isFinite(v)) ${c} = String(v); else return false;`,
        );
        break;
      case 'int':
        emit(`if (typeof v === 'number') { if (!Number.isSafeInteger(v)) return false; ${c} = v; }`);
        emit(
          `else if (typeof v === 'string' && h.INT.test(v)) { ` +
            `${c} = Number(v); if (!Number.isSafeInteger(${c})) return false; } else return false;`,
        );
        break;
      case 'num':
        emit(`if (typeof v === 'number') { if (!Number.isFinite(v)) return false; ${c} = v; }`);
        emit(
          `else if (typeof v === 'string' && h.NUM.test(v)) { ` +
            `${c} = Number(v); if (!Number.isFinite(${c})) return false; } else return false;`,
        );
        break;
      case 'date':
        emit(`if (typeof v !== 'string') return false; ${c} = h.date(v); if (${c} === undefined) return false;`);
        break;
      case 'ts':
        emit(`if (typeof v !== 'string' || !h.ISO_TS.test(v)) return false; ${c} = v;`);
        break;
      case 'bool':
        emit(
          `if (v === true || v === false) ${c} = v; else if (v === 1) ${c} = true; ` +
            `else if (Object.is(v, 0)) ${c} = false; else return false;`,
        );
        break;
      case 'json':
        // Only what JSON.parse makes; anything else (functions, bigints, ...) is zod's and csvLine's to handle.
        emit(
          "if (typeof v !== 'object' && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') " +
            `return false; ${c} = v;`,
        );
        break;
    }
    if (refines[i]) emit(`if (h.refines[${i}](${c}) !== undefined) return false;`);
    emit('}');
  });
  // Unknown fields go to `extra`, in the record's order; '__proto__' is one zod drops: its case, not ours.
  emit('let extra;');
  emit(
    `for (const k in r) { if (!h.known.has(k)) { if (k === '__proto__') return false; (extra ??= {})[k] = r[k]; } }`,
  );
  if (rule) {
    // zod's output: the fields in schema order, then the unknown ones.
    emit(`const rec = { ${fields.map((f, i) => `${JSON.stringify(f.api)}: c${i}`).join(', ')} };`);
    emit('if (extra !== undefined) Object.assign(rec, extra);');
    emit('if (h.rule(rec) !== undefined) return false;');
  }
  // Cells go into one reused array and are joined once: the line is a flat string (a chain of + would
  // leave a tree of ~60 cons strings per line for the collector to carry until the batch is joined).
  const cell = (f: Field, i: number) => {
    const c = `c${i}`;
    switch (f.kind) {
      case 'num':
      case 'int':
      case 'date':
      case 'ts':
        return `${c} == null ? '' : ${c}`;
      case 'bool':
        return `${c} == null ? '' : ${c} ? 't' : 'f'`;
      case 'json':
        return `${c} == null ? '' : h.q(JSON.stringify(${c}))`;
      case 'text':
        return `${c} == null ? '' : h.q(${c})`;
    }
  };
  emit('const a = h.cells;');
  for (const [i, f] of fields.entries()) emit(`a[${i}] = ${cell(f, i)};`);
  emit(`a[${fields.length}] = extra === undefined ? '\\n' : h.q(JSON.stringify(extra)) + '\\n';`);
  emit(`out.line = a.join(',');`);
  const keyIdx = spec.key.map((col) => fields.findIndex((f) => f.column === col));
  if (keyIdx.some((i) => i < 0)) throw new Error(`key ${spec.key.join(', ')} is not among the fields`);
  emit(`out.key = ${keyIdx.map((i) => `String(c${i})`).join(` + '\\u0001' + `)};`);
  emit('return true;');
  const body = lines.join('\n');
  const make = new Function('h', `return function encode(r, out) {\n${body}\n};`) as (h: unknown) => RecordEncoder;
  return make({ ...helpers, refines, known, rule, cells: new Array<unknown>(fields.length + 1).fill('') });
}
