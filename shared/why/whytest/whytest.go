// Package whytest builds the lakes of the why scenarios (flowgen's
// WhyScenarios) for the tests of package why and of its SQL in the
// Athena stand-in: each scenario's day of records, in the rich or the v2
// default format, through the ingest functions' pipeline with enrichment.
// The rich lake is enriched as the demo's (no ENI metadata: the records
// carry flow-direction and subnet-id); the default one with ENI metadata
// from an EC2 stand-in that knows the estate, since direction and subnet
// then come from enrichment alone.
//
// It builds lakes only: it must not import DuckDB, so a test brings its
// own engine.
package whytest

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/pipeline"
	"github.com/flowlake/flowlake/shared/why"
)

// Formats are the formats every scenario is tested in.
var Formats = []string{"rich", "default"}

// Day is the scenarios' day.
var Day = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

// Config is the generator configuration of every scenario lake: one
// account of six interfaces, 3000 background records over the day.
func Config(format string, sc flowgen.WhyScenario) flowgen.Config {
	cfg := flowgen.Config{Seed: 7, Records: 3000, Span: 24 * time.Hour, Start: Day, Accounts: 1, ENIs: 6, Header: true}
	switch format {
	case "rich":
		s := flowgen.RichFormatString
		for _, f := range sc.Fields {
			s += " ${" + f.String() + "}"
		}
		cfg.Format = flowlog.MustParseFormat(s)
	case "default":
		cfg.Format = flowlog.MustParseFormat(flowlog.DefaultFormat)
	default:
		panic("whytest: unknown format " + format)
	}
	return cfg
}

// Want is what a scenario's answer must be in a format.
func Want(format string, sc flowgen.WhyScenario) (why.Verdict, string) {
	if format == "default" && sc.DefaultVerdict != "" {
		likely := ""
		if sc.DefaultVerdict == string(why.BlockedInbound) || sc.DefaultVerdict == string(why.BlockedOutbound) {
			likely = why.LikelyEither
		}
		return why.Verdict(sc.DefaultVerdict), likely
	}
	return why.Verdict(sc.Verdict), sc.Likely
}

// Lake writes the lake of scenario sc in format under dir and returns its
// question (with the VPC's block, so reserved addresses are known).
func Lake(t testing.TB, dir string, sc flowgen.WhyScenario, format string) why.Question {
	t.Helper()
	ctx := context.Background()
	cfg := Config(format, sc)
	var buf bytes.Buffer
	wq, _, err := flowgen.WriteWhyScenario(&buf, cfg, sc.Name)
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := flowgen.NewWhyScenario(cfg, sc.Name)
	if err != nil {
		t.Fatal(err)
	}
	ecfg := enrich.Config{}
	groups := []string{enrich.GroupRecord}
	if format == "default" {
		ecfg.EC2 = EC2(g.Estate())
		groups = append(groups, enrich.GroupENI)
	}
	e, err := enrich.New(ctx, ecfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	p := &pipeline.Pipeline{Store: lake.DirStore{Root: dir}, Enricher: e, EnrichGroups: groups}
	res, err := p.ProcessText(ctx, lake.Source{ID: "why-" + sc.Name + "-" + format, Region: "us-east-1"}, &buf, int64(buf.Len()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected != 0 {
		t.Fatalf("%s/%s: %d lines rejected", sc.Name, format, res.Rejected)
	}
	return Question(wq)
}

// Question is the why.Question of a scenario's pair, with its VPC block.
func Question(wq flowgen.WhyQuestion) why.Question {
	return why.Question{Src: wq.Src, Dst: wq.Dst, Port: int(wq.Port), Protocol: int(wq.Protocol), VPCCIDRs: []netip.Prefix{wq.VPCCIDR}}
}

// EC2 answers DescribeNetworkInterfaces for the estate's interfaces (by
// the network-interface-id filter), as EC2 does, each in the default
// security group of its VPC.
func EC2(est *flowgen.Estate) enrich.DescribeNetworkInterfacesAPI {
	return describeFunc(func(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
		var ids []string
		for _, f := range in.Filters {
			if aws.ToString(f.Name) == "network-interface-id" {
				ids = append(ids, f.Values...)
			}
		}
		out := &ec2.DescribeNetworkInterfacesOutput{}
		for _, e := range est.ENIs {
			if !slices.Contains(ids, e.ID) {
				continue
			}
			ni := types.NetworkInterface{
				NetworkInterfaceId: aws.String(e.ID), VpcId: aws.String(e.VPCID), SubnetId: aws.String(e.SubnetID),
				PrivateIpAddress: aws.String(e.Addr.String()), InterfaceType: types.NetworkInterfaceTypeInterface,
				Ipv6Addresses: []types.NetworkInterfaceIpv6Address{{Ipv6Address: aws.String(e.Addr6.String())}},
				Groups:        []types.GroupIdentifier{{GroupId: aws.String("sg-" + strings.TrimPrefix(e.VPCID, "vpc-")), GroupName: aws.String("default")}},
			}
			if e.InstanceID != "" {
				ni.Attachment = &types.NetworkInterfaceAttachment{InstanceId: aws.String(e.InstanceID)}
			} else {
				ni.InterfaceType = types.NetworkInterfaceTypeNatGateway
			}
			out.NetworkInterfaces = append(out.NetworkInterfaces, ni)
		}
		return out, nil
	})
}

type describeFunc func(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)

func (f describeFunc) DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	return f(ctx, in, opts...)
}

// Check returns what is wrong with a, the answer to scenario sc in format.
func Check(a *why.Answer, sc flowgen.WhyScenario, format string) []string {
	verdict, likely := Want(format, sc)
	var out []string
	if a.Verdict != verdict || a.Likely != likely {
		out = append(out, fmt.Sprintf("verdict %s (likely %q); want %s (likely %q): %s", a.Verdict, a.Likely, verdict, likely, a.Summary))
	}
	if a.Summary == "" {
		out = append(out, "no summary")
	}
	if !a.Window.Since.Before(Day.Add(9*time.Hour)) || a.Window.Until.Before(Day.Add(10*time.Hour)) {
		out = append(out, fmt.Sprintf("window %s to %s misses the attempts at 09:00", a.Window.Since, a.Window.Until))
	}
	for _, e := range a.Evidence {
		if e.Interface == "" || e.Owner == "" || e.Subnet == "" {
			out = append(out, fmt.Sprintf("evidence %+v: no interface, owner or subnet", e))
		}
	}
	return out
}
