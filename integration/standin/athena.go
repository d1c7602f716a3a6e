package standin

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowlake/flowlake/shared/detect/duck"
	"github.com/flowlake/flowlake/shared/lakesql"
)

// DialectGaps are the Trino functions that DuckDB lacks, defined as DuckDB
// macros before each query, so that the SQL Athena receives runs here
// unchanged. Each entry is one gap; add one here, and nowhere else, when
// a query needs another.
var DialectGaps = []struct {
	Function, Macro, Why string
}{
	{
		Function: "regexp_like",
		Macro:    "CREATE OR REPLACE MACRO regexp_like(s, pattern) AS regexp_matches(s, pattern)",
		Why:      "Trino's regexp_like(s, p) is a partial match, as DuckDB's regexp_matches(s, p) is; DuckDB has no regexp_like",
	},
}

// Athena is the stand-in: an HTTP server speaking the Athena API's JSON
// protocol for the calls the detector makes. Queries run synchronously in
// StartQueryExecution; GetQueryExecution reports QUEUED once for the first
// query of the server (so the caller's polling loop runs), then the final
// state.
type Athena struct {
	URL string // the endpoint, for AWS_ENDPOINT_URL_ATHENA

	lakeDir   string
	workgroup string
	database  string
	pageSize  int

	// Injected, if set, are the partition keys the table projects as
	// injected: a query that names none of them in an equality or IN
	// filter fails with CONSTRAINT_VIOLATION, as in Athena.
	Injected []string
	// ReferenceDir, if set, is the folder of the lake's reference data
	// (the lake bucket's reference/, beside the flows' folder): the
	// threat_lists table (lakesql.OpenWithReference).
	ReferenceDir string

	mu      sync.Mutex
	db      *sql.DB
	stamp   string // the lake's files when db was opened
	queries map[string]*execution
	polled  bool
	log     []string
}

type execution struct {
	id, sql, workgroup, database string
	state, reason                string
	cols                         []column
	rows                         [][]*string
	scanned                      int64 // the lake's bytes when it ran: the stand-in prunes nothing
	submitted, completed         time.Time
}

type column struct{ name, typ string }

// StartAthena serves the stand-in on loopback for the lake under lakeDir
// (the lake bucket's folder: versitygw keeps objects as files), accepting
// queries in workgroup with database as the default. Result pages hold
// pageSize rows (Athena's default and maximum is 1000; a smaller page
// exercises the caller's paging). It is closed when the test ends.
func StartAthena(t interface {
	Cleanup(func())
	Helper()
}, lakeDir, workgroup, database string, pageSize int) *Athena {
	t.Helper()
	a := &Athena{lakeDir: lakeDir, workgroup: workgroup, database: database, pageSize: max(pageSize, 1), queries: map[string]*execution{}}
	srv := httptest.NewServer(a)
	a.URL = srv.URL
	t.Cleanup(func() {
		srv.Close()
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.db != nil {
			a.db.Close()
		}
	})
	return a
}

// Queries returns the SQL of every query received, in order.
func (a *Athena) Queries() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.log...)
}

// apiError is an Athena error response (JSON 1.1 protocol).
type apiError struct {
	status int
	typ    string
	msg    string
}

func (a *Athena) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonAthena.")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeErr(w, apiError{http.StatusBadRequest, "InvalidRequestException", err.Error()})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeErr(w, apiError{http.StatusForbidden, "UnrecognizedClientException", "request not signed with SigV4"})
		return
	}
	var out any
	var aerr *apiError
	switch target {
	case "StartQueryExecution":
		out, aerr = a.start(r.Context(), body)
	case "GetQueryExecution":
		out, aerr = a.get(body)
	case "GetQueryResults":
		out, aerr = a.results(body)
	default:
		aerr = &apiError{http.StatusBadRequest, "InvalidRequestException", "the stand-in does not serve " + target}
	}
	if aerr != nil {
		writeErr(w, *aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func writeErr(w http.ResponseWriter, e apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.typ)
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": e.typ, "Message": e.msg})
}

func (a *Athena) start(ctx context.Context, body []byte) (any, *apiError) {
	var in struct {
		QueryString           string
		WorkGroup             string
		QueryExecutionContext struct{ Database string }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{http.StatusBadRequest, "InvalidRequestException", err.Error()}
	}
	if in.WorkGroup != a.workgroup {
		return nil, &apiError{http.StatusBadRequest, "InvalidRequestException", fmt.Sprintf("WorkGroup %s is not found", in.WorkGroup)}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ex := &execution{id: fmt.Sprintf("standin-%06d", len(a.queries)+1), sql: in.QueryString, workgroup: in.WorkGroup,
		database: in.QueryExecutionContext.Database, submitted: time.Now()}
	a.queries[ex.id] = ex
	a.log = append(a.log, in.QueryString)
	switch {
	case ex.database != a.database:
		ex.state, ex.reason = "FAILED", fmt.Sprintf("SCHEMA_NOT_FOUND: Schema '%s' does not exist", ex.database)
	case !a.namesInjected(ex.sql):
		ex.state, ex.reason = "FAILED", fmt.Sprintf("CONSTRAINT_VIOLATION: For the injected projected partition columns %v, the WHERE clause must contain only static equality conditions, and at least one such condition must be present.", a.Injected)
	default:
		if err := a.run(ctx, ex); err != nil {
			ex.state, ex.reason = "FAILED", err.Error()
		} else {
			ex.state = "SUCCEEDED"
		}
	}
	ex.completed = time.Now()
	return map[string]string{"QueryExecutionId": ex.id}, nil
}

// namesInjected reports whether q filters on every injected key (the
// check Athena makes, read from the SQL text).
func (a *Athena) namesInjected(q string) bool {
	for _, k := range a.Injected {
		re := regexp.MustCompile(`(?i)"?\b` + regexp.QuoteMeta(k) + `\b"?\s*(=|IN\s*\()`)
		if !re.MatchString(q) {
			return false
		}
	}
	return true
}

// run executes ex in DuckDB over the lake as it is now.
func (a *Athena) run(ctx context.Context, ex *execution) error {
	db, scanned, err := a.open(ctx)
	if err != nil {
		return err
	}
	ex.scanned = scanned
	for _, g := range DialectGaps {
		if _, err := db.ExecContext(ctx, g.Macro); err != nil {
			return fmt.Errorf("dialect gap %s: %w", g.Function, err)
		}
	}
	rows, err := db.QueryContext(ctx, ex.sql)
	if err != nil {
		return fmt.Errorf("GENERIC_INTERNAL_ERROR: the stand-in's DuckDB: %w", err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	for _, ct := range types {
		ex.cols = append(ex.cols, column{ct.Name(), athenaType(ct.DatabaseTypeName())})
	}
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		row := make([]*string, len(vals))
		for i, v := range vals {
			if v != nil {
				s := duck.Text(v)
				row[i] = &s
			}
		}
		ex.rows = append(ex.rows, row)
	}
	return rows.Err()
}

// open returns a DuckDB with the lake as the view flows, opened again
// whenever the lake's files changed since the last query.
func (a *Athena) open(ctx context.Context) (*sql.DB, int64, error) {
	var b strings.Builder
	var size int64
	filepath.WalkDir(a.lakeDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			if fi, err := d.Info(); err == nil {
				fmt.Fprintf(&b, "%s %d %d\n", p, fi.Size(), fi.ModTime().UnixNano())
				size += fi.Size()
			}
		}
		return nil
	})
	if a.db != nil && a.stamp == b.String() {
		return a.db, size, nil
	}
	if a.db != nil {
		a.db.Close()
		a.db = nil
	}
	db, err := lakesql.OpenWithReference(ctx, a.lakeDir, a.ReferenceDir, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("HIVE_CANNOT_OPEN_SPLIT: %w", err)
	}
	db.SetMaxOpenConns(1) // the macros are per connection
	a.db, a.stamp = db, b.String()
	return db, size, nil
}

// athenaType maps a DuckDB column type to the name Athena gives it.
func athenaType(duck string) string {
	switch d := strings.ToUpper(duck); {
	case d == "VARCHAR":
		return "varchar"
	case d == "BIGINT" || d == "HUGEINT" || d == "UBIGINT":
		return "bigint"
	case d == "INTEGER":
		return "integer"
	case d == "BOOLEAN":
		return "boolean"
	case d == "DOUBLE":
		return "double"
	case strings.HasPrefix(d, "TIMESTAMP"):
		return "timestamp"
	case strings.HasSuffix(d, "[]"):
		return "array"
	default:
		return strings.ToLower(d)
	}
}

func (a *Athena) execution(body []byte) (*execution, *apiError) {
	var in struct {
		QueryExecutionId string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{http.StatusBadRequest, "InvalidRequestException", err.Error()}
	}
	ex := a.queries[in.QueryExecutionId]
	if ex == nil {
		return nil, &apiError{http.StatusBadRequest, "InvalidRequestException", "QueryExecution " + in.QueryExecutionId + " was not found"}
	}
	return ex, nil
}

func (a *Athena) get(body []byte) (any, *apiError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ex, aerr := a.execution(body)
	if aerr != nil {
		return nil, aerr
	}
	state := ex.state
	if !a.polled {
		a.polled, state = true, "QUEUED"
	}
	status := map[string]any{"State": state, "SubmissionDateTime": float64(ex.submitted.UnixMilli()) / 1000}
	if state != "QUEUED" {
		status["CompletionDateTime"] = float64(ex.completed.UnixMilli()) / 1000
	}
	if ex.reason != "" && state == "FAILED" {
		status["StateChangeReason"] = ex.reason
	}
	qe := map[string]any{
		"QueryExecutionId": ex.id, "Query": ex.sql, "StatementType": "DML", "WorkGroup": ex.workgroup,
		"QueryExecutionContext": map[string]string{"Database": ex.database, "Catalog": "awsdatacatalog"},
		"Status":                status,
	}
	if state == "SUCCEEDED" {
		qe["Statistics"] = map[string]any{"DataScannedInBytes": ex.scanned,
			"EngineExecutionTimeInMillis": ex.completed.Sub(ex.submitted).Milliseconds()}
	}
	return map[string]any{"QueryExecution": qe}, nil
}

func (a *Athena) results(body []byte) (any, *apiError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ex, aerr := a.execution(body)
	if aerr != nil {
		return nil, aerr
	}
	if ex.state != "SUCCEEDED" {
		return nil, &apiError{http.StatusBadRequest, "InvalidRequestException", "Query has not yet finished. Current state: " + ex.state}
	}
	var in struct{ NextToken string }
	json.Unmarshal(body, &in)
	offset := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(in.NextToken, ex.id+":"))
		if err != nil || !strings.HasPrefix(in.NextToken, ex.id+":") {
			return nil, &apiError{http.StatusBadRequest, "InvalidRequestException", "invalid NextToken"}
		}
		offset = n
	}
	// As Athena does for a SELECT, the first page begins with a header row
	// of the column names, and counts it among the page's rows.
	var page []map[string]any
	datum := func(v *string) map[string]any {
		if v == nil {
			return map[string]any{}
		}
		return map[string]any{"VarCharValue": *v}
	}
	if in.NextToken == "" {
		var hdr []map[string]any
		for _, c := range ex.cols {
			name := c.name
			hdr = append(hdr, datum(&name))
		}
		page = append(page, map[string]any{"Data": hdr})
	}
	end := min(offset+a.pageSize-len(page), len(ex.rows))
	for _, r := range ex.rows[offset:end] {
		var data []map[string]any
		for _, v := range r {
			data = append(data, datum(v))
		}
		page = append(page, map[string]any{"Data": data})
	}
	var info []map[string]any
	for _, c := range ex.cols {
		info = append(info, map[string]any{"Name": c.name, "Label": c.name, "Type": c.typ, "CatalogName": "hive", "Nullable": "UNKNOWN"})
	}
	out := map[string]any{"UpdateCount": 0, "ResultSet": map[string]any{"Rows": page, "ResultSetMetadata": map[string]any{"ColumnInfo": info}}}
	if end < len(ex.rows) {
		out["NextToken"] = ex.id + ":" + strconv.Itoa(end)
	}
	return out, nil
}
