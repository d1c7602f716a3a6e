package lake_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
)

// An ingest function converts one S3 object: the source names the objects,
// so a retry overwrites them.
func ExampleConvert() {
	dir, _ := os.MkdirTemp("", "lake")
	defer os.RemoveAll(dir)
	body := strings.NewReader("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n" +
		"2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK\n")
	src := lake.S3Source("my-flow-logs", "AWSLogs/123456789010/vpcflowlogs/us-east-1/2014/12/14/f.log.gz", `"9b2cf535f27731c974343645a3985328"`, "")
	sum, err := lake.Convert(context.Background(), lake.DirStore{Root: dir}, src, flowlog.NewReader(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum.Records, sum.Rejected)
	fmt.Println(sum.Partitions)
	// Output:
	// 2 0
	// [aws_account=123456789010/aws_region=us-east-1/day=2014-12-14/hour=04]
}

// The Glue table is plain data for the CDK app; DDL renders it for Athena.
func ExampleSchema_Table() {
	t := lake.DefaultSchema.Table(lake.TableOptions{Location: "s3://lake-bucket/flows/", Accounts: []string{"123456789010"}})
	fmt.Println(t.Name, len(t.Columns), t.Columns[11].Name, t.Columns[11].Type)
	for _, k := range t.PartitionKeys {
		fmt.Println(k.Name, t.Parameters["projection."+k.Name+".type"])
	}
	fmt.Println(t.Parameters["storage.location.template"])
	// Output:
	// flows 71 end bigint
	// aws_account enum
	// aws_region enum
	// day date
	// hour integer
	// s3://lake-bucket/flows/aws_account=${aws_account}/aws_region=${aws_region}/day=${day}/hour=${hour}
}
