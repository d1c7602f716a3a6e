package flowlog_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// A Reader reads records until io.EOF. A bad line is a *ParseError, and
// reading goes on; a header line sets the format of the lines after it.
func ExampleReader() {
	in := strings.NewReader(
		// The default (v2) format until a header says otherwise.
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n" +
			"2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.999 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK\n" +
			// A header: the bare field names, as every S3 text file begins.
			"version srcaddr dstaddr dstport action flow-direction\n" +
			"5 10.0.1.5 10.0.2.9 443 ACCEPT egress\n" +
			"5 10.0.1.5 10.0.2.9 - - ingress\n")
	r := flowlog.NewReader(in)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		var pe *flowlog.ParseError
		if errors.As(err, &pe) {
			fmt.Println("rejected:", pe, errors.Is(err, flowlog.ErrAddr))
			continue
		}
		if err != nil {
			fmt.Println(err) // an I/O error ends the input
			return
		}
		fmt.Println(r.Line(), rec.SrcAddr, rec.DstAddr, rec.String(flowlog.FieldDstPort), rec.Action, rec.String(flowlog.FieldFlowDirection))
	}
	fmt.Println(r.HeaderLines(), "header line:", r.Format())
	// Output:
	// 1 172.31.16.139 172.31.16.21 22 ACCEPT -
	// rejected: line 2, column 5: dstaddr: not an IPv4 or IPv6 address ("172.31.9.999") true
	// 4 10.0.1.5 10.0.2.9 443 ACCEPT egress
	// 5 10.0.1.5 10.0.2.9 - - ingress
	// 1 header line: ${version} ${srcaddr} ${dstaddr} ${dstport} ${action} ${flow-direction}
}
