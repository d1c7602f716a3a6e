package lake

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// TestOrder checks a pending group's row order against a stable sort by
// (interface id, start), on groups that take the packed keys and groups
// that fall back to comparing fields: ids that share their first 8 bytes
// after "eni-", ids shorter than that, starts too spread to pack.
func TestOrder(t *testing.T) {
	ids := func(names ...string) func(r *rand.Rand) string {
		return func(r *rand.Rand) string { return names[r.IntN(len(names))] }
	}
	many := func(r *rand.Rand) string { return fmt.Sprintf("eni-%017x", r.IntN(3000)) }
	near := func(r *rand.Rand) int64 { return 1795478000 + r.Int64N(3600) }
	cases := []struct {
		name  string
		n     int
		id    func(*rand.Rand) string
		start func(*rand.Rand) int64
	}{
		{"packed", 1024, ids("eni-941c583ebaee52657", "eni-4389b6b8c9ad2064e", "eni-0000000000000000a"), near},
		{"one row", 1, ids("eni-941c583ebaee52657"), near},
		{"same first 8", 1024, ids("eni-941c583e00000001", "eni-941c583e00000000", "eni-941c583e"), near},
		{"short ids", 500, ids("", "eni-", "eni-1", "x", "eni-941c583ebaee52657"), near},
		{"more ids than rank bits", 1024, many, near},
		{"wide starts", 1024, ids("eni-941c583ebaee52657", "eni-4389b6b8c9ad2064e"),
			func(r *rand.Rand) int64 { return r.Int64N(1 << 62) }},
		{"negative starts", 300, ids("eni-941c583ebaee52657", "eni-4389b6b8c9ad2064e"),
			func(r *rand.Rand) int64 { return r.Int64() - 1<<62 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(c.n)))
			var pg pending
			for round := range 3 { // scratch reused across groups
				recs := make([]flowlog.Record, c.n)
				for i := range recs {
					recs[i].InterfaceID = c.id(r)
					recs[i].Start = c.start(r)
					if r.IntN(4) == 0 && i > 0 { // ties on start
						recs[i].Start = recs[i-1].Start
					}
				}
				want := make([]int32, len(recs))
				for i := range want {
					want[i] = int32(i)
				}
				slices.SortStableFunc(want, func(a, b int32) int {
					if c := strings.Compare(recs[a].InterfaceID, recs[b].InterfaceID); c != 0 {
						return c
					}
					return cmp.Compare(recs[a].Start, recs[b].Start)
				})
				if got := pg.order(recs); !slices.Equal(got, want) {
					t.Fatalf("round %d: order differs from a stable sort by (interface, start):\n got %v\nwant %v", round, got[:min(20, len(got))], want[:min(20, len(want))])
				}
			}
		})
	}
}
