package ocsf

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/lake"
)

// walk calls fn with each field and its path (src_endpoint.ip).
func walk(fs []Field, prefix string, fn func(path string, f Field)) {
	for _, f := range fs {
		fn(prefix+f.Name, f)
		walk(f.Fields, prefix+f.Name+".", fn)
	}
}

// quoted finds the quoted identifiers of a leaf's SQL: its columns.
var quoted = regexp.MustCompile(`"([a-z_]+)"(?:\."([a-z_]+)")?`)

// columnsOf returns the flows columns an expression reads.
func columnsOf(sql string) []string {
	var out []string
	for _, m := range quoted.FindAllStringSubmatch(sql, -1) {
		if m[2] != "" { // "flows"."start_time"
			out = append(out, m[2])
			continue
		}
		out = append(out, m[1])
	}
	return out
}

// TestMappingReadsTheLake: every column a rule reads is a column or
// partition key of the flows table (a typo fails here, not in Athena);
// every field has a source; every leaf has SQL, every object fields,
// every map entries; and no flow-log field of the lake is lost: each is
// read by a rule or listed in Unmapped (start_time and end_time are start
// and end; extra holds header columns no version defines).
func TestMappingReadsTheLake(t *testing.T) {
	known := map[string]bool{}
	for _, c := range lake.TableSchema.Columns() {
		known[c.Name] = true
	}
	for _, k := range lake.PartitionKeys() {
		known[k] = true
	}
	read := map[string]bool{}
	check := func(path, sql string) {
		for _, c := range columnsOf(sql) {
			if c == lake.TableName {
				continue
			}
			if !known[c] {
				t.Errorf("%s reads %q, which is not a column of %s", path, c, lake.TableName)
			}
			read[c] = true
		}
	}
	n := 0
	walk(Fields(), "", func(path string, f Field) {
		n++
		if f.Source == "" {
			t.Errorf("%s: no source", path)
		}
		switch f.Kind {
		case KindObject:
			if len(f.Fields) == 0 || f.SQL != "" {
				t.Errorf("%s: an object needs fields and no SQL", path)
			}
		case KindStringMap:
			if len(f.Entries) == 0 {
				t.Errorf("%s: a map needs entries", path)
			}
			for _, e := range f.Entries {
				check(path+"["+e.Key+"]", e.SQL)
			}
		default:
			if f.SQL == "" || len(f.Fields) != 0 {
				t.Errorf("%s: a leaf needs SQL and no fields", path)
			}
			check(path, f.SQL)
		}
	})
	if n < 60 {
		t.Errorf("%d fields; the mapping has more", n)
	}
	for _, c := range lake.DefaultSchema.Columns() {
		switch c.Name {
		case "start_time", "end_time", lake.ExtraFieldsName:
			continue
		}
		if !read[c.Name] {
			t.Errorf("flow-log column %s is neither mapped nor in unmapped", c.Name)
		}
	}
	for _, c := range Unmapped {
		if !known[c] {
			t.Errorf("Unmapped names %q, not a column", c)
		}
	}
}

// TestViewColumns: the view's columns are the top-level fields, in order,
// with their types in each spelling; objects nest.
func TestViewColumns(t *testing.T) {
	v := AthenaView()
	var names []string
	for _, c := range v.Columns {
		names = append(names, c.Name)
	}
	var want []string
	for _, f := range Fields() {
		want = append(want, f.Name)
	}
	if !slices.Equal(names, want) {
		t.Errorf("columns %v; want %v", names, want)
	}
	types := map[string]Column{}
	for _, c := range v.Columns {
		types[c.Name] = c
	}
	for _, tc := range []Column{
		{"activity_id", "int", "integer"},
		{"type_uid", "bigint", "bigint"},
		{"time_dt", "timestamp", "timestamp(3)"},
		{"traffic", "struct<bytes:bigint,packets:bigint>", `row("bytes" bigint, "packets" bigint)`},
		{"cloud", "struct<account:struct<uid:string>,provider:string,region:string,zone:string>",
			`row("account" row("uid" varchar), "provider" varchar, "region" varchar, "zone" varchar)`},
		{"unmapped", "map<string,string>", "map(varchar, varchar)"},
		{"day", "string", "varchar"},
	} {
		if got := types[tc.Name]; got != tc {
			t.Errorf("column %s = %+v; want %+v", tc.Name, got, tc)
		}
	}
	for _, c := range v.Columns {
		if !strings.Contains(v.SQL, ` AS "`+c.Name+`"`) {
			t.Errorf("the SQL does not select %s", c.Name)
		}
	}
	if !strings.HasSuffix(v.SQL, `FROM "flows"`) {
		t.Errorf("the SQL does not read flows:\n%s", v.SQL)
	}
}
