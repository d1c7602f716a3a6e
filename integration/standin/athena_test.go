package standin

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"

	detectathena "github.com/flowlake/flowlake/shared/detect/athena"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
)

// TestAthena drives the stand-in with the real SDK client through the
// detector's Querier: a query's rows come back over several pages with
// their header, NULLs stay NULL, the dialect gaps are defined, a wrong
// workgroup or database fails as Athena fails, and an injected key must
// be named.
func TestAthena(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	in.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := range 25 {
		fmt.Fprintf(&in, "2 123456789012 eni-1 10.0.0.%d 10.0.1.1 40000 %d 6 1 60 1795478400 1795478460 REJECT OK\n", i, 1000+i)
	}
	in.WriteString("2 123456789012 eni-1 - - - - - - - 1795478400 1795478460 - NODATA\n")
	if _, err := lake.Convert(context.Background(), lake.DirStore{Root: dir}, lake.Source{ID: "t"}, flowlog.NewReader(strings.NewReader(in.String()))); err != nil {
		t.Fatal(err)
	}
	a := StartAthena(t, filepath.Clean(dir), "wg", "db", 4)
	client := athena.New(athena.Options{Region: "us-east-1", BaseEndpoint: aws.String(a.URL),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
	q := &detectathena.Querier{Client: client, Workgroup: "wg", Database: "db", Poll: 1}
	rows, err := q.Query(context.Background(), `SELECT srcaddr, dstport FROM flows WHERE regexp_like(log_status, '^NO|^OK') ORDER BY dstport NULLS LAST`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 26 || rows[0]["srcaddr"] != "10.0.0.0" || rows[24]["dstport"] != "1024" {
		t.Fatalf("rows = %d %v; want 26 from 10.0.0.0, the 25th on port 1024", len(rows), rows[:min(len(rows), 2)])
	}
	if q.Scanned() <= 0 {
		t.Errorf("Scanned() = %d; want the lake's bytes", q.Scanned())
	}
	if _, ok := rows[25]["srcaddr"]; ok {
		t.Errorf("the NODATA row's srcaddr = %q; want NULL (absent)", rows[25]["srcaddr"])
	}
	for _, tc := range []struct {
		name, workgroup, database, sql, want string
	}{
		{"workgroup", "other", "db", "SELECT 1", "WorkGroup other is not found"},
		{"database", "wg", "other", "SELECT 1", "SCHEMA_NOT_FOUND"},
		{"syntax", "wg", "db", "SELECT FROM WHERE", "GENERIC_INTERNAL_ERROR"},
	} {
		q := &detectathena.Querier{Client: client, Workgroup: tc.workgroup, Database: tc.database, Poll: 1}
		if _, err := q.Query(context.Background(), tc.sql); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Query = %v; want an error with %q", tc.name, err, tc.want)
		}
	}
	a.Injected = []string{lake.KeyAccount}
	if _, err := q.Query(context.Background(), "SELECT count(*) FROM flows"); !errors.Is(err, detectathena.ErrQueryFailed) || !strings.Contains(err.Error(), "CONSTRAINT_VIOLATION") {
		t.Errorf("a query that does not name the injected aws_account: %v; want CONSTRAINT_VIOLATION", err)
	}
	if _, err := q.Query(context.Background(), "SELECT count(*) FROM flows WHERE aws_account = '123456789012'"); err != nil {
		t.Errorf("a query naming aws_account: %v", err)
	}
}
