package main

import (
	"context"
	"flag"

	"github.com/flowlake/flowlake/shared/enrich"
)

// enrichFlags are the enrichment flags convert and parse share.
type enrichFlags struct {
	on       bool
	ipRanges *string
	geoip    *string
	asn      *string
}

// addEnrichFlags adds the enrichment flags to fs: --no-enrich when
// enrichment is on by default (convert), --enrich when it is off (parse).
func addEnrichFlags(fs *flag.FlagSet, byDefault bool) *enrichFlags {
	ef := &enrichFlags{on: byDefault}
	if byDefault {
		fs.BoolFunc("no-enrich", "leave out the enrichment columns", func(string) error { ef.on = false; return nil })
	} else {
		fs.BoolFunc("enrich", "add the enrichment fields (protocol_name, src_ip_class, direction, ...)", func(string) error { ef.on = true; return nil })
	}
	ef.ipRanges = fs.String("ip-ranges", "", "AWS ip-ranges.json for src_aws_service/dst_aws_service (default: those columns are NULL)")
	ef.geoip = fs.String("geoip", "", "MaxMind-format country .mmdb for src_country/dst_country")
	ef.asn = fs.String("asn", "", "MaxMind-format ASN .mmdb for src_asn/dst_asn/src_as_org/dst_as_org")
	return ef
}

// open builds the enricher the flags ask for, or nil when enrichment is off.
func (ef *enrichFlags) open(ctx context.Context) (*enrich.Enricher, error) {
	if !ef.on {
		return nil, nil
	}
	return enrich.NewFromPaths(ctx, enrich.Paths{IPRanges: *ef.ipRanges, GeoIP: *ef.geoip, ASN: *ef.asn})
}

// groups returns the enrichment groups whose columns the flags give a
// source for: the record-derived ones always, the others when their file
// is named.
func (ef *enrichFlags) groups() []string {
	groups := []string{enrich.GroupRecord}
	if *ef.ipRanges != "" {
		groups = append(groups, enrich.GroupIPRanges)
	}
	if *ef.geoip != "" {
		groups = append(groups, enrich.GroupGeoIP)
	}
	if *ef.asn != "" {
		groups = append(groups, enrich.GroupASN)
	}
	return groups
}
