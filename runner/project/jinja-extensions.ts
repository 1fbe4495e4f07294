// The Jinja that dbt users write and nunjucks lacks: Python's list and dict methods (nunjucks' own Jinja
// compatibility layer, plus `extend`), `{% do %}`, `return()` from a macro, and `{% test %}` blocks.
import nunjucks from 'nunjucks';

interface AstNode {
  key: AstNode;
  value: unknown;
  children: AstNode[];
}
interface JinjaCompiler {
  codebuf: string[];
  _compileMacro(node: unknown, frame: unknown): string;
  compileDict(node: AstNode, frame: unknown): void;
  compile(node: AstNode, frame: unknown): void;
  _compileExpression(node: unknown, frame: unknown): void;
  _emit(code: string): void;
}
interface NunjucksInternals {
  compiler: { Compiler: { prototype: JinjaCompiler } };
  nodes: { Literal: new (...a: unknown[]) => { value: unknown }; KeywordArgs: new (...a: unknown[]) => unknown };
  runtime: { memberLookup: (obj: unknown, val: unknown, ...rest: unknown[]) => unknown };
}
interface ParserApi {
  nextToken(): { value: string; lineno: number; colno: number };
  parseExpression(): unknown;
  advanceAfterBlockEnd(name: string): void;
}
interface NodesApi {
  NodeList: new (lineno: number, colno: number, children: unknown[]) => unknown;
  CallExtension: new (ext: object, prop: string, args: unknown, contentArgs: unknown[]) => unknown;
}

const RETURN_MARK = '__dpmReturn';

/** What return(value) throws; the macro it is in catches it and evaluates to `value`, as dbt's macros do. */
export class ReturnSignal extends Error {
  readonly [RETURN_MARK] = true;
  constructor(readonly value: unknown) {
    super('return() is only allowed inside a {% macro %}');
  }
}

let installed = false;

/**
 * Patches nunjucks once per process (its runtime and compiler are module-wide; dpm renders nothing else with it).
 * Must run before the first template is compiled.
 */
export function installDbtJinja(): void {
  if (installed) return;
  installed = true;
  nunjucks.installJinjaCompat();
  const internals = nunjucks as unknown as NunjucksInternals;
  const compatLookup = internals.runtime.memberLookup;
  internals.runtime.memberLookup = function memberLookup(obj: unknown, val: unknown, ...rest: unknown[]) {
    if (Array.isArray(obj) && val === 'extend') {
      return (items: unknown[]) => {
        obj.push(...items);
        return null;
      };
    }
    // The compat layer's update() would copy nunjucks' keyword-argument marker into the dict.
    if (val === 'update' && obj && Object.prototype.toString.call(obj) === '[object Object]') {
      return (...args: Record<string, unknown>[]) => {
        for (const arg of args) {
          const { __keywords: _marker, ...entries } = arg ?? {};
          Object.assign(obj, entries);
        }
        return null;
      };
    }
    return compatLookup.call(this, obj, val, ...rest);
  };
  patchMacros(internals.compiler.Compiler.prototype);
  patchDictKeys(internals.compiler.Compiler.prototype, internals.nodes);
}

/**
 * Jinja's dict keys are expressions: `{name: 1}` keys by the value of `name`, which dbt macros rely on
 * (`{% do d.update({col: x}) %}`); nunjucks took the bare name as the string 'name' and refused other expressions.
 * Keyword arguments (`f(a=1)`, compiled as a dict too) keep their names.
 */
function patchDictKeys(compiler: JinjaCompiler, nodes: NunjucksInternals['nodes']): void {
  const compileDict = compiler.compileDict;
  compiler.compileDict = function patched(this: JinjaCompiler, node: AstNode, frame: unknown) {
    if (node instanceof nodes.KeywordArgs) return compileDict.call(this, node, frame);
    this._emit('{');
    node.children.forEach((pair, i) => {
      if (i > 0) this._emit(',');
      const key = pair.key as unknown;
      if (key instanceof nodes.Literal && typeof key.value === 'string') this.compile(pair.key, frame);
      else {
        this._emit('[');
        this._compileExpression(pair.key, frame);
        this._emit(']');
      }
      this._emit(': ');
      this._compileExpression(pair.value, frame);
    });
    this._emit('}');
  };
}

/**
 * Makes every compiled macro catch a ReturnSignal and restore the template's frame in a `finally`. The frame is one
 * variable shared by all macros of a file: a macro left by an exception would otherwise leave its caller in the same
 * file reading the wrong variables. Call blocks (`{% call %}`, compiled with a frame) only restore the frame, so a
 * return() inside one reaches the enclosing macro.
 */
function patchMacros(compiler: JinjaCompiler): void {
  const compileMacro = compiler._compileMacro;
  compiler._compileMacro = function patched(this: JinjaCompiler, node: unknown, frame: unknown) {
    const start = this.codebuf.length;
    const funcId = compileMacro.call(this, node, frame);
    const open = this.codebuf.indexOf('var callerFrame = frame;\n', start);
    const close = this.codebuf.length - 1;
    if (open < 0 || this.codebuf[close] !== '});\n')
      throw new Error('nunjucks compiles macros differently than expected');
    const onReturn = frame === undefined ? `catch (e) { if (e && e.${RETURN_MARK}) return e.value; throw e; } ` : '';
    this.codebuf[open] = 'var callerFrame = frame;\ntry {\n';
    this.codebuf[close] = `} ${onReturn}finally { frame = callerFrame; }\n});\n`;
    return funcId;
  };
}

/** `{% do expr %}`: evaluates the expression for its effect (`{% do rows.append(x) %}`) and prints nothing. */
export class DoExtension implements nunjucks.Extension {
  readonly tags = ['do'];
  parse(parser: ParserApi, nodes: NodesApi): unknown {
    const tag = parser.nextToken();
    const expr = parser.parseExpression();
    parser.advanceAfterBlockEnd(tag.value);
    return new nodes.CallExtension(this, 'run', new nodes.NodeList(tag.lineno, tag.colno, [expr]), []);
  }
  run(): string {
    return '';
  }
}

/** A `{% test name(model, column_name, ...) %}` block: dbt's custom generic test, a macro named `test_<name>`. */
export interface GenericTestMacro {
  name: string;
  params: { name: string; required: boolean }[];
  file: string;
  line: number;
}

/**
 * Rewrites `{% test x(...) %}...{% endtest %}` into `{% macro test_x(...) %}...{% endmacro %}` (dbt's own reading of
 * it), keeping every line where it was, and lists the tests with their parameters.
 */
export function rewriteTestBlocks(source: string, file: string): { source: string; tests: GenericTestMacro[] } {
  const tests: GenericTestMacro[] = [];
  const open = /\{%(-?)\s*test\s+([A-Za-z_]\w*)\s*\(/g;
  let out = '';
  let from = 0;
  for (let m = open.exec(source); m; m = open.exec(source)) {
    const argsStart = m.index + m[0].length;
    const argsEnd = closingParen(source, argsStart);
    if (argsEnd < 0) break;
    tests.push({
      name: m[2],
      params: splitTopLevel(source.slice(argsStart, argsEnd)).map((p) => ({
        name: p.split('=')[0].trim(),
        required: !p.includes('='),
      })),
      file,
      line: source.slice(0, m.index).split('\n').length,
    });
    out += `${source.slice(from, m.index)}{%${m[1]} macro test_${m[2]}(`;
    from = argsStart;
  }
  out += source.slice(from);
  return { source: out.replace(/\{%(-?)\s*endtest\s*(-?)%\}/g, '{%$1 endmacro $2%}'), tests };
}

/** The index of the `)` that closes the parenthesis opened just before `start` (strings and nesting skipped). */
function closingParen(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return -1;
      i = end;
    } else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) {
      if (depth === 0) return c === ')' ? i : -1;
      depth--;
    }
  }
  return -1;
}

/** `a, b=[1, 2], c='x,y'` -> ['a', 'b=[1, 2]', "c='x,y'"]. */
function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i <= list.length; i++) {
    const c = list[i];
    if (c === '"' || c === "'") {
      const end = list.indexOf(c, i + 1);
      i = end < 0 ? list.length - 1 : end;
    } else if (c === '(' || c === '[' || c === '{') i = closingBracket(list, i);
    if (i === list.length || list[i] === ',') {
      if (list.slice(from, i).trim()) parts.push(list.slice(from, i).trim());
      from = i + 1;
    }
  }
  return parts;
}

function closingBracket(text: string, open: number): number {
  const end = closingParen(text.replace(/[[{]/g, '(').replace(/[\]}]/g, ')'), open + 1);
  return end < 0 ? text.length - 1 : end;
}
