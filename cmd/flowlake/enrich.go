package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/flowlake/flowlake/shared/enrich"
)

// enrichFlags are the enrichment flags convert, parse and invoke share.
type enrichFlags struct {
	on       bool
	ipRanges *string
	geoip    *string
	asn      *string
	// paths are the files the enricher reads, once open resolved the
	// defaults.
	paths enrich.Paths
}

// noDatabase is the value of --geoip and --asn that leaves their columns
// NULL.
const noDatabase = "none"

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
	ef.geoip = fs.String("geoip", "", "MaxMind-format country .mmdb for src_country/dst_country (default: flowlake's open database, "+
		"built from its npm package on first use; \"none\": NULL)")
	ef.asn = fs.String("asn", "", "MaxMind-format ASN .mmdb for src_asn/dst_asn/src_as_org/dst_as_org (default: flowlake's open database; \"none\": NULL)")
	return ef
}

// open builds the enricher the flags ask for, or nil when enrichment is off.
// The default databases are built (and their npm packages installed) on
// first use, which is reported to progress; when they cannot be, their
// columns are NULL and a warning says why.
func (ef *enrichFlags) open(ctx context.Context, progress io.Writer) (*enrich.Enricher, error) {
	if !ef.on {
		return nil, nil
	}
	ef.paths = enrich.Paths{IPRanges: *ef.ipRanges, GeoIP: *ef.geoip, ASN: *ef.asn}
	if ef.paths.GeoIP == "" || ef.paths.ASN == "" {
		d, err := defaultDatabases(progress)
		if err != nil {
			fmt.Fprintf(progress, "flowlake: warning: country and ASN columns are NULL: %v\n", err)
		}
		if ef.paths.GeoIP == "" {
			ef.paths.GeoIP = d.GeoIP
		}
		if ef.paths.ASN == "" {
			ef.paths.ASN = d.ASN
		}
	}
	if ef.paths.GeoIP == noDatabase {
		ef.paths.GeoIP = ""
	}
	if ef.paths.ASN == noDatabase {
		ef.paths.ASN = ""
	}
	return enrich.NewFromPaths(ctx, ef.paths)
}

// groups returns the enrichment groups whose columns the flags give a
// source for: the record-derived ones always, the others when open found
// their file.
func (ef *enrichFlags) groups() []string {
	groups := []string{enrich.GroupRecord}
	if ef.paths.IPRanges != "" {
		groups = append(groups, enrich.GroupIPRanges)
	}
	if ef.paths.GeoIP != "" {
		groups = append(groups, enrich.GroupGeoIP)
	}
	if ef.paths.ASN != "" {
		groups = append(groups, enrich.GroupASN)
	}
	return groups
}
