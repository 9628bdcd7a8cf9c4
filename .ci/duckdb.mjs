// DuckDB, an independent Parquet reader, reads a sweep's steps.parquet as
// rewardmix wrote it: the schema and every row equal what the sweep's
// steps.csv (the same sweep in CSV) says, and so do the counts of rows
// that filters on step and value select (DuckDB skips row groups by their
// statistics: wrong bounds would lose rows).
// Usage: node .ci/duckdb.mjs SWEEP_PARQUET_DIR SWEEP_CSV_DIR
import { DuckDBInstance } from '@duckdb/node-api';

const [pq, csv] = process.argv.slice(2);
const con = await (await DuckDBInstance.create(':memory:')).connect();
const rows = async (q) => (await con.runAndReadAll(q)).getRowObjectsJson();
const fail = (msg) => { console.error('duckdb check: ' + msg); process.exit(1); };

const schema = (await rows(`DESCRIBE SELECT * FROM '${pq}/steps.parquet'`)).map((r) => `${r.column_name}:${r.column_type}`).join(' ');
if (schema !== 'run_id:VARCHAR step:INTEGER metric:VARCHAR value:DOUBLE') fail(`schema ${schema}`);
const q = (from) => `SELECT run_id, step, metric, value FROM ${from} ORDER BY run_id, metric, step`;
const a = await rows(q(`'${pq}/steps.parquet'`));
const b = await rows(q(`read_csv('${csv}/steps.csv', columns = {'run_id': 'VARCHAR', 'step': 'INTEGER', 'metric': 'VARCHAR', 'value': 'DOUBLE'}, header = true)`));
if (a.length === 0 || a.length !== b.length) fail(`${a.length} rows in steps.parquet, ${b.length} in steps.csv`);
for (let i = 0; i < a.length; i++) {
  const x = a[i], y = b[i];
  if (x.run_id !== y.run_id || x.step !== y.step || x.metric !== y.metric || x.value !== y.value) {
    fail(`row ${i}: parquet ${JSON.stringify(x)}, csv ${JSON.stringify(y)}`);
  }
}
const csvFrom = `read_csv('${csv}/steps.csv', columns = {'run_id': 'VARCHAR', 'step': 'INTEGER', 'metric': 'VARCHAR', 'value': 'DOUBLE'}, header = true)`;
const filters = ['step = 0', 'step > 150', 'step = (SELECT max(step) FROM ' + csvFrom + ')', 'value > 0.5', 'value <= 0',
  'value = (SELECT max(value) FROM ' + csvFrom + ')', "value = 'NaN'::DOUBLE", "run_id = 'r000' AND step < 3"];
for (const f of filters) {
  const n = async (from) => (await rows(`SELECT count(*) AS n FROM ${from} WHERE ${f}`))[0].n;
  const [x, y] = [await n(`'${pq}/steps.parquet'`), await n(csvFrom)];
  if (x !== y) fail(`WHERE ${f}: ${x} rows in steps.parquet, ${y} in steps.csv`);
}
console.log(`duckdb check: steps.parquet (${a.length} rows, ${schema}) equals steps.csv row for row, and under ${filters.length} filters on step and value`);
