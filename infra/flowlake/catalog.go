package flowlake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/ocsf"
	"github.com/flowlake/flowlake/shared/queries"
	"github.com/flowlake/flowlake/shared/why"
)

// NamedQueries are the Athena named queries the catalog saves: the saved
// queries, then the evidence of flowlake why with ? execution parameters
// (the console asks for them in order).
func NamedQueries() []queries.Query {
	return append(queries.All(), queries.Query{Name: why.NamedQueryName, Description: why.NamedQueryDescription, SQL: why.NamedQuery()})
}

// CatalogProps configures the Glue and Athena resources. Lake and Results
// are required; the rest have defaults.
type CatalogProps struct {
	DatabaseName       string        // also the Athena workgroup's name; "": flowlake
	Lake               awss3.IBucket // the table's data, under LakePrefix
	Results            awss3.IBucket // the workgroup's query results, under ResultsPrefix
	Accounts           []string      // aws_account values projected (tokens allowed); nil: the stack's account
	Regions            []string      // aws_region values projected (tokens allowed): the regions the flow logs are in; nil: the stack's region
	BytesScannedCutoff int64         // per query; 0: 10 GiB
}

// Catalog is the Glue database and table of the lake, generated from the
// lake's schema with partition projection (no crawler), an Athena workgroup
// (engine 3) whose enforced settings write SSE-S3 encrypted results to its
// own bucket and cap each query's scan, and the saved queries. GrantQuery
// gives a function what running queries over the table needs.
type Catalog struct {
	constructs.Construct
	Database awsglue.CfnDatabase
	Table    awsglue.CfnTable
	// ThreatLists is the second table, the threat lists the
	// threat-list-match rule joins: Parquet under the lake bucket's
	// ThreatListsPrefix (flowlake threat-list import writes it), no
	// partitions.
	ThreatLists awsglue.CfnTable
	// Rollups is the third table, the compactor's hourly rollups
	// (lake.RollupTable, under RollupPrefix) that the baseline rules read
	// instead of weeks of flows; the flows table's partition projection.
	Rollups awsglue.CfnTable
	// OCSF is the view flows_ocsf: the flows as OCSF 1.1.0 Network
	// Activity, as Security Lake maps VPC flow logs (package ocsf), an
	// Athena (Presto) view in Glue.
	OCSF      awsglue.CfnTable
	Workgroup awsathena.CfnWorkGroup
	// TableDef is the table as plain data, as the CfnTable was made from.
	TableDef lake.Table
	// ThreatListsDef is the threat lists' table as plain data.
	ThreatListsDef lake.Table
	// RollupsDef is the rollups' table as plain data.
	RollupsDef lake.Table
	// OCSFDef is the view as plain data.
	OCSFDef      ocsf.View
	DatabaseName string

	lake, results awss3.IBucket
}

// LakeTable returns the Glue table of the lake at location, from the one
// schema definition (lake.TableSchema: every flow-log field, start_time,
// end_time and the enrichment columns), with partition projection over
// the given accounts and regions.
func LakeTable(location string, accounts, regions []string) lake.Table {
	return lake.TableSchema.Table(lake.TableOptions{Location: location, Accounts: accounts, Regions: regions})
}

// NewCatalog creates the database, the table, the workgroup and one named
// query per queries.All.
func NewCatalog(scope constructs.Construct, id string, p CatalogProps) *Catalog {
	if p.DatabaseName == "" {
		p.DatabaseName = Defaults().DatabaseName
	}
	if p.BytesScannedCutoff == 0 {
		p.BytesScannedCutoff = Defaults().BytesScannedCutoff
	}
	c := &Catalog{Construct: constructs.NewConstruct(scope, jsii.String(id)), DatabaseName: p.DatabaseName,
		lake: p.Lake, results: p.Results}
	stack := awscdk.Stack_Of(c.Construct)
	if p.Accounts == nil {
		p.Accounts = []string{*stack.Account()}
	}
	if p.Regions == nil {
		p.Regions = []string{*stack.Region()}
	}
	account := awscdk.Aws_ACCOUNT_ID()

	c.Database = awsglue.NewCfnDatabase(c.Construct, jsii.String("Database"), &awsglue.CfnDatabaseProps{
		CatalogId: account,
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(p.DatabaseName),
			Description: jsii.String("flowlake: VPC flow logs as partitioned Parquet"),
		},
	})

	c.TableDef = LakeTable("s3://"+*p.Lake.BucketName()+"/"+LakePrefix, p.Accounts, p.Regions)
	table := func(id, description string, def lake.Table) awsglue.CfnTable {
		t := awsglue.NewCfnTable(c.Construct, jsii.String(id), &awsglue.CfnTableProps{
			CatalogId:    account,
			DatabaseName: jsii.String(p.DatabaseName),
			TableInput:   glueTableInput(def, description),
		})
		t.Node().AddDependency(c.Database)
		return t
	}
	c.Table = table("Table", "VPC flow-log records, enriched; partition projection, no crawler", c.TableDef)
	c.ThreatListsDef = lake.ThreatListsTable("s3://" + *p.Lake.BucketName() + "/")
	c.ThreatLists = table("ThreatListsTable",
		"threat lists (flowlake threat-list import): addresses and CIDR blocks by list and label, for threat-list-match", c.ThreatListsDef)
	c.RollupsDef = lake.RollupTable(c.TableDef, "s3://"+*p.Lake.BucketName()+"/")
	c.Rollups = table("RollupsTable",
		"hourly rollups the compactor writes: per interface, protocol and port, what it sent to the internet; for the baseline rules", c.RollupsDef)
	c.OCSFDef = ocsf.AthenaView()
	c.OCSF = awsglue.NewCfnTable(c.Construct, jsii.String("OCSFView"), &awsglue.CfnTableProps{
		CatalogId:    account,
		DatabaseName: jsii.String(p.DatabaseName),
		TableInput: glueViewInput(c.OCSFDef, p.DatabaseName,
			"the flows as OCSF 1.1.0 Network Activity (class_uid 4001), as Amazon Security Lake maps VPC flow logs"),
	})
	c.OCSF.Node().AddDependency(c.Table)

	c.Workgroup = awsathena.NewCfnWorkGroup(c.Construct, jsii.String("Workgroup"), &awsathena.CfnWorkGroupProps{
		Name:                  jsii.String(p.DatabaseName),
		Description:           jsii.String("flowlake: queries over the flow-log lake"),
		State:                 jsii.String("ENABLED"),
		RecursiveDeleteOption: jsii.Bool(true),
		WorkGroupConfiguration: &awsathena.CfnWorkGroup_WorkGroupConfigurationProperty{
			EnforceWorkGroupConfiguration:   jsii.Bool(true),
			PublishCloudWatchMetricsEnabled: jsii.Bool(true),
			BytesScannedCutoffPerQuery:      jsii.Number(float64(p.BytesScannedCutoff)),
			EngineVersion: &awsathena.CfnWorkGroup_EngineVersionProperty{
				SelectedEngineVersion: jsii.String("Athena engine version 3"),
			},
			ResultConfiguration: &awsathena.CfnWorkGroup_ResultConfigurationProperty{
				OutputLocation: jsii.String("s3://" + *p.Results.BucketName() + "/" + ResultsPrefix),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{
					EncryptionOption: jsii.String("SSE_S3"),
				},
				ExpectedBucketOwner: account,
			},
		},
	})

	for _, q := range NamedQueries() {
		nq := awsathena.NewCfnNamedQuery(c.Construct, jsii.String("Query-"+q.Name), &awsathena.CfnNamedQueryProps{
			Name:        jsii.String("flowlake: " + q.Name),
			Description: jsii.String(q.Description),
			Database:    jsii.String(p.DatabaseName),
			QueryString: jsii.String(q.SQL),
			WorkGroup:   c.Workgroup.Ref(),
		})
		nq.Node().AddDependency(c.Table)
	}
	return c
}

// GrantQuery lets grantee run queries over the table in the workgroup and
// read their results: Athena's query actions on the workgroup, Glue reads
// of the catalog, the database, the three tables and the view, reads of the lake's
// Parquet objects (LakePrefix, ThreatListsPrefix and RollupPrefix only) and reads and
// writes of the workgroup's results (ResultsPrefix only). It grants no
// write to the lake.
func (c *Catalog) GrantQuery(grantee awsiam.IGrantable) {
	c.lake.GrantRead(grantee, jsii.String(LakePrefix+"*"))
	c.lake.GrantRead(grantee, jsii.String(ThreatListsPrefix+"*"))
	c.lake.GrantRead(grantee, jsii.String(RollupPrefix+"*"))
	c.results.GrantReadWrite(grantee, jsii.String(ResultsPrefix+"*"))
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"),
		ResourceArns: &[]*string{c.WorkgroupArn()},
	})
	glue := c.GlueReadArns()
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions"),
		ResourceArns: &glue,
	})
}

// WorkgroupArn returns the workgroup's ARN.
func (c *Catalog) WorkgroupArn() *string {
	return awscdk.Stack_Of(c.Construct).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("athena"), Resource: jsii.String("workgroup"), ResourceName: c.Workgroup.Ref(),
	})
}

// GlueReadArns returns the ARNs a reader of the tables needs Glue read
// access on: the catalog, the database, the three tables and the view.
func (c *Catalog) GlueReadArns() []*string {
	st := awscdk.Stack_Of(c.Construct)
	arn := func(resource, name string) *string {
		ac := &awscdk.ArnComponents{Service: jsii.String("glue"), Resource: jsii.String(resource)}
		if name != "" {
			ac.ResourceName = jsii.String(name)
		}
		return st.FormatArn(ac)
	}
	return []*string{
		arn("catalog", ""),
		arn("database", c.DatabaseName),
		arn("table", c.DatabaseName+"/"+c.TableDef.Name),
		arn("table", c.DatabaseName+"/"+c.ThreatListsDef.Name),
		arn("table", c.DatabaseName+"/"+c.RollupsDef.Name),
		arn("table", c.DatabaseName+"/"+c.OCSFDef.Name),
	}
}

// glueTableInput is the Glue table input of a table: an external Parquet
// table, with its partition keys (none for a table without).
func glueTableInput(def lake.Table, description string) *awsglue.CfnTable_TableInputProperty {
	cols := func(tcs []lake.TableColumn) *[]*awsglue.CfnTable_ColumnProperty {
		out := make([]*awsglue.CfnTable_ColumnProperty, 0, len(tcs))
		for _, tc := range tcs {
			out = append(out, &awsglue.CfnTable_ColumnProperty{
				Name: jsii.String(tc.Name), Type: jsii.String(tc.Type), Comment: jsii.String(tc.Comment),
			})
		}
		return &out
	}
	in := &awsglue.CfnTable_TableInputProperty{
		Name:        jsii.String(def.Name),
		Description: jsii.String(description),
		TableType:   jsii.String("EXTERNAL_TABLE"),
		Parameters:  def.Parameters,
		StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
			Columns:      cols(def.Columns),
			Location:     jsii.String(def.Location),
			InputFormat:  jsii.String(def.InputFormat),
			OutputFormat: jsii.String(def.OutputFormat),
			SerdeInfo: &awsglue.CfnTable_SerdeInfoProperty{
				SerializationLibrary: jsii.String(def.SerDe),
				Parameters:           map[string]string{"serialization.format": "1"},
			},
		},
	}
	if len(def.PartitionKeys) > 0 {
		in.PartitionKeys = cols(def.PartitionKeys)
	}
	return in
}

// prestoView is the definition Athena keeps of a view it created, as
// JSON, base64-encoded in the Glue table's ViewOriginalText between
// prestoViewPrefix and prestoViewSuffix: the SQL, the catalog and
// database it resolves names in, and the columns with their Trino types.
// Athena reads a Glue table as such a view when its TableType is
// VIRTUAL_VIEW and its parameter presto_view is "true".
type prestoView struct {
	OriginalSQL string             `json:"originalSql"`
	Catalog     string             `json:"catalog"`
	Schema      string             `json:"schema"`
	Columns     []prestoViewColumn `json:"columns"`
}

// prestoViewColumn is a column of a prestoView.
type prestoViewColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// The text around a Glue view's definition.
const (
	prestoViewPrefix   = "/* Presto View: "
	prestoViewSuffix   = " */"
	prestoViewExpanded = "/* Presto View */"
	// athenaCatalog is the catalog of the account's Glue Data Catalog in
	// Athena.
	athenaCatalog = "awsdatacatalog"
)

// glueViewInput is the Glue table input of an Athena view over the
// database's tables: a VIRTUAL_VIEW whose ViewOriginalText holds the
// prestoView and whose storage descriptor lists the columns with their
// Hive types, as Athena's CREATE VIEW writes them.
func glueViewInput(v ocsf.View, database, description string) *awsglue.CfnTable_TableInputProperty {
	def := prestoView{OriginalSQL: v.SQL, Catalog: athenaCatalog, Schema: database}
	cols := make([]*awsglue.CfnTable_ColumnProperty, 0, len(v.Columns))
	for _, c := range v.Columns {
		def.Columns = append(def.Columns, prestoViewColumn{Name: c.Name, Type: c.Trino})
		cols = append(cols, &awsglue.CfnTable_ColumnProperty{Name: jsii.String(c.Name), Type: jsii.String(c.Hive)})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the SQL's <> stays as written
	if err := enc.Encode(def); err != nil {
		panic(err) // strings and slices of strings always encode
	}
	return &awsglue.CfnTable_TableInputProperty{
		Name:             jsii.String(v.Name),
		Description:      jsii.String(description),
		TableType:        jsii.String("VIRTUAL_VIEW"),
		Parameters:       map[string]string{"presto_view": "true", "comment": "Presto View"},
		ViewOriginalText: jsii.String(prestoViewPrefix + base64.StdEncoding.EncodeToString(bytes.TrimSuffix(b.Bytes(), []byte("\n"))) + prestoViewSuffix),
		ViewExpandedText: jsii.String(prestoViewExpanded),
		StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
			Columns:                &cols,
			SerdeInfo:              &awsglue.CfnTable_SerdeInfoProperty{},
			StoredAsSubDirectories: jsii.Bool(false),
		},
	}
}
