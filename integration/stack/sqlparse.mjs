// Syntax check for the SQL that Athena runs, with dt-sql-parser: parsers
// generated from the engines' own ANTLR grammars. Usage:
//
//   node integration/stack/sqlparse.mjs trino|hive < [{"name":…,"sql":…},…]
//
// It prints one JSON array, one object per input statement, in order:
//   name        the input's name
//   errors      validate()'s syntax errors as "line:column message" ([]: it parses)
//   statements  how many statements the text holds (Athena runs one per query)
//   tables      tables it reads      (trino only: the tableRef rule)
//   columns     column references    (trino only: the columnName and columnRef rules)
//   aliases     names it defines     (trino only: select-item and relation aliases, WITH names)
// stack.ParseSQL runs it from the Go tests.
import { register } from 'node:module';

// dt-sql-parser's dist/ is ES modules written for bundlers: extensionless
// and directory imports, in a package without "type": "module". Node does
// not resolve those by itself; these hooks add ".js" or "/index.js" and load
// the package's files as modules. Nothing else is changed.
const hooks = `
export async function resolve(spec, ctx, next) {
  try {
    return await next(spec, ctx);
  } catch (e) {
    if (!spec.startsWith('.') || (e.code !== 'ERR_UNSUPPORTED_DIR_IMPORT' && e.code !== 'ERR_MODULE_NOT_FOUND')) throw e;
    for (const s of [spec + '.js', spec + '/index.js']) {
      try { return await next(s, ctx); } catch {}
    }
    throw e;
  }
}
export async function load(url, ctx, next) {
  if (url.includes('/node_modules/dt-sql-parser/')) return next(url, { ...ctx, format: 'module' });
  return next(url, ctx);
}`;
register('data:text/javascript,' + encodeURIComponent(hooks));

const { TrinoSQL, HiveSQL } = await import('dt-sql-parser');

const grammars = { trino: TrinoSQL, hive: HiveSQL };
const grammar = process.argv[2];
if (!grammars[grammar]) {
  console.error(`usage: sqlparse.mjs ${Object.keys(grammars).join('|')} < statements.json`);
  process.exit(2);
}
const parser = new grammars[grammar]();

const unquote = (s) => s.replace(/["`]/g, '').toLowerCase();

// refs walks a Trino parse tree for the tables, columns and aliases.
function refs(tree, ruleNames) {
  const out = { tables: [], columns: [], aliases: [] };
  const walk = (node) => {
    if (node.ruleIndex !== undefined) {
      const rule = ruleNames[node.ruleIndex];
      if (rule === 'tableRef') out.tables.push(unquote(node.getText()));
      else if (rule === 'columnName' || rule === 'columnRef') out.columns.push(unquote(node.getText()));
      else if ((rule === 'selectItem' || rule === 'aliasedRelation') && node._alias) out.aliases.push(unquote(node._alias.getText()));
      else if (rule === 'namedQuery' && node._name) out.aliases.push(unquote(node._name.getText()));
    }
    for (const c of node.children ?? []) walk(c);
  };
  walk(tree);
  return out;
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = [];
  const ruleNames = parser.createParser('').ruleNames;
  for (const q of JSON.parse(input)) {
    const r = { name: q.name, errors: [], statements: 0, tables: [], columns: [], aliases: [] };
    r.errors = parser.validate(q.sql).map((e) => `${e.startLine}:${e.startColumn} ${e.message}`);
    if (r.errors.length === 0) {
      r.statements = (parser.splitSQLByStatement(q.sql) ?? []).length;
      if (grammar === 'trino') Object.assign(r, refs(parser.parse(q.sql), ruleNames));
    }
    out.push(r);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
