// Parses each query of a JSON array [{name, sql}] read from stdin with
// node-sql-parser's trino dialect (Athena engine v3 is Trino) and prints
// one line per query that does not parse. Exit status 1 if any fails.
const { Parser } = require('node-sql-parser');

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const parser = new Parser();
  let failed = 0;
  const queries = JSON.parse(input);
  for (const q of queries) {
    try {
      parser.astify(q.sql, { database: 'trino' });
    } catch (e) {
      failed++;
      console.log(`${q.name}: ${e.message}`);
    }
  }
  console.log(`${queries.length - failed} parsed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
});
