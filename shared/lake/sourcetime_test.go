package lake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
)

// TestNoTimeTakesSourceTime: a record with neither start nor end lands in
// its source's hour, or, for a source with no time, in the hour of the
// conversion; never in day=1970-01-01, which partition projection (from
// 2020) never reads.
func TestNoTimeTakesSourceTime(t *testing.T) {
	fm := flowlog.MustParseFormat("${account-id} ${region} ${srcaddr} ${dstaddr}")
	for _, tc := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"source time", time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), "day=2026-03-04/hour=05/"},
		{"no source time", time.Time{}, ""}, // the hour of the conversion
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now().UTC()
			r := flowlog.NewReader(strings.NewReader("123456789012 us-east-2 10.0.0.1 10.0.0.2\n"))
			r.SetFormat(fm)
			sum, err := lake.Convert(context.Background(), lake.DirStore{Root: t.TempDir()}, lake.Source{ID: "t", Time: tc.at}, r)
			if err != nil || len(sum.Keys) != 1 {
				t.Fatalf("Convert = %+v, %v", sum, err)
			}
			wants := []string{tc.want}
			if tc.want == "" {
				wants = []string{before.Format("day=2006-01-02/hour=15/"), time.Now().UTC().Format("day=2006-01-02/hour=15/")}
			}
			for _, w := range wants {
				if strings.HasPrefix(sum.Keys[0], "aws_account=123456789012/aws_region=us-east-2/"+w) {
					return
				}
			}
			t.Errorf("key %s; want it under aws_account=123456789012/aws_region=us-east-2/%s", sum.Keys[0], wants[0])
		})
	}
}
