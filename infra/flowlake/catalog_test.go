package flowlake_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/flowlake/flowlake/infra/flowlake"
	"github.com/flowlake/flowlake/shared/ocsf"
)

// newCatalog is the catalog as the stack makes it, over the buckets of a
// Storage, with the defaults.
func newCatalog(stack awscdk.Stack) (*flowlake.Storage, *flowlake.Catalog) {
	st := flowlake.NewStorage(stack, "Storage", flowlake.StorageProps{LakeTransitionDays: 90})
	return st, flowlake.NewCatalog(stack, "Catalog", flowlake.CatalogProps{Lake: st.Lake, Results: st.Results})
}

func TestCatalog(t *testing.T) {
	var c *flowlake.Catalog
	stack, tp := synth(t, func(stack awscdk.Stack) { _, c = newCatalog(stack) })
	checkNag(t, stack, tp)
	has(t, tp, "AWS::Glue::Database", map[string]any{
		"DatabaseInput": map[string]any{"Name": "flowlake", "Description": assertions.Match_AnyValue()},
	})
	tables := tp.resources("AWS::Glue::Table")
	if len(tables) != 4 {
		t.Fatalf("%d Glue tables; want 4 (flows, threat_lists, flows_rollup and the view flows_ocsf)", len(tables))
	}
	var in, lists, rollups, view map[string]any
	for _, p := range tables {
		ti := p["TableInput"].(map[string]any)
		switch ti["Name"] {
		case "threat_lists":
			lists = ti
		case "flows_rollup":
			rollups = ti
		case "flows_ocsf":
			view = ti
		default:
			in = ti
		}
	}
	if in == nil || lists == nil || rollups == nil || view == nil {
		t.Fatalf("Glue tables %v; want flows, threat_lists, flows_rollup and flows_ocsf", tables)
	}
	checkOCSFView(t, view)
	// The rollups: the compactor's, under rollups/, with the flows'
	// partition projection.
	var rollupCols []string
	for _, col := range rollups["StorageDescriptor"].(map[string]any)["Columns"].([]any) {
		col := col.(map[string]any)
		rollupCols = append(rollupCols, fmt.Sprint(col["Name"], " ", col["Type"]))
	}
	if got := strings.Join(rollupCols, ","); got != "interface_id string,protocol int,dstport int,flows bigint,packets bigint,bytes bigint" {
		t.Errorf("flows_rollup columns = %s", got)
	}
	if loc := render(rollups["StorageDescriptor"].(map[string]any)["Location"]); !logicalIDPath(`s3://${StorageLake`, `}/rollups/`).MatchString(loc) {
		t.Errorf("flows_rollup Location = %s; want the lake bucket's rollups/", loc)
	}
	rp, fp := rollups["Parameters"].(map[string]any), in["Parameters"].(map[string]any)
	if !strings.Contains(render(rp["storage.location.template"]), "}/rollups/aws_account=${aws_account}/") ||
		js(rollups["PartitionKeys"]) != js(in["PartitionKeys"]) || rp["projection.day.range"] != fp["projection.day.range"] {
		t.Errorf("flows_rollup: partitions %v, parameters %v; want the flows table's projection under rollups/", rollups["PartitionKeys"], rp)
	}
	// The threat lists: the lake's reference table, no partitions.
	var listCols []string
	for _, col := range lists["StorageDescriptor"].(map[string]any)["Columns"].([]any) {
		col := col.(map[string]any)
		listCols = append(listCols, fmt.Sprint(col["Name"], " ", col["Type"]))
	}
	if got := strings.Join(listCols, ","); got != "list string,key string,lo int,hi int,label string" {
		t.Errorf("threat_lists columns = %s", got)
	}
	if loc := render(lists["StorageDescriptor"].(map[string]any)["Location"]); !logicalIDPath(`s3://${StorageLake`, `}/reference/threat_lists/`).MatchString(loc) {
		t.Errorf("threat_lists Location = %s; want the lake bucket's reference/threat_lists/", loc)
	}
	if lists["PartitionKeys"] != nil || lists["Parameters"].(map[string]any)["classification"] != "parquet" {
		t.Errorf("threat_lists: partitions %v, parameters %v", lists["PartitionKeys"], lists["Parameters"])
	}
	// The columns are the lake schema's, in its order.
	var want []string
	for _, col := range c.TableDef.Columns {
		want = append(want, col.Name+" "+col.Type)
	}
	var got []string
	for _, col := range in["StorageDescriptor"].(map[string]any)["Columns"].([]any) {
		col := col.(map[string]any)
		got = append(got, fmt.Sprint(col["Name"], " ", col["Type"]))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Glue columns = %v;\nwant the lake schema's %v", got, want)
	}
	for _, col := range []string{"srcaddr string", "bytes bigint", "dstport int", "start_time timestamp", "protocol_name string", "dst_aws_service string", "eni_tags map<string,string>",
		"next_hop_interface_type string", "extra map<string,string>"} {
		if !strings.Contains(","+strings.Join(got, ",")+",", ","+col+",") {
			t.Errorf("Glue columns lack %q", col)
		}
	}
	var keys []string
	for _, k := range list(in["PartitionKeys"]) {
		keys = append(keys, fmt.Sprint(k.(map[string]any)["Name"]))
	}
	if strings.Join(keys, ",") != "aws_account,aws_region,day,hour" {
		t.Errorf("PartitionKeys = %s; want aws_account, aws_region, day, hour", js(in["PartitionKeys"]))
	}
	if loc := render(in["StorageDescriptor"].(map[string]any)["Location"]); !logicalIDPath(`s3://${StorageLake`, `}/flows/`).MatchString(loc) {
		t.Errorf("Location = %s; want the lake bucket's flows/", loc)
	}
	params := in["Parameters"].(map[string]any)
	for k, v := range map[string]string{"projection.enabled": "true", "projection.day.type": "date", "projection.aws_account.type": "enum",
		"projection.aws_region.type": "enum", "classification": "parquet"} {
		if params[k] != v {
			t.Errorf("table parameter %s = %v; want %q", k, params[k], v)
		}
	}
	if tmpl := render(params["storage.location.template"]); !strings.HasSuffix(tmpl, "/flows/aws_account=${aws_account}/aws_region=${aws_region}/day=${day}/hour=${hour}") {
		t.Errorf("storage.location.template = %s", tmpl)
	}
	// By default, the stack's own account and region.
	if v := render(params["projection.aws_account.values"]); v != "${AWS::AccountId}" {
		t.Errorf("projection.aws_account.values = %s; want the stack's account", v)
	}
	if v := render(params["projection.aws_region.values"]); v != "${AWS::Region}" {
		t.Errorf("projection.aws_region.values = %s; want the stack's region", v)
	}
	has(t, tp, "AWS::Athena::WorkGroup", map[string]any{
		"Name": "flowlake", "State": "ENABLED",
		"WorkGroupConfiguration": assertions.Match_ObjectLike(obj(map[string]any{
			"EnforceWorkGroupConfiguration":   true,
			"PublishCloudWatchMetricsEnabled": true,
			"BytesScannedCutoffPerQuery":      10 << 30,
			"EngineVersion":                   map[string]any{"SelectedEngineVersion": "Athena engine version 3"},
			"ResultConfiguration": map[string]any{
				"OutputLocation":          map[string]any{"Fn::Join": []any{"", []any{"s3://", map[string]any{"Ref": like("^StorageAthenaResults")}, "/athena/"}}},
				"EncryptionConfiguration": map[string]any{"EncryptionOption": "SSE_S3"},
				"ExpectedBucketOwner":     map[string]any{"Ref": "AWS::AccountId"},
			},
		})),
	})
	qs := flowlake.NamedQueries()
	count(t, tp, "AWS::Athena::NamedQuery", len(qs))
	for _, q := range qs {
		has(t, tp, "AWS::Athena::NamedQuery", map[string]any{
			"Name": "flowlake: " + q.Name, "QueryString": q.SQL, "Database": "flowlake",
			"WorkGroup": map[string]any{"Ref": like("^CatalogWorkgroup")},
		})
	}
}

// checkOCSFView checks the Glue view flows_ocsf as Athena reads a view it
// created: TableType VIRTUAL_VIEW, presto_view "true", and in
// ViewOriginalText, between "/* Presto View: " and " */", the base64 of
// the JSON definition (the SQL of package ocsf, the catalog, the
// database, the columns with their Trino types), whose columns the
// storage descriptor lists with their Hive types.
func checkOCSFView(t *testing.T, view map[string]any) {
	t.Helper()
	if view["TableType"] != "VIRTUAL_VIEW" || view["ViewExpandedText"] != "/* Presto View */" {
		t.Errorf("flows_ocsf: TableType %v, ViewExpandedText %v; want VIRTUAL_VIEW, /* Presto View */", view["TableType"], view["ViewExpandedText"])
	}
	if p := view["Parameters"].(map[string]any); p["presto_view"] != "true" || p["comment"] != "Presto View" || len(p) != 2 {
		t.Errorf("flows_ocsf Parameters = %v; want presto_view true, comment Presto View", p)
	}
	text, _ := view["ViewOriginalText"].(string)
	b64, ok := strings.CutPrefix(text, "/* Presto View: ")
	if b64, ok = strings.CutSuffix(b64, " */"); !ok {
		t.Fatalf("flows_ocsf ViewOriginalText = %.60q…; want /* Presto View: <base64> */", text)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("flows_ocsf ViewOriginalText: %v", err)
	}
	var def struct {
		OriginalSQL string `json:"originalSql"`
		Catalog     string `json:"catalog"`
		Schema      string `json:"schema"`
		Columns     []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"columns"`
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&def); err != nil {
		t.Fatalf("flows_ocsf view definition: %v\n%s", err, raw)
	}
	want := ocsf.AthenaView()
	if def.OriginalSQL != want.SQL {
		t.Errorf("flows_ocsf originalSql =\n%s\nwant ocsf.AthenaView().SQL:\n%s", def.OriginalSQL, want.SQL)
	}
	if def.Catalog != "awsdatacatalog" || def.Schema != "flowlake" {
		t.Errorf("flows_ocsf catalog %q, schema %q; want awsdatacatalog, flowlake", def.Catalog, def.Schema)
	}
	sd := view["StorageDescriptor"].(map[string]any)
	glueCols := list(sd["Columns"])
	if len(def.Columns) != len(want.Columns) || len(glueCols) != len(want.Columns) {
		t.Fatalf("flows_ocsf: %d view columns, %d Glue columns; want %d", len(def.Columns), len(glueCols), len(want.Columns))
	}
	for i, c := range want.Columns {
		g := glueCols[i].(map[string]any)
		if def.Columns[i].Name != c.Name || def.Columns[i].Type != c.Trino || g["Name"] != c.Name || g["Type"] != c.Hive {
			t.Errorf("flows_ocsf column %d: view %+v, Glue %v %v; want %s %s / %s", i, def.Columns[i], g["Name"], g["Type"], c.Name, c.Trino, c.Hive)
		}
	}
	// Spelled out once, in both type systems: the endpoint as OCSF has it.
	for i, c := range def.Columns {
		if c.Name != "src_endpoint" {
			continue
		}
		const trino = `row("ip" varchar, "port" integer, "svc_name" varchar, "intermediate_ips" array(varchar), "interface_uid" varchar, "vpc_uid" varchar, "instance_uid" varchar, "subnet_uid" varchar)`
		const hive = "struct<ip:string,port:int,svc_name:string,intermediate_ips:array<string>,interface_uid:string,vpc_uid:string,instance_uid:string,subnet_uid:string>"
		if c.Type != trino || glueCols[i].(map[string]any)["Type"] != hive {
			t.Errorf("src_endpoint: %s / %v; want %s / %s", c.Type, glueCols[i].(map[string]any)["Type"], trino, hive)
		}
	}
	if !strings.Contains(def.OriginalSQL, `CAST(ROW(`) || !strings.HasSuffix(def.OriginalSQL, `FROM "flows"`) {
		t.Errorf("flows_ocsf originalSql is not a Trino SELECT of ROWs over flows:\n%s", def.OriginalSQL)
	}
}

func TestCatalogProps(t *testing.T) {
	_, tp := synth(t, func(stack awscdk.Stack) {
		st := flowlake.NewStorage(stack, "Storage", flowlake.StorageProps{LakeTransitionDays: 90})
		flowlake.NewCatalog(stack, "Catalog", flowlake.CatalogProps{
			DatabaseName: "vpc_flows", Lake: st.Lake, Results: st.Results,
			Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"eu-west-1"}, BytesScannedCutoff: 1 << 30,
		})
	})
	has(t, tp, "AWS::Glue::Table", map[string]any{
		"DatabaseName": "vpc_flows",
		"TableInput": assertions.Match_ObjectLike(obj(map[string]any{"Parameters": assertions.Match_ObjectLike(obj(map[string]any{
			"projection.aws_account.values": "111122223333,444455556666", "projection.aws_region.values": "eu-west-1",
		}))})),
	})
	has(t, tp, "AWS::Athena::WorkGroup", map[string]any{
		"Name":                   "vpc_flows",
		"WorkGroupConfiguration": assertions.Match_ObjectLike(obj(map[string]any{"BytesScannedCutoffPerQuery": 1 << 30})),
	})
}

// TestCatalogGrantQuery: a querier may run queries in the workgroup only,
// read the tables' metadata and the lake's flows/ and reference/threat_lists/ only, and read and write
// the results' athena/ only; it may write nothing of the lake.
func TestCatalogGrantQuery(t *testing.T) {
	_, tp := synth(t, func(stack awscdk.Stack) {
		_, c := newCatalog(stack)
		c.GrantQuery(grantee(stack))
	})
	sts := tp.rolePolicy(t, "Grantee")
	lake := `^\$\{StorageLake[0-9A-F]{8}\.Arn\}`
	results := `^\$\{StorageAthenaResults[0-9A-F]{8}\.Arn\}`
	workgroup := `^arn:\$\{AWS::Partition\}:athena:\$\{AWS::Region\}:\$\{AWS::AccountId\}:workgroup/\$\{CatalogWorkgroup[0-9A-F]{8}\}$`
	for _, a := range [][2]string{
		{"athena:StartQueryExecution", workgroup}, {"athena:GetQueryExecution", workgroup}, {"athena:GetQueryResults", workgroup},
		{"athena:StopQueryExecution", workgroup},
		{"glue:GetTable", `:table/flowlake/flows$`}, {"glue:GetDatabase", `:database/flowlake$`}, {"glue:GetPartitions", `:catalog$`},
		{"s3:GetObject", lake + `/flows/\*$`}, {"s3:ListBucket", lake + `$`},
		{"glue:GetTable", `:table/flowlake/threat_lists$`}, {"s3:GetObject", lake + `/reference/threat_lists/\*$`},
		{"glue:GetTable", `:table/flowlake/flows_rollup$`}, {"s3:GetObject", lake + `/rollups/\*$`},
		{"glue:GetTable", `:table/flowlake/flows_ocsf$`},
		{"glue:GetTable", `:table/flowlake/flows_ocsf$`},
		{"s3:GetObject", results + `/athena/\*$`}, {"s3:PutObject", results + `/athena/\*$`},
	} {
		if len(allowed(sts, a[0], a[1])) == 0 {
			t.Errorf("no %s on %s:\n%v", a[0], a[1], sts)
		}
	}
	for _, a := range [][2]string{
		{"s3:PutObject", lake}, {"s3:DeleteObject", lake}, {"s3:GetObject", lake + `/\*$`}, {"s3:GetObject", lake + `/rejects/`}, {"s3:GetObject", lake + `/reference/\*$`},
		{"athena:StartQueryExecution", `workgroup/\*`}, {"glue:CreateTable", `.`}, {"glue:GetTable", `\*$`},
	} {
		if got := allowed(sts, a[0], a[1]); len(got) != 0 {
			t.Errorf("%s on %v; want none", a[0], got)
		}
	}
}
