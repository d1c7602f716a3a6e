package lake

import (
	"context"
	"fmt"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/flowlake/flowlake/shared/threatlist"
)

// Reference data lives beside the flows, under ReferencePrefix of the
// lake's root, one folder per table: a second Glue table in AWS, a second
// view in DuckDB (lakesql). The flows table never reads it: its partition
// projection reads only aws_account=… folders.
const (
	ReferencePrefix = "reference/"
	// RollupPrefix holds the compactor's rollups (package compact),
	// beside the flows like the reference data: never read as flows.
	RollupPrefix = "rollups/"
	// ThreatListsTableName is the table of threat lists that the
	// threat-list-match rule joins.
	ThreatListsTableName = "threat_lists"
	// ThreatListsPrefix holds one object per list, <name>.parquet.
	ThreatListsPrefix = ReferencePrefix + ThreatListsTableName + "/"
	// ThreatListSourcesPrefix holds each list as it was imported,
	// <name>.txt, for the batch engine at ingest to parse (a text object
	// must not sit under the table's Parquet folder, which Athena reads
	// whole).
	ThreatListSourcesPrefix = ReferencePrefix + "threat_list_sources/"
)

// ThreatListKey returns the object key of a list's table rows under the
// lake's prefix ("" for the root).
func ThreatListKey(prefix, name string) string {
	return joinPrefix(prefix, ThreatListsPrefix+name+".parquet")
}

// ThreatListSourceKey returns the object key of a list's source text.
func ThreatListSourceKey(prefix, name string) string {
	return joinPrefix(prefix, ThreatListSourcesPrefix+name+".txt")
}

func joinPrefix(prefix, key string) string {
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		return prefix + "/" + key
	}
	return key
}

// threatRow is a threatlist.Row as the table stores it.
type threatRow struct {
	List  string `parquet:"list,dict"`
	Key   string `parquet:"key"`
	Lo    int32  `parquet:"lo"`
	Hi    int32  `parquet:"hi"`
	Label string `parquet:"label,dict"`
}

// ThreatListsColumns are the columns of the threat_lists table, in the
// order of its objects.
var ThreatListsColumns = []TableColumn{
	{"list", "string", "the list's name"},
	{"key", "string", "IPv4: the first three octets (a.b.c); IPv6: the address's canonical text"},
	{"lo", "int", "IPv4: the first last octet of the range; IPv6: 0"},
	{"hi", "int", "IPv4: the last last octet of the range; IPv6: 0"},
	{"label", "string", "the entry's label, '' for none"},
}

// ThreatListsTable returns the Glue table of the threat lists, at
// location: the lake's root (s3://bucket/prefix/), under which the table
// reads ThreatListsPrefix. It has no partitions.
func ThreatListsTable(location string) Table {
	if location != "" && !strings.HasSuffix(location, "/") {
		location += "/"
	}
	return Table{
		Name:         ThreatListsTableName,
		Location:     location + ThreatListsPrefix,
		Columns:      append([]TableColumn(nil), ThreatListsColumns...),
		InputFormat:  "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
		OutputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
		SerDe:        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
		Parameters: map[string]string{
			"EXTERNAL":            "TRUE",
			"classification":      "parquet",
			"parquet.compression": "ZSTD",
		},
	}
}

// WriteThreatList writes a list's rows (threatlist.List.Rows) as one
// Parquet object at ThreatListKey(prefix, l.Name), replacing the list's
// earlier rows, and its source text, when src is not empty, at
// ThreatListSourceKey. It returns the number of rows.
func WriteThreatList(ctx context.Context, store Store, prefix string, l *threatlist.List, src []byte) (int, error) {
	if err := threatlist.CheckName(l.Name); err != nil {
		return 0, fmt.Errorf("write threat list: %w", err)
	}
	rows := l.Rows()
	key := ThreatListKey(prefix, l.Name)
	obj, err := store.Create(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("write threat list %s: %w", l.Name, err)
	}
	w := parquet.NewGenericWriter[threatRow](obj, parquet.Compression(compression), parquet.CreatedBy("flowlake", "", ""),
		parquet.MaxRowsPerRowGroup(64<<10))
	buf := make([]threatRow, 0, 1024)
	for i, r := range rows {
		buf = append(buf, threatRow{List: r.List, Key: r.Key, Lo: r.Lo, Hi: r.Hi, Label: r.Label})
		if len(buf) == cap(buf) || i == len(rows)-1 {
			if _, err := w.Write(buf); err != nil {
				obj.Abort()
				return 0, fmt.Errorf("write %s: %w", key, err)
			}
			buf = buf[:0]
		}
	}
	if err := w.Close(); err != nil {
		obj.Abort()
		return 0, fmt.Errorf("write %s: %w", key, err)
	}
	if err := obj.Commit(); err != nil {
		return 0, fmt.Errorf("write %s: %w", key, err)
	}
	if len(src) > 0 {
		skey := ThreatListSourceKey(prefix, l.Name)
		o, err := store.Create(ctx, skey)
		if err != nil {
			return 0, fmt.Errorf("write threat list %s: %w", l.Name, err)
		}
		if _, err := o.Write(src); err != nil {
			o.Abort()
			return 0, fmt.Errorf("write %s: %w", skey, err)
		}
		if err := o.Commit(); err != nil {
			return 0, fmt.Errorf("write %s: %w", skey, err)
		}
	}
	return len(rows), nil
}

// RollupTableName is the table of the compactor's rollups (package
// compact: one object per compacted partition-hour under RollupPrefix),
// which the baseline rules read instead of weeks of flows.
const RollupTableName = "flows_rollup"

// RollupColumns are the columns of the rollups, in the order of their
// objects (compact.RollupRow).
var RollupColumns = []TableColumn{
	{"interface_id", "string", "the network interface"},
	{"protocol", "int", "IANA protocol number, -1 for none"},
	{"dstport", "int", "destination port of a TCP or UDP connection the interface opened (ephemeral source port); -1 for other flows"},
	{"flows", "bigint", "flow records"},
	{"packets", "bigint", "packets sent"},
	{"bytes", "bigint", "bytes sent to addresses that are not ours"},
}

// RollupTable returns the Glue table of the rollups beside flows, the
// lake's flows table: the same partition projection, at RollupPrefix of
// the lake's root (root: s3://bucket/, the flows table's location less
// its prefix).
func RollupTable(flows Table, root string) Table {
	if root != "" && !strings.HasSuffix(root, "/") {
		root += "/"
	}
	t := flows
	t.Name = RollupTableName
	t.Location = root + RollupPrefix
	t.Columns = append([]TableColumn(nil), RollupColumns...)
	t.PartitionKeys = append([]TableColumn(nil), flows.PartitionKeys...)
	t.Parameters = map[string]string{}
	for k, v := range flows.Parameters {
		t.Parameters[k] = v
	}
	t.Parameters["storage.location.template"] = strings.Replace(flows.Parameters["storage.location.template"], flows.Location, t.Location, 1)
	return t
}
