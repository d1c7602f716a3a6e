package lakesql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/ocsf"
)

// ErrEmptyLake is returned by Open for a folder that holds no Parquet file.
var ErrEmptyLake = errors.New("no Parquet files in the lake (run flowlake convert first)")

// Open opens an in-memory DuckDB with the lake under dir as the view
// lake.TableName, the threat lists under dir's lake.ReferencePrefix as
// the view lake.ThreatListsTableName, the rollups as lake.RollupTableName
// and the flows as OCSF Network Activity as the view ocsf.ViewName. Close
// the returned database when done.
func Open(ctx context.Context, dir string, s *lake.Schema) (*sql.DB, error) {
	return OpenWithReference(ctx, dir, "", s)
}

// OpenWithReference is Open with the reference data in refDir (the
// lake.ReferencePrefix folder; "" for dir's): for a folder of the flows
// alone, such as the lake bucket's flows/ prefix, whose reference/ is
// beside it at the bucket's root.
func OpenWithReference(ctx context.Context, dir, refDir string, s *lake.Schema) (*sql.DB, error) {
	if refDir == "" {
		refDir = filepath.Join(dir, strings.TrimSuffix(lake.ReferencePrefix, "/"))
	}
	if s == nil {
		s = lake.TableSchema
	}
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (path == filepath.Join(dir, strings.TrimSuffix(lake.ReferencePrefix, "/")) || isRollups(dir, path)) {
			return fs.SkipDir // reference data, rollups: not flows
		}
		if !d.IsDir() && strings.HasSuffix(path, ".parquet") {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open lake %s: %w", dir, err)
	}
	if !found {
		return nil, fmt.Errorf("open lake %s: %w", dir, ErrEmptyLake)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	// Each query reads the footers of every file the view spans; keep them
	// after the first, schemas included (a lake of many small objects).
	if _, err := db.ExecContext(ctx, "SET GLOBAL parquet_metadata_cache = true"); err != nil {
		db.Close()
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	have, err := fileColumns(ctx, db, dir)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open lake %s: %w", dir, err)
	}
	if _, err := db.ExecContext(ctx, ViewSQL(s, dir, have)); err != nil {
		db.Close()
		return nil, fmt.Errorf("create view %s: %w", lake.TableName, err)
	}
	listsDir := filepath.Join(refDir, strings.TrimPrefix(strings.TrimSuffix(lake.ThreatListsPrefix, "/"), lake.ReferencePrefix))
	lists, err := hasParquet(listsDir)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open lake %s: %w", dir, err)
	}
	if _, err := db.ExecContext(ctx, ThreatListsViewSQL(listsDir, lists)); err != nil {
		db.Close()
		return nil, fmt.Errorf("create view %s: %w", lake.ThreatListsTableName, err)
	}
	// The rollups are beside the reference data (the lake's root).
	rollupsDir := filepath.Join(filepath.Dir(refDir), strings.TrimSuffix(lake.RollupPrefix, "/"))
	if _, err := db.ExecContext(ctx, RollupViewSQL(rollupsDir, hasRollups(rollupsDir))); err != nil {
		db.Close()
		return nil, fmt.Errorf("create view %s: %w", lake.RollupTableName, err)
	}
	// The flows as OCSF Network Activity, as the Glue view has them.
	if _, err := db.ExecContext(ctx, ocsf.DuckDBViewSQL()); err != nil {
		db.Close()
		return nil, fmt.Errorf("create view %s: %w", ocsf.ViewName, err)
	}
	return db, nil
}

// rollupName is the name of a partition-hour's rollup object
// (compact.RollupName).
const rollupName = "rollup.pq"

func hasRollups(dir string) bool {
	found := false
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == rollupName {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}

// RollupViewSQL returns the CREATE VIEW statement of the rollups
// (lake.RollupTable) in the folder dir (the lake's rollups/), with the
// Glue table's columns and types and the partition keys as strings; with
// no rollup (have false) the view is empty.
func RollupViewSQL(dir string, have bool) string {
	from := ""
	if have {
		g := filepath.ToSlash(filepath.Join(dir, lake.KeyAccount+"=*", "**", rollupName))
		from = fmt.Sprintf("read_parquet(%s, hive_partitioning = true, hive_types_autocast = false)", literal(g))
	}
	return tableViewSQL(lake.RollupTableName, lake.RollupColumns, lake.PartitionKeys(), from)
}

// tableViewSQL returns the CREATE VIEW statement of a table beside the
// flows: its Glue columns cast to their DuckDB types, then keys as
// strings, read from from ("": no data, an empty view of those columns).
func tableViewSQL(name string, cols []lake.TableColumn, keys []string, from string) string {
	var sel []string
	add := func(col, typ string) {
		if from == "" {
			sel = append(sel, fmt.Sprintf("  CAST(NULL AS %s) AS %s", typ, ident(col)))
		} else {
			sel = append(sel, fmt.Sprintf("  CAST(%s AS %s) AS %s", ident(col), typ, ident(col)))
		}
	}
	for _, c := range cols {
		typ, ok := map[string]string{"int": "INTEGER", "bigint": "BIGINT"}[c.Type]
		if !ok {
			typ = "VARCHAR" // string
		}
		add(c.Name, typ)
	}
	for _, k := range keys {
		add(k, "VARCHAR")
	}
	q := "CREATE OR REPLACE VIEW " + ident(name) + " AS SELECT\n" + strings.Join(sel, ",\n")
	if from == "" {
		return q + "\nWHERE FALSE"
	}
	return q + "\nFROM " + from
}

// hasParquet reports whether dir holds a Parquet file (false when it does
// not exist).
func hasParquet(dir string) (bool, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".parquet") {
			return true, nil
		}
	}
	return false, nil
}

// ThreatListsViewSQL returns the CREATE VIEW statement of the threat lists
// (lake.ThreatListsTable) in the folder dir (the lake's
// reference/threat_lists/), with the Glue table's columns and types; with
// no list (have false) the view is empty, so the rule that joins it finds
// nothing instead of failing.
func ThreatListsViewSQL(dir string, have bool) string {
	from := ""
	if have {
		from = fmt.Sprintf("read_parquet(%s, union_by_name = true)", literal(filepath.ToSlash(filepath.Join(dir, "*.parquet"))))
	}
	return tableViewSQL(lake.ThreatListsTableName, lake.ThreatListsColumns, nil, from)
}

// fileColumns returns the names of the columns that some Parquet file of
// the lake has.
func fileColumns(ctx context.Context, db *sql.DB, dir string) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, "SELECT name FROM parquet_schema("+globSQL(dir)+")")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		have[name] = true
	}
	return have, rows.Err()
}

// isRollups reports whether path is the rollups folder (lake.RollupPrefix)
// of the lake under dir, or of a prefix inside it (the demo's flows/).
func isRollups(dir, path string) bool {
	if filepath.Base(path) != strings.TrimSuffix(lake.RollupPrefix, "/") {
		return false
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && strings.Count(rel, string(filepath.Separator)) <= 1
}

// globSQL returns the SQL list of the globs of the lake's flow objects:
// every Parquet file in the partition folders (aws_account=…) of each
// folder that holds them, dir itself or a prefix inside it (the demo's
// flows/), and not the reference data beside them (lake.ReferencePrefix).
// A folder with no partition folder is read whole, as before.
func globSQL(dir string) string {
	var roots []string
	ref := filepath.Join(dir, strings.TrimSuffix(lake.ReferencePrefix, "/"))
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if path == ref || isRollups(dir, path) {
			return fs.SkipDir
		}
		if strings.HasPrefix(d.Name(), lake.KeyAccount+"=") {
			if parent := filepath.Dir(path); !slices.Contains(roots, parent) {
				roots = append(roots, parent)
			}
			return fs.SkipDir
		}
		if rel, _ := filepath.Rel(dir, path); strings.Count(rel, string(filepath.Separator)) >= 2 {
			return fs.SkipDir // partition folders are near the top
		}
		return nil
	})
	if len(roots) == 0 {
		return "[" + literal(filepath.ToSlash(filepath.Join(dir, "**", "*.parquet"))) + "]"
	}
	q := make([]string, len(roots))
	for i, r := range roots {
		q[i] = literal(filepath.ToSlash(filepath.Join(r, lake.KeyAccount+"=*", "**", "*.parquet")))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// ViewSQL returns the CREATE VIEW statement that exposes the lake under dir
// with the schema's columns, cast to the DuckDB types of their Athena types,
// then the partition keys as strings. A column no file has (the lake's
// files leave out the fields their formats lack) is a typed NULL, as
// Athena reads it. have nil means every column is in some file.
func ViewSQL(s *lake.Schema, dir string, have map[string]bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE OR REPLACE VIEW %s AS SELECT\n", ident(lake.TableName))
	for _, c := range s.Columns() {
		if have != nil && !have[c.Name] {
			fmt.Fprintf(&b, "  CAST(NULL AS %s) AS %s,\n", c.Type.DuckDB(), ident(c.Name))
			continue
		}
		fmt.Fprintf(&b, "  CAST(%s AS %s) AS %s,\n", ident(c.Name), c.Type.DuckDB(), ident(c.Name))
	}
	keys := lake.PartitionKeys()
	for i, k := range keys {
		sep := ","
		if i == len(keys)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  CAST(%s AS VARCHAR) AS %s%s\n", ident(k), ident(k), sep)
	}
	fmt.Fprintf(&b, "FROM read_parquet(%s, hive_partitioning = true, hive_types_autocast = false, union_by_name = true)", globSQL(dir))
	return b.String()
}

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
