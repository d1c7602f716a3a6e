package lakesql

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// The enrichment columns written by the pipeline (the ingest functions'
// path) read back through the same view as the flow-log columns; the
// groups left out read as NULL.
func TestEnrichedLake(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ranges := filepath.Join(dir, "ip-ranges.json")
	if err := enrich.WriteIPRangesFile(ranges, &enrich.IPRanges{
		SyncToken: "1", CreateDate: "2026-11-01-00-00-00",
		Prefixes: []enrich.IPPrefix{
			{IPPrefix: "52.95.128.0/21", Region: "ap-southeast-2", Service: "AMAZON", NetworkBorderGroup: "ap-southeast-2"},
			{IPPrefix: "52.95.128.0/21", Region: "ap-southeast-2", Service: "S3", NetworkBorderGroup: "ap-southeast-2"},
		},
	}); err != nil {
		t.Fatal(err)
	}
	e, err := enrich.NewFromPaths(ctx, enrich.Paths{IPRanges: ranges})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	in := "version srcaddr dstaddr srcport dstport protocol start end action tcp-flags flow-direction interface-id log-status\n" +
		"5 52.95.128.179 10.0.0.71 443 34210 6 1616729292 1616729349 ACCEPT 19 ingress eni-1 OK\n" +
		"5 10.0.0.71 100.64.1.1 34210 22 6 1616729292 1616729349 REJECT 2 egress eni-1 OK\n" +
		"5 - - - - - 1616729292 1616729349 - - - eni-1 NODATA\n"
	lakeDir := filepath.Join(dir, "lake")
	p := &pipeline.Pipeline{Store: lake.DirStore{Root: lakeDir}, Enricher: e, EnrichGroups: []string{enrich.GroupRecord, enrich.GroupIPRanges}}
	res, err := p.Process(ctx, lake.Source{ID: "t"}, flowlog.NewReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Enrichment.Records; got != 3 {
		t.Errorf("enriched %d records; want 3", got)
	}

	db, err := Open(ctx, lakeDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT protocol_name, array_to_string(tcp_flag_names, ','), src_ip_class, dst_ip_class,
		direction, src_service, dst_service, peer_addr, src_aws_service, src_aws_region, dst_aws_service,
		src_country, src_asn, eni_instance_id, cardinality(eni_tags)
		FROM flows ORDER BY log_status, dstport`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		vals := make([]sql.NullString, 15)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteByte('|')
			}
			if v.Valid {
				b.WriteString(v.String)
			} else {
				b.WriteString("∅")
			}
		}
		got = append(got, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		// NODATA: nothing derived but nothing invented either.
		"∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅",
		// dstport 22, egress to the shared (CGNAT) block.
		"tcp|syn|private|shared|egress|∅|ssh|100.64.1.1|∅|∅|∅|∅|∅|∅|∅",
		// dstport 34210, ingress from S3 (the named service beats AMAZON).
		"tcp|fin,syn-ack|public|private|ingress|https|∅|52.95.128.179|S3|ap-southeast-2|∅|∅|∅|∅|∅",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("enrichment columns:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

// The table the Glue catalog, the DDL and the view describe has every
// enrichment column after the flow-log ones.
func TestTableSchemaHasEnrichment(t *testing.T) {
	cols := lake.TableSchema.Columns()
	if n := len(lake.DefaultSchema.Columns()) + enrich.NumColumns; len(cols) != n {
		t.Fatalf("TableSchema has %d columns; want %d", len(cols), n)
	}
	for i, c := range enrich.Columns() {
		got := cols[len(lake.DefaultSchema.Columns())+i]
		if got.Name != c.Name() || got.Type.String() != c.Type() {
			t.Errorf("column %d = %s %s; want %s %s", i, got.Name, got.Type, c.Name(), c.Type())
		}
	}
}
