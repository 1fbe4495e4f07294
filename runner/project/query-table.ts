// What run_query() and load_result() give a template: the parts of dbt's agate Table that dbt users touch
// (`.rows`, `.columns`, `.column_names`, `|length`, iteration), so their macros run unchanged.

/** One statement's result as the database returned it: column names in order, rows as value lists. */
export interface QueryData {
  columns: string[];
  rows: unknown[][];
  /** The command tag (`SELECT`, `INSERT`, `CREATE TABLE`, ...) and the rows it touched: load_result().response. */
  command?: string;
  rowCount?: number | null;
}

// Timestamps come back from the driver as Date objects, which print in the local time zone's long form;
// templates paste values into SQL, where an ISO string is a valid timestamp literal.
const templateValue = (v: unknown) => (v instanceof Date ? v.toISOString() : v);

/**
 * agate's MappedSequence: readable by position (`row[0]`) and by name (`row['id']`, `row.id`), with `keys()`,
 * `values()`, `items()` and `get()`. A name wins over a method of the same name (a column called `count` must read
 * the column), except `length`, which `|length` needs. Its toStringTag keeps nunjucks' Jinja compatibility layer
 * from taking it for a dict and answering `values()`/`keys()` with the object's own properties.
 */
export class MappedSequence<T> {
  readonly #values: T[];
  readonly #keys: string[];
  [index: number]: T;

  constructor(values: T[], keys: string[] = []) {
    this.#values = values;
    this.#keys = keys;
    values.forEach((v, i) => {
      Object.defineProperty(this, i, { value: v, enumerable: true });
    });
    // A repeated column name reads the first column of that name; a numeric one is read by position.
    keys.forEach((k, i) => {
      if (k !== 'length' && !Object.hasOwn(this, k)) Object.defineProperty(this, k, { value: values[i] });
    });
  }
  get length(): number {
    return this.#values.length;
  }
  values(): T[] {
    return [...this.#values];
  }
  keys(): string[] {
    return [...this.#keys];
  }
  items(): [string, T][] {
    return this.#keys.map((k, i) => [k, this.#values[i]]);
  }
  get(key: string | number, fallback: unknown = null): unknown {
    const i = typeof key === 'number' ? key : this.#keys.indexOf(key);
    return i >= 0 && i < this.#values.length ? this.#values[i] : fallback;
  }
  [Symbol.iterator](): Iterator<T> {
    return this.#values[Symbol.iterator]();
  }
  get [Symbol.toStringTag](): string {
    return 'MappedSequence';
  }
  toString(): string {
    return `(${this.#values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ')})`;
  }
}

/** agate's Column: its `name` and the values of every row (`values()`, by position, iteration). */
export class QueryColumn extends MappedSequence<unknown> {
  constructor(
    readonly name: string,
    values: unknown[],
  ) {
    super(values);
  }
}

/**
 * The table run_query() returns. `touched` is called on every read: while a template is replayed
 * (query-replay.ts), a stand-in table must know whether the render looked at it.
 */
export class QueryTable {
  readonly #data: QueryData;
  readonly #rows: MappedSequence<unknown>[];
  readonly #touched: () => void;

  constructor(data: QueryData, touched: () => void = () => undefined) {
    this.#data = data;
    this.#rows = data.rows.map((r) => new MappedSequence(r.map(templateValue), data.columns));
    this.#touched = touched;
  }
  get rows(): MappedSequence<unknown>[] {
    this.#touched();
    return this.#rows;
  }
  get columns(): MappedSequence<QueryColumn> {
    this.#touched();
    const cols = this.#data.columns.map(
      (name, i) =>
        new QueryColumn(
          name,
          this.#rows.map((r) => r[i]),
        ),
    );
    return new MappedSequence(cols, this.#data.columns);
  }
  get column_names(): string[] {
    this.#touched();
    return [...this.#data.columns];
  }
  get length(): number {
    this.#touched();
    return this.#rows.length;
  }
  [Symbol.iterator](): Iterator<MappedSequence<unknown>> {
    return this.rows[Symbol.iterator]();
  }
  get [Symbol.toStringTag](): string {
    return 'QueryTable';
  }
  toString(): string {
    this.#touched();
    return `<table of ${this.#rows.length} rows: ${this.#data.columns.join(', ')}>`;
  }
  /** load_result()'s `response`: the command tag and the rows it affected, as dbt's AdapterResponse. */
  get response(): { code: string; rows_affected: number; _message: string } {
    this.#touched();
    const code = this.#data.command ?? '';
    const rows = this.#data.rowCount ?? 0;
    return { code, rows_affected: rows, _message: `${code} ${rows}`.trim() };
  }
}

/** load_result('name'): dbt's `{response, data, table}`; `data` and `table` are None without fetch_result. */
export function loadResult(table: QueryTable, fetched: boolean): Record<string, unknown> {
  return {
    get response() {
      return table.response;
    },
    get data() {
      return fetched ? table.rows.map((r) => r.values()) : null;
    },
    get table() {
      return fetched ? table : null;
    },
  };
}
