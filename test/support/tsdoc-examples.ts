/**
 * Extracts the `@example` blocks of `src/`'s TSDoc comments, type-checks them in one TypeScript
 * program and turns them into runnable functions, for test/examples/tsdoc-examples.test.ts.
 *
 * An example is the body of the fenced ```ts block that follows `@example`. It is written as a
 * user would write it: `tsf.Name(...)` for the package, bare names for `tsfast/testing`,
 * `tf.` for TensorFlow.js, and the free names of {@link ExampleContext} (`learn`, `dls`, ...)
 * for "a value of the obvious type". An example whose fence reads ```ts no-run is type-checked
 * but not run; the fence's words after `no-run` say why (it needs photos, a network, ...).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** One `@example` block. */
export interface TsdocExample {
  /** Stable key used by the known-failure list: `src/path.ts:Symbol` (`#2`... for a second example). */
  id: string;
  /** The source file, relative to the repository root. */
  file: string;
  /** 1-based line of the example's first code line in `file`. */
  line: number;
  /** The documented symbol, `Class.member` for members, `(file)` for a file comment. */
  symbol: string;
  /** The example's code, comment stars removed. */
  code: string;
  /** Why the example is not run (`no-run` fence), or undefined when it is run. */
  noRun: string | undefined;
}

const DOC_START = /^\s*\*?\s?/;

function listTsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTsFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

function declarationName(node: ts.Node, sf: ts.SourceFile): string | undefined {
  if (ts.isVariableStatement(node)) {
    const first = node.declarationList.declarations[0];
    return first ? first.name.getText(sf) : undefined;
  }
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const named = node as { name?: ts.Node };
  if (named.name && (ts.isIdentifier(named.name) || ts.isStringLiteral(named.name))) {
    return named.name.text;
  }
  if (named.name) return named.name.getText(sf);
  if (ts.isExportAssignment(node)) return 'default';
  return undefined;
}

function isContainer(node: ts.Node): boolean {
  return (
    ts.isClassDeclaration(node) ||
    ts.isInterfaceDeclaration(node) ||
    ts.isModuleDeclaration(node) ||
    ts.isEnumDeclaration(node) ||
    ts.isTypeLiteralNode(node)
  );
}

/** The `@example` blocks of one comment's text, with their offsets in the comment. */
function examplesOfComment(
  comment: string,
): { code: string; noRun: string | undefined; lineOffset: number }[] {
  const lines = comment.split('\n');
  const found: { code: string; noRun: string | undefined; lineOffset: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/@example\b/.test(lines[i] ?? '')) continue;
    let j = i + 1;
    while (j < lines.length && (lines[j] ?? '').replace(DOC_START, '').trim() === '') j++;
    const fence = (lines[j] ?? '').replace(DOC_START, '').trim();
    const m = /^```(?:ts|typescript)\b(.*)$/.exec(fence);
    if (!m) continue;
    const info = (m[1] ?? '').trim();
    const noRun = /^no-run\b/.test(info)
      ? info.slice('no-run'.length).trim() || 'no-run'
      : undefined;
    const body: string[] = [];
    let k = j + 1;
    for (; k < lines.length; k++) {
      const text = (lines[k] ?? '').replace(/^\s*\* ?/, '');
      if (text.trim().startsWith('```')) break;
      body.push(text);
    }
    found.push({ code: body.join('\n'), noRun, lineOffset: j + 1 });
    i = k;
  }
  return found;
}

/** Every `@example` of the `.ts` files under `srcDir`, in file and line order. */
export function extractExamples(root: string, srcDir = join(root, 'src')): TsdocExample[] {
  const out: TsdocExample[] = [];
  for (const path of listTsFiles(srcDir)) {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('@example')) continue;
    const file = relative(root, path).split('\\').join('/');
    const sf = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true);
    const seen = new Set<number>();
    const ids = new Map<string, number>();
    const visit = (node: ts.Node, owner: string[]): void => {
      const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
      ranges.forEach((range, idx) => {
        if (seen.has(range.pos)) return;
        const comment = text.slice(range.pos, range.end);
        if (!comment.startsWith('/**')) return;
        seen.add(range.pos);
        const isDoc = idx === ranges.length - 1 && !comment.includes('@packageDocumentation');
        const name = isDoc ? declarationName(node, sf) : undefined;
        const symbol = name ? [...owner, name].join('.') : '(file)';
        const startLine = sf.getLineAndCharacterOfPosition(range.pos).line;
        for (const ex of examplesOfComment(comment)) {
          const base = `${file}:${symbol}`;
          const n = (ids.get(base) ?? 0) + 1;
          ids.set(base, n);
          out.push({
            id: n === 1 ? base : `${base}#${n}`,
            file,
            line: startLine + ex.lineOffset + 1,
            symbol,
            code: ex.code,
            noRun: ex.noRun,
          });
        }
      });
      const name = isContainer(node) ? declarationName(node, sf) : undefined;
      const nextOwner = name ? [...owner, name] : owner;
      ts.forEachChild(node, (child) => visit(child, nextOwner));
    };
    ts.forEachChild(sf, (child) => visit(child, []));
  }
  return out;
}

/**
 * The names `file` exports (values and types). An example of a symbol that is not part of the
 * public API (a helper of one module) may use its own module's exports by their bare names; the
 * generated module imports those it mentions.
 */
export function exportedNames(root: string, file: string): Set<string> {
  const sf = ts.createSourceFile(
    file,
    readFileSync(join(root, file), 'utf8'),
    ts.ScriptTarget.ES2022,
    true,
  );
  const names = new Set<string>();
  for (const st of sf.statements) {
    const mods = ts.canHaveModifiers(st) ? (ts.getModifiers(st) ?? []) : [];
    const exported = mods.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause)) {
      for (const el of st.exportClause.elements) names.add(el.name.text);
      continue;
    }
    if (!exported) continue;
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        if (ts.isIdentifier(d.name)) names.add(d.name.text);
      }
      continue;
    }
    const name = (st as { name?: ts.Node }).name;
    if (name && ts.isIdentifier(name)) names.add(name.text);
  }
  return names;
}

/** The exports of the example's own module that its code mentions, context names excepted. */
export function ownModuleNames(
  ex: TsdocExample,
  exports: ReadonlySet<string>,
  contextNames: readonly string[],
): string[] {
  const words = new Set(ex.code.match(/[A-Za-z_$][\w$]*/g) ?? []);
  const skip = new Set([...contextNames, 'tf', 'tsf', 'testing']);
  return [...exports].filter((n) => words.has(n) && !skip.has(n)).sort();
}

/** One example's compiler diagnostics, as `file:line: message` lines. */
export interface ExampleCheck {
  example: TsdocExample;
  /** The compiler's errors, `file:line: TSnnnn: message`; empty when the example compiles. */
  errors: string[];
  /** The context names the example's code refers to (resolved by the checker). */
  usesContext: string[];
}

const IMPORT_LINE = /^\s*import\s[^;]*?['"][^'"]+['"];?\s*$|^\s*import\s+['"][^'"]+['"];?\s*$/;

/**
 * Splits an example's leading `import` lines (a user's imports of Node modules or other
 * packages) from its body: they go to the module's top level when type-checking, and become
 * dynamic imports when running.
 */
export function splitImports(code: string): { imports: string[]; body: string } {
  const lines = code.split('\n');
  const imports: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (IMPORT_LINE.test(line)) {
      imports.push(line.trim());
      // Keep the line count, so that error lines still match the source.
      lines[i] = '';
    } else if (line.trim() !== '') break;
  }
  return { imports, body: lines.join('\n') };
}

/** An import of `tsfast` or `tsfast/testing`, pointed at the sources (for type-checking). */
function toSourceSpecifier(line: string): string {
  return line
    .replace(/(['"])tsfast\/testing\1/, "'../../../src/testing/index.js'")
    .replace(/(['"])tsfast\1/, "'../../../src/index.js'");
}

/** `import { a, b as c } from 'm'` as `const { a, b: c } = await __import('m')`, for running. */
export function dynamicImport(line: string): string {
  const m = /^import\s+(?:(.+?)\s+from\s+)?['"]([^'"]+)['"];?$/.exec(line.trim());
  if (!m) throw new Error(`unsupported import in an example: ${line}`);
  const [, clause, spec] = m;
  const load = `await __import(${JSON.stringify(spec)})`;
  if (!clause) return `${load};`;
  if (clause.startsWith('* as ')) return `const ${clause.slice(5).trim()} = ${load};`;
  const named = /\{([^}]*)\}/.exec(clause)?.[1];
  const def = clause.replace(/,?\s*\{[^}]*\}/, '').trim();
  const parts: string[] = [];
  if (def) parts.push(`default: ${def}`);
  if (named) {
    for (const n of named
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      if (n.startsWith('type ')) continue;
      const [a, b] = n.split(/\s+as\s+/);
      parts.push(b ? `${a}: ${b}` : `${a}`);
    }
  }
  return `const { ${parts.join(', ')} } = ${load};`;
}

/** The bare names an example imports: its own module's exports and `tsfast/testing`'s. */
export interface ExampleImports {
  /** Exports of the example's own module that it mentions. */
  own: string[];
  /** Exports of `tsfast/testing` that it mentions (and its own module does not export). */
  testing: string[];
}

/** Computes {@link ExampleImports} for each example, reading each module's exports once. */
export function exampleImports(
  root: string,
  examples: readonly TsdocExample[],
  contextNames: readonly string[],
): ExampleImports[] {
  const exportsOf = new Map<string, Set<string>>();
  const exportsFor = (file: string): Set<string> => {
    let names = exportsOf.get(file);
    if (!names) {
      names = exportedNames(root, file);
      exportsOf.set(file, names);
    }
    return names;
  };
  const testingExports = exportsFor('src/testing/index.ts');
  return examples.map((ex) => {
    // Names the example imports itself (e.g. from 'tsfast/testing') are not imported again.
    const imported = new Set(
      splitImports(ex.code).imports.flatMap(
        (l) => l.replace(/\sfrom\s.*$/, '').match(/[\w$]+/g) ?? [],
      ),
    );
    const skip = [...contextNames, ...imported];
    const own = ownModuleNames(ex, exportsFor(ex.file), skip);
    const ownSet = new Set(own);
    const testing = ownModuleNames(ex, testingExports, skip).filter((n) => !ownSet.has(n));
    return { own, testing };
  });
}

/**
 * The source of the module that type-checks one example: the context's names are destructured
 * from a parameter of type `ExampleContext`, and the example runs in a nested block so that it
 * may declare a name of the context again (`const learn = ...`).
 */
export function exampleModuleSource(
  ex: TsdocExample,
  contextNames: readonly string[],
  imports: ExampleImports,
): string {
  const own = imports.own.length
    ? `import { ${imports.own.join(', ')} } from '../../../${ex.file.replace(/\.ts$/, '.js')}';`
    : '';
  const testing = imports.testing.length
    ? `import { ${imports.testing.join(', ')} } from '../../../src/testing/index.js';`
    : '';
  const { imports: userImports, body } = splitImports(ex.code);
  return [
    own,
    testing,
    "import * as tf from '@tensorflow/tfjs';",
    "import * as tsf from '../../../src/index.js';",
    `import type { ExampleContext } from '../../support/tsdoc-context.js'; ${userImports.map(toSourceSpecifier).join(' ')}`,
    'void tf; void tsf;',
    `export async function example(__ctx: ExampleContext): Promise<void> {`,
    `  const { ${contextNames.join(', ')} } = __ctx;`,
    `  void [${contextNames.join(', ')}];`,
    '  {',
    body,
    '  }',
    '}',
    '',
  ].join('\n');
}

const PRELUDE_LINES = 10;

/**
 * Type-checks every example in one program. Each example is a virtual module under
 * `test/examples/.tsdoc/`, so that nothing is written to disk; `src/` and the context file are
 * read from disk as usual.
 */
export function typeCheckExamples(
  root: string,
  examples: readonly TsdocExample[],
  imports: readonly ExampleImports[],
  contextNames: readonly string[],
): ExampleCheck[] {
  const configPath = join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    // An example shows one call; what it declares need not be used afterwards.
    noUnusedLocals: false,
    noUnusedParameters: false,
    allowUnreachableCode: true,
    sourceMap: false,
    declaration: false,
  };
  const virtualDir = join(root, 'test', 'examples', '.tsdoc');
  const virtual = new Map<string, TsdocExample>();
  const sources = new Map<string, string>();
  examples.forEach((ex, i) => {
    const path = resolve(virtualDir, `example-${String(i).padStart(4, '0')}.ts`);
    virtual.set(path, ex);
    sources.set(
      path,
      exampleModuleSource(ex, contextNames, imports[i] ?? { own: [], testing: [] }),
    );
  });
  const host = ts.createCompilerHost(options);
  const baseGetSourceFile = host.getSourceFile.bind(host);
  const baseFileExists = host.fileExists.bind(host);
  const baseReadFile = host.readFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const src = sources.get(resolve(fileName));
    if (src !== undefined) return ts.createSourceFile(fileName, src, languageVersion, true);
    return baseGetSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  host.fileExists = (fileName) => sources.has(resolve(fileName)) || baseFileExists(fileName);
  host.readFile = (fileName) => sources.get(resolve(fileName)) ?? baseReadFile(fileName);
  const program = ts.createProgram([...virtual.keys()], options, host);
  const results: ExampleCheck[] = [];
  for (const [path, ex] of virtual) {
    const sf = program.getSourceFile(path);
    const diags = sf
      ? [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]
      : [];
    const errors = diags.map((d) => {
      const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (d.file && d.start !== undefined && resolve(d.file.fileName) === path) {
        const line = d.file.getLineAndCharacterOfPosition(d.start).line - PRELUDE_LINES;
        return `${ex.file}:${ex.line + Math.max(0, line)}: TS${d.code}: ${msg}`;
      }
      return `${ex.file}:${ex.line}: TS${d.code}: ${msg}`;
    });
    const usesContext = new Set<string>();
    if (sf) {
      const checker = program.getTypeChecker();
      const fn = sf.statements.find(ts.isFunctionDeclaration);
      const ctxDecl = fn?.body?.statements[0];
      const visit = (node: ts.Node): void => {
        if (ts.isIdentifier(node)) {
          const decl = checker.getSymbolAtLocation(node)?.valueDeclaration;
          if (decl && ctxDecl && decl.pos >= ctxDecl.pos && decl.end <= ctxDecl.end) {
            usesContext.add(node.text);
          }
        }
        ts.forEachChild(node, visit);
      };
      const block = fn?.body?.statements[2];
      if (block) visit(block);
    }
    results.push({ example: ex, errors, usesContext: [...usesContext].sort() });
  }
  return results;
}

/**
 * Turns an example into a function of its scope, for running: the code is transpiled (types
 * stripped) and wrapped as an async function that destructures the bare names it may use
 * (`tf`, `tsf`, the imports, the context, and `__import`, which loads what the example's own
 * `import` lines name) from its argument.
 */
export function compileExampleForRun(
  ex: TsdocExample,
  scopeNames: readonly string[],
): (scope: Record<string, unknown>) => Promise<void> {
  const { imports, body } = splitImports(ex.code);
  const loads = imports.map(dynamicImport).join(' ');
  const wrapped = `(async (__scope) => {\nconst { ${scopeNames.join(', ')} } = __scope;\n{\n${loads}\n${body}\n}\n})`;
  const js = ts.transpileModule(wrapped, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    reportDiagnostics: false,
  }).outputText;
  return new Function(`return ${js.trim().replace(/;$/, '')};`)() as (
    scope: Record<string, unknown>,
  ) => Promise<void>;
}
