package enrich_test

import (
	"maps"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/enrich/enrichtest"
)

// Every column a ColumnReader reads gives, for every row, what
// Fields.Value gives: the same value, and NULL exactly when the column is
// not in Set (even for an empty string, list or map). Rows are read in
// chunks, in and out of order, over more distinct peers than peer_addr's
// cache holds.
func TestColumnReaderMatchesValue(t *testing.T) {
	fields := enrichtest.RandomFields(7, 5000)
	rd := &enrich.ColumnReader{Fields: fields}
	rows := make([]int32, len(fields))
	for i := range rows {
		rows[i] = int32(i)
	}
	reversed := slices.Clone(rows)
	slices.Reverse(reversed)
	n := 0
	for _, order := range [][]int32{rows, reversed} {
		for start := 0; start < len(order); start += 1024 {
			chunk := order[start:min(start+1024, len(order))]
			ok := make([]bool, len(chunk))
			for _, c := range enrich.Columns() {
				got := make([]any, len(chunk))
				switch c.Type() {
				case "string":
					dst := make([]string, len(chunk))
					rd.Strings(c, chunk, dst, ok)
					for i := range dst {
						got[i] = dst[i]
					}
				case "bigint":
					dst := make([]int64, len(chunk))
					rd.Ints(c, chunk, dst, ok)
					for i := range dst {
						got[i] = dst[i]
					}
				case "array<string>":
					dst := make([][]string, len(chunk))
					rd.Lists(c, chunk, dst, ok)
					for i := range dst {
						got[i] = dst[i]
					}
				case "map<string,string>":
					dst := make([]map[string]string, len(chunk))
					rd.Maps(c, chunk, dst, ok)
					for i := range dst {
						got[i] = dst[i]
					}
				default:
					t.Fatalf("column %s: type %s", c, c.Type())
				}
				for i, k := range chunk {
					want, wantOK := fields[k].Value(c)
					if ok[i] != wantOK || (wantOK && !equalValue(got[i], want)) {
						t.Fatalf("%s of row %d: %#v (%v); Value gives %#v (%v)", c, k, got[i], ok[i], want, wantOK)
					}
					n++
				}
			}
		}
	}
	if want := 2 * len(fields) * enrich.NumColumns; n != want {
		t.Errorf("checked %d values; want %d", n, want)
	}
}

func equalValue(a, b any) bool {
	switch b := b.(type) {
	case []string:
		a, ok := a.([]string)
		return ok && slices.Equal(a, b) && (a == nil) == (b == nil)
	case map[string]string:
		a, ok := a.(map[string]string)
		return ok && maps.Equal(a, b) && (a == nil) == (b == nil)
	}
	return a == b
}

// A read method panics for a column of another type.
func TestColumnReaderWrongType(t *testing.T) {
	rd := &enrich.ColumnReader{Fields: make([]enrich.Fields, 1)}
	for _, tc := range []struct {
		name string
		read func()
	}{
		{"Strings(src_asn)", func() { rd.Strings(enrich.ColSrcASN, []int32{0}, make([]string, 1), make([]bool, 1)) }},
		{"Ints(protocol_name)", func() { rd.Ints(enrich.ColProtocolName, []int32{0}, make([]int64, 1), make([]bool, 1)) }},
		{"Lists(eni_tags)", func() { rd.Lists(enrich.ColENITags, []int32{0}, make([][]string, 1), make([]bool, 1)) }},
		{"Maps(tcp_flag_names)", func() {
			rd.Maps(enrich.ColTCPFlagNames, []int32{0}, make([]map[string]string, 1), make([]bool, 1))
		}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", tc.name)
				}
			}()
			tc.read()
		}()
	}
}

// TestInlining guards the speed of ColumnReader: each column's loop is
// fill inlined into its read method with its getter inlined into the loop,
// so the loop makes no call per row. It fails when the compiler stops
// inlining one of them (a read method grown too large, say).
func TestInlining(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package with -gcflags=-m")
	}
	out, err := exec.Command("go", "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	calls := regexp.MustCompile(`(?m)^\S*columnreader\.go:(\d+):\d+: inlining call to fill\[`)
	getters := regexp.MustCompile(`(?m)^\S*columnreader\.go:(\d+):\d+: inlining call to \(\*ColumnReader\)\.\w+\.func\d+$`)
	inlined := map[string]int{}
	for _, m := range calls.FindAllStringSubmatch(string(out), -1) {
		inlined[m[1]]++
	}
	for _, m := range getters.FindAllStringSubmatch(string(out), -1) {
		inlined[m[1]]++
	}
	src, err := exec.Command("grep", "-n", "\tfill(", "columnreader.go").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	if len(lines) < enrich.NumColumns-1 { // every column but peer_addr
		t.Fatalf("found %d fill calls in columnreader.go; want one per column but peer_addr", len(lines))
	}
	for _, l := range lines {
		num, _, _ := strings.Cut(l, ":")
		if inlined[num] != 2 {
			t.Errorf("columnreader.go:%s: fill or its getter is not inlined (%s)", num, strings.TrimSpace(l))
		}
	}
}
