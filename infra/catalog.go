package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/queries"
)

// CatalogProps configures the Glue and Athena resources.
type CatalogProps struct {
	DatabaseName       string // also the Athena workgroup's name
	Lake               awss3.IBucket
	Results            awss3.IBucket
	Accounts           []string // aws_account values projected (tokens allowed)
	Regions            []string // aws_region values projected (tokens allowed): the regions the stack's flow logs are in
	BytesScannedCutoff int64
}

// Catalog is the Glue database and table of the lake, generated from the
// lake's schema with partition projection, an Athena workgroup with its own
// results bucket and enforced settings, and the saved queries.
type Catalog struct {
	constructs.Construct
	Database  awsglue.CfnDatabase
	Table     awsglue.CfnTable
	Workgroup awsathena.CfnWorkGroup
	// TableDef is the table as plain data, as the CfnTable was made from.
	TableDef     lake.Table
	DatabaseName string
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
	c := &Catalog{Construct: constructs.NewConstruct(scope, jsii.String(id)), DatabaseName: p.DatabaseName}
	account := awscdk.Aws_ACCOUNT_ID()

	c.Database = awsglue.NewCfnDatabase(c.Construct, jsii.String("Database"), &awsglue.CfnDatabaseProps{
		CatalogId: account,
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(p.DatabaseName),
			Description: jsii.String("flowlake: VPC flow logs as partitioned Parquet"),
		},
	})

	c.TableDef = LakeTable("s3://"+*p.Lake.BucketName()+"/"+LakePrefix, p.Accounts, p.Regions)
	cols := func(tcs []lake.TableColumn) *[]*awsglue.CfnTable_ColumnProperty {
		out := make([]*awsglue.CfnTable_ColumnProperty, 0, len(tcs))
		for _, tc := range tcs {
			out = append(out, &awsglue.CfnTable_ColumnProperty{
				Name: jsii.String(tc.Name), Type: jsii.String(tc.Type), Comment: jsii.String(tc.Comment),
			})
		}
		return &out
	}
	c.Table = awsglue.NewCfnTable(c.Construct, jsii.String("Table"), &awsglue.CfnTableProps{
		CatalogId:    account,
		DatabaseName: jsii.String(p.DatabaseName),
		TableInput: &awsglue.CfnTable_TableInputProperty{
			Name:          jsii.String(c.TableDef.Name),
			Description:   jsii.String("VPC flow-log records, enriched; partition projection, no crawler"),
			TableType:     jsii.String("EXTERNAL_TABLE"),
			Parameters:    c.TableDef.Parameters,
			PartitionKeys: cols(c.TableDef.PartitionKeys),
			StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
				Columns:      cols(c.TableDef.Columns),
				Location:     jsii.String(c.TableDef.Location),
				InputFormat:  jsii.String(c.TableDef.InputFormat),
				OutputFormat: jsii.String(c.TableDef.OutputFormat),
				SerdeInfo: &awsglue.CfnTable_SerdeInfoProperty{
					SerializationLibrary: jsii.String(c.TableDef.SerDe),
					Parameters:           map[string]string{"serialization.format": "1"},
				},
			},
		},
	})
	c.Table.Node().AddDependency(c.Database)

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

	for _, q := range queries.All() {
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

// WorkgroupArn returns the workgroup's ARN.
func (c *Catalog) WorkgroupArn() *string {
	return awscdk.Stack_Of(c.Construct).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("athena"), Resource: jsii.String("workgroup"), ResourceName: c.Workgroup.Ref(),
	})
}

// GlueReadArns returns the ARNs a reader of the table needs Glue read
// access on: the catalog, the database and the table.
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
	}
}
