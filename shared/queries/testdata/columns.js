// Reads a JSON array [{name, sql}] from stdin, parses each query with
// node-sql-parser's trino dialect (Athena engine v3 is Trino), and prints
// one JSON object {name, error, tables, columns} per query: the tables and
// column names the query reads, or the parse error.
const { Parser } = require('node-sql-parser');

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const parser = new Parser();
  const out = [];
  for (const q of JSON.parse(input)) {
    const r = { name: q.name, error: '', tables: [], columns: [] };
    try {
      const opt = { database: 'trino' };
      parser.astify(q.sql, opt);
      r.tables = parser.tableList(q.sql, opt).map((t) => t.split('::').pop());
      r.columns = parser.columnList(q.sql, opt).map((c) => c.split('::').pop());
    } catch (e) {
      r.error = e.message;
    }
    out.push(r);
  }
  console.log(JSON.stringify(out));
});
