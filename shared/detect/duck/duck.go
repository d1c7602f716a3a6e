package duck

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/finding"
	"github.com/flowlake/flowlake/shared/lakesql"
)

// Querier runs detect's SQL on a DuckDB database that has the lake as the
// view flows (lakesql.Open).
type Querier struct {
	DB *sql.DB
}

// Query implements detect.Querier: every value as Athena would print it.
func (q Querier) Query(ctx context.Context, query string) ([]detect.Row, error) {
	rows, err := q.DB.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("duckdb query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("duckdb query: %w", err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []detect.Row
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("duckdb scan: %w", err)
		}
		r := make(detect.Row, len(cols))
		for i, v := range vals {
			if v != nil {
				r[cols[i]] = Text(v)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("duckdb rows: %w", err)
	}
	return out, nil
}

// Text returns a DuckDB value as Athena prints it in query results:
// numbers in decimal, timestamps in RFC 3339, arrays as "[1, 2]".
func Text(v any) string {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case *big.Int:
		return v.String()
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			if e == nil {
				parts[i] = "null"
			} else {
				parts[i] = Text(e)
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// Range returns the hours the lake has flows in: from the hour of the
// earliest start to the end of the hour of the latest. ok is false for a
// lake with no flow that has a start.
func Range(ctx context.Context, db *sql.DB) (since, until time.Time, ok bool, err error) {
	var lo, hi sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT min("start"), max("start") FROM flows`).Scan(&lo, &hi); err != nil {
		return since, until, false, fmt.Errorf("lake time range: %w", err)
	}
	if !lo.Valid {
		return since, until, false, nil
	}
	since = time.Unix(lo.Int64-lo.Int64%3600, 0).UTC()
	until = time.Unix(hi.Int64-hi.Int64%3600+3600, 0).UTC()
	return since, until, true, nil
}

// Detect opens the lake under dir and runs set's rules over [since,
// until); zero times mean every hour the lake holds. It fetches sample
// flows for each finding.
func Detect(ctx context.Context, dir string, set *detect.Set, since, until time.Time) ([]finding.Finding, error) {
	db, err := lakesql.Open(ctx, dir, nil)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	lo, hi, ok, err := Range(ctx, db)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	if since.IsZero() {
		since = lo
	}
	if until.IsZero() {
		until = hi
	}
	if !until.After(since) {
		return nil, nil
	}
	l := detect.Lake{Set: set, Querier: Querier{DB: db}, Dialect: detect.DuckDB, Samples: true}
	return l.Run(ctx, since, until)
}
