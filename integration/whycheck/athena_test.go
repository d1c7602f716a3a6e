package whycheck

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"

	"github.com/flowlake/flowlake/integration/standin"
	detectathena "github.com/flowlake/flowlake/shared/detect/athena"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/why"
	"github.com/flowlake/flowlake/shared/why/whytest"
)

// TestVerdictsThroughAthena asks each why scenario's question through the
// SDK's Athena client, paging results two rows at a time, and checks the
// verdicts as shared/why's DuckDB test does; every query the stand-in
// receives must prune by the day partition.
func TestVerdictsThroughAthena(t *testing.T) {
	for _, sc := range flowgen.WhyScenarios {
		for _, format := range whytest.Formats {
			t.Run(sc.Name+"/"+format, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "lake")
				q := whytest.Lake(t, dir, sc, format)
				a := standin.StartAthena(t, dir, "flowlake", "flowlake", 2)
				client := athena.New(athena.Options{Region: "us-east-1", BaseEndpoint: aws.String(a.URL),
					Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
				db := &detectathena.Querier{Client: client, Workgroup: "flowlake", Database: "flowlake", Poll: time.Millisecond}
				q.Now = whytest.Day.Add(24 * time.Hour)
				ans, err := why.Ask(context.Background(), db, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range whytest.Check(ans, sc, format) {
					t.Error(p)
				}
				for _, sql := range a.Queries() {
					if !strings.Contains(sql, `"day" = '`) {
						t.Errorf("a query that does not prune by day:\n%s", sql)
					}
				}
				if n := len(a.Queries()); n < 2 || n > 3 {
					t.Errorf("%d queries; want 2 (window, answer) or 3 (and the subnet's neighbours)", n)
				}
				if t.Failed() {
					var b strings.Builder
					why.Render(&b, ans)
					t.Log("\n" + b.String())
				}
			})
		}
	}
}
