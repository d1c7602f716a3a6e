package lake

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowlake/flowlake/shared/enrich"
)

// TableSchema is the whole table: the flow-log columns of DefaultSchema,
// then the enrichment columns (enrich.Columns). It is what the Glue table,
// the Athena DDL and the DuckDB view describe. Its enrichment columns read
// nothing (NULL): a conversion that enriches (pipeline.Pipeline) writes
// them with HookedColumns over the enrichment its hook computed. The table
// names enrich's columns here and only here; lake reads them only through
// ColumnDef and ChunkSource.
var TableSchema = func() *Schema {
	cols, err := HookedColumns[enrich.Column](nil, enrich.Columns()...)
	if err == nil {
		var s *Schema
		if s, err = DefaultSchema.Extend(cols...); err == nil {
			return s
		}
	}
	panic(err)
}()

// TableName is the name of the table in Athena and of the view in DuckDB,
// so one query runs unchanged in both.
const TableName = "flows"

// TableColumn is a column or partition key of the Glue table.
type TableColumn struct {
	Name    string
	Type    string // Athena type: string, int, bigint, timestamp, array<string>, map<string,string>
	Comment string
}

// Table is the Glue table of the lake as plain data, for the Athena DDL and
// for the CDK app's CfnTable: columns, partition keys, storage and the
// partition-projection parameters.
type Table struct {
	Name          string
	Location      string // s3://bucket/prefix/, ending in '/'
	Columns       []TableColumn
	PartitionKeys []TableColumn
	InputFormat   string
	OutputFormat  string
	SerDe         string
	Parameters    map[string]string // table properties, projection.* included
}

// TableOptions say where the table lives and what partition projection
// enumerates.
type TableOptions struct {
	Name     string   // "": TableName
	Location string   // the lake's root, s3://bucket/prefix/
	Accounts []string // enum values of aws_account; empty: injected (queries must give aws_account = '…')
	Regions  []string // enum values of aws_region; empty: Regions
	// FirstDay is the first day projection enumerates, yyyy-MM-dd
	// ("": 2020-01-01); the range ends at NOW.
	FirstDay string
}

// Regions is the default aws_region enumeration: the commercial regions,
// and "unknown" for records with no region.
var Regions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
	"eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2", Unknown,
}

// MaxScanPartitions is the most partitions Athena reads in one scan:
// "Athena cannot read more than 1 million partitions in a single scan"
// (Athena User Guide, service quotas, "Databases, tables, and
// partitions"). A query that does not filter on the partition keys reads
// every partition the projection enumerates, so a table's projection must
// stay under it (see ProjectedPartitions).
const MaxScanPartitions = 1_000_000

// ProjectedPartitions returns how many partitions a query that does not
// filter on the partition keys projects on the day of now: accounts ×
// regions × days from the first day to now × 24 hours. ok is false when
// aws_account is injected (Athena then rejects any query that does not
// name it) or the projection cannot be read.
func (t Table) ProjectedPartitions(now time.Time) (n int64, ok bool) {
	count := func(key string) int64 {
		if t.Parameters["projection."+key+".type"] != "enum" {
			return 0
		}
		return int64(len(strings.Split(t.Parameters["projection."+key+".values"], ",")))
	}
	accounts, regions := count(KeyAccount), count(KeyRegion)
	first, _, found := strings.Cut(t.Parameters["projection."+KeyDay+".range"], ",")
	day, err := time.Parse(time.DateOnly, first)
	if accounts == 0 || regions == 0 || !found || err != nil {
		return 0, false
	}
	days := int64(now.UTC().Truncate(24*time.Hour).Sub(day)/(24*time.Hour)) + 1
	return accounts * regions * max(days, 0) * 24, true
}

// Table returns the Glue table of the schema. Partition projection
// describes every partition: aws_account is an enum (or injected),
// aws_region an enum, day a date (yyyy-MM-dd, daily, up to NOW) and hour an
// integer 0–23 of two digits. Nothing ever adds partitions.
func (s *Schema) Table(o TableOptions) Table {
	name := o.Name
	if name == "" {
		name = TableName
	}
	loc := o.Location
	if loc != "" && !strings.HasSuffix(loc, "/") {
		loc += "/"
	}
	regions := o.Regions
	if len(regions) == 0 {
		regions = Regions
	}
	first := o.FirstDay
	if first == "" {
		first = "2020-01-01"
	}
	t := Table{
		Name:         name,
		Location:     loc,
		InputFormat:  "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
		OutputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
		SerDe:        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
		PartitionKeys: []TableColumn{
			{KeyAccount, "string", "account that owns the flow log (from the source), else the record's account_id"},
			{KeyRegion, "string", "region of the flow log (from the source), else the record's region"},
			{KeyDay, "string", "UTC day of start, yyyy-MM-dd"},
			{KeyHour, "string", "UTC hour of start, 00-23"},
		},
		Parameters: map[string]string{
			"EXTERNAL":            "TRUE",
			"classification":      "parquet",
			"parquet.compression": "ZSTD",
			"projection.enabled":  "true",

			"projection." + KeyRegion + ".type":   "enum",
			"projection." + KeyRegion + ".values": strings.Join(regions, ","),

			"projection." + KeyDay + ".type":          "date",
			"projection." + KeyDay + ".format":        "yyyy-MM-dd",
			"projection." + KeyDay + ".range":         first + ",NOW",
			"projection." + KeyDay + ".interval":      "1",
			"projection." + KeyDay + ".interval.unit": "DAYS",

			"projection." + KeyHour + ".type":   "integer",
			"projection." + KeyHour + ".range":  "0,23",
			"projection." + KeyHour + ".digits": "2",

			"storage.location.template": loc + KeyAccount + "=${" + KeyAccount + "}/" + KeyRegion + "=${" + KeyRegion +
				"}/" + KeyDay + "=${" + KeyDay + "}/" + KeyHour + "=${" + KeyHour + "}",
		},
	}
	if len(o.Accounts) > 0 {
		t.Parameters["projection."+KeyAccount+".type"] = "enum"
		t.Parameters["projection."+KeyAccount+".values"] = strings.Join(o.Accounts, ",")
	} else {
		t.Parameters["projection."+KeyAccount+".type"] = "injected"
	}
	for _, c := range s.cols {
		t.Columns = append(t.Columns, TableColumn{Name: c.Name, Type: c.Type.String(), Comment: c.Doc})
	}
	return t
}

// DDL returns the Athena CREATE EXTERNAL TABLE statement of t. Every name is
// quoted with backticks, so reserved words (end, date, …) need no care.
func DDL(t Table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS `%s` (\n", t.Name)
	writeCols(&b, t.Columns)
	if len(t.PartitionKeys) > 0 {
		b.WriteString(")\nPARTITIONED BY (\n")
		writeCols(&b, t.PartitionKeys)
	}
	fmt.Fprintf(&b, ")\nROW FORMAT SERDE '%s'\n", t.SerDe)
	fmt.Fprintf(&b, "STORED AS INPUTFORMAT '%s'\nOUTPUTFORMAT '%s'\n", t.InputFormat, t.OutputFormat)
	if t.Location != "" {
		fmt.Fprintf(&b, "LOCATION '%s'\n", t.Location)
	}
	b.WriteString("TBLPROPERTIES (\n")
	keys := make([]string, 0, len(t.Parameters))
	for k := range t.Parameters {
		if k != "EXTERNAL" { // implied by CREATE EXTERNAL TABLE
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, k := range keys {
		sep := ","
		if i == len(keys)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  '%s'='%s'%s\n", k, t.Parameters[k], sep)
	}
	b.WriteString(")\n")
	return b.String()
}

func writeCols(b *strings.Builder, cols []TableColumn) {
	for i, c := range cols {
		sep := ","
		if i == len(cols)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "  `%s` %s", c.Name, c.Type)
		if c.Comment != "" {
			fmt.Fprintf(b, " COMMENT '%s'", strings.ReplaceAll(c.Comment, "'", "\\'"))
		}
		b.WriteString(sep + "\n")
	}
}
