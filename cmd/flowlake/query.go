package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flowlake/flowlake/shared/lakesql"
)

// runQuery implements `flowlake query`.
func runQuery(ctx context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	lakeDir := fs.String("lake", "", "the lake's folder (required)")
	asJSON := fs.Bool("json", false, "print one JSON object per row")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: flowlake query --lake DIR [--json] \"SQL\"\n\n"+
			"Runs SQL in embedded DuckDB with the lake as the table flows, the name and\n"+
			"column types of the Athena table, so a query runs unchanged in both.\n"+
			"Partition keys (aws_account, aws_region, day, hour) are strings, as in Athena.\n"+
			"The view flows_ocsf has the flows as OCSF 1.1.0 Network Activity, as the Glue view has them.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *lakeDir == "" || fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	db, err := lakesql.Open(ctx, *lakeDir, nil)
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake query: %v\n", err)
		return 1
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, fs.Arg(0))
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake query: %v\n", err)
		return 1
	}
	defer rows.Close()
	out := bufio.NewWriterSize(sio.out, 64<<10)
	defer out.Flush()
	if *asJSON {
		err = printJSON(out, rows)
	} else {
		err = printTable(out, rows)
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake query: %v\n", err)
		return 1
	}
	return 0
}

// scanRows calls fn with the values of each row.
func scanRows(rows *sql.Rows, fn func(vals []any) error) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// printJSON writes one JSON object per row, keys in column order.
func printJSON(w io.Writer, rows *sql.Rows) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	var line []byte
	return scanRows(rows, func(vals []any) error {
		line = append(line[:0], '{')
		for i, v := range vals {
			if i > 0 {
				line = append(line, ',')
			}
			k, _ := json.Marshal(cols[i])
			line = append(line, k...)
			line = append(line, ':')
			b, err := json.Marshal(jsonValue(v))
			if err != nil {
				return fmt.Errorf("column %s: %w", cols[i], err)
			}
			line = append(line, b...)
		}
		line = append(line, '}', '\n')
		_, err := w.Write(line)
		return err
	})
}

// jsonValue turns what the DuckDB driver returns into something
// encoding/json writes: maps with string keys, times in RFC 3339 (UTC).
func jsonValue(v any) any {
	switch v := v.(type) {
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(v)
	case *big.Int:
		return json.Number(v.String())
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = jsonValue(e)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Map {
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			out[fmt.Sprint(it.Key().Interface())] = jsonValue(it.Value().Interface())
		}
		return out
	}
	return v
}

// text renders a value for the aligned table.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return v.UTC().Format(time.DateTime)
	case []byte:
		return string(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = text(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Map {
		var parts []string
		it := rv.MapRange()
		for it.Next() {
			parts = append(parts, text(it.Key().Interface())+"="+text(it.Value().Interface()))
		}
		slices.Sort(parts)
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// printTable writes the rows as an aligned table with a header; numbers are
// right-aligned.
func printTable(w io.Writer, rows *sql.Rows) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	widths := make([]int, len(cols))
	right := make([]bool, len(cols))
	for i, c := range cols {
		widths[i] = utf8.RuneCountInString(c)
	}
	var cells [][]string
	err = scanRows(rows, func(vals []any) error {
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = text(v)
			widths[i] = max(widths[i], utf8.RuneCountInString(row[i]))
			switch v.(type) {
			case int, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, *big.Int:
				right[i] = true
			}
		}
		cells = append(cells, row)
		return nil
	})
	if err != nil {
		return err
	}
	var b strings.Builder
	line := func(row []string) {
		b.Reset()
		for i, s := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(s))
			if right[i] {
				b.WriteString(pad + s)
			} else if i < len(row)-1 {
				b.WriteString(s + pad)
			} else {
				b.WriteString(s)
			}
		}
		b.WriteByte('\n')
		io.WriteString(w, b.String())
	}
	line(cols)
	sep := make([]string, len(cols))
	for i := range sep {
		sep[i] = strings.Repeat("-", widths[i])
	}
	line(sep)
	for _, row := range cells {
		line(row)
	}
	_, err = fmt.Fprintf(w, "(%d rows)\n", len(cells))
	return err
}
