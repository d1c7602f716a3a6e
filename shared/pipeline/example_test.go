package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// An S3 flow-log file goes through the pipeline: its header gives the
// format, bad lines are counted and sampled to rejects/, good rows land.
func ExamplePipeline_ProcessObject() {
	dir, _ := os.MkdirTemp("", "lake")
	defer os.RemoveAll(dir)
	p := &pipeline.Pipeline{Store: lake.DirStore{Root: dir}, Prefix: "flows"}
	body := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n" +
		"2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.999 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK\n"
	src := lake.S3Source("raw", "AWSLogs/123456789010/vpcflowlogs/us-east-1/2014/12/14/f.log.gz", `"9b2cf535"`, "")
	res, err := p.ProcessObject(context.Background(), src, strings.NewReader(body), int64(len(body)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Records, res.Rejected, res.Rejects[0])
	fmt.Println(res.Partitions)
	fmt.Println(strings.HasPrefix(res.RejectsKey, "rejects/"))
	// Output:
	// 1 1 line 3, column 5: dstaddr: not an IPv4 or IPv6 address ("172.31.9.999")
	// [aws_account=123456789010/aws_region=us-east-1/day=2014-12-14/hour=04]
	// true
}
