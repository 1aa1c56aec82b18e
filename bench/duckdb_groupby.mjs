// duckdb_groupby: the DuckDB baseline of `make bench`.
//
//   node duckdb_groupby.mjs FILE THREADS
//
// The group-by of bench/csv_baseline.c (groupby) in DuckDB through the
// npm package @duckdb/node-api: count(*) by (country, year-quarter, sex,
// age band, form) over an es_case-layout file (bench/gen_big.c), raw
// values as in the file.  Prints "rows=<n> groups=<n> query_s=<s>".
// NODE_PATH (or a node_modules next to the working directory) must
// find @duckdb/node-api; bench/run.sh installs it into bench/work/node.
import { DuckDBInstance } from '@duckdb/node-api';

const [file, threads] = process.argv.slice(2);
if (!file) {
  console.error('usage: node duckdb_groupby.mjs FILE [THREADS]');
  process.exit(64);
}
const q = (s) => "'" + s.replace(/'/g, "''") + "'";
const sql = `
SELECT pais_informante AS country,
       substr(fecha_registro, 7, 4) || '-Q' ||
         CAST((CAST(substr(fecha_registro, 4, 2) AS INTEGER) + 2) // 3 AS VARCHAR) AS quarter,
       sexo AS sex,
       CASE WHEN edad IS NULL THEN 'U'
            WHEN CAST(edad AS INTEGER) <= 4 THEN '0-4'
            WHEN CAST(edad AS INTEGER) <= 9 THEN '5-9'
            WHEN CAST(edad AS INTEGER) <= 14 THEN '10-14'
            WHEN CAST(edad AS INTEGER) <= 17 THEN '15-17'
            WHEN CAST(edad AS INTEGER) <= 24 THEN '18-24'
            WHEN CAST(edad AS INTEGER) <= 34 THEN '25-34'
            WHEN CAST(edad AS INTEGER) <= 44 THEN '35-44'
            WHEN CAST(edad AS INTEGER) <= 54 THEN '45-54'
            WHEN CAST(edad AS INTEGER) <= 64 THEN '55-64'
            ELSE '65+' END AS age_band,
       finalidad AS form,
       count(*) AS n
FROM read_csv(${q(file)}, header = true, delim = ',', quote = '"', escape = '"',
              all_varchar = true)
GROUP BY ALL`;

const inst = await DuckDBInstance.create(':memory:', { threads: String(threads || 2) });
const conn = await inst.connect();
const t0 = performance.now();
const reader = await conn.runAndReadAll(sql);
const rows = reader.getRows();
const t = (performance.now() - t0) / 1000;
let total = 0n;
for (const r of rows) total += BigInt(r[5]);
console.log(`rows=${total} groups=${rows.length} query_s=${t.toFixed(3)}`);
