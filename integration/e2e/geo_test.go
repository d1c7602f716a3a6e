package e2e

import (
	"context"
	"database/sql"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/flowlake/flowlake/shared/lakesql"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// checkPublicPeers checks the lake's country and AS columns of every
// public peer (srcaddr or dstaddr of class public): each has the country
// and the AS the databases in the ingest function's asset (the template's
// FLOWLAKE_GEOIP and FLOWLAKE_ASN, next to bootstrap) give it, read here
// with maxminddb directly, not through package enrich, so the only peers
// without are those the databases have no entry for (the generator draws
// some peers at random from 45.0.0.0/8); and nearly every peer has both.
func checkPublicPeers(t *testing.T, ctx context.Context, lakeDir, bootstrap string, env map[string]string) {
	t.Helper()
	open := func(v string) *maxminddb.Reader {
		if env[v] == "" {
			t.Fatalf("the template gives ingest-s3 no %s", v)
		}
		db, err := maxminddb.Open(filepath.Join(filepath.Dir(bootstrap), env[v]))
		if err != nil {
			t.Fatalf("%s in the function's asset: %v", v, err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	countries, asns := open(pipeline.EnvGeoIP), open(pipeline.EnvASN)

	db, err := lakesql.Open(ctx, lakeDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT peer, country, asn, org FROM (
	SELECT srcaddr AS peer, src_country AS country, src_asn AS asn, src_as_org AS org FROM flows WHERE src_ip_class = 'public'
	UNION ALL
	SELECT dstaddr, dst_country, dst_asn, dst_as_org FROM flows WHERE dst_ip_class = 'public')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	peers, withCountry, withAS := 0, 0, 0
	for rows.Next() {
		var peer string
		var country, org sql.NullString
		var asn sql.NullInt64
		if err := rows.Scan(&peer, &country, &asn, &org); err != nil {
			t.Fatal(err)
		}
		peers++
		a := netip.MustParseAddr(peer).Unmap()
		var c struct {
			Code string `maxminddb:"country_code"`
		}
		if err := countries.Lookup(a).Decode(&c); err != nil {
			t.Fatalf("%s: country database: %v", peer, err)
		}
		var as struct {
			Number uint32 `maxminddb:"autonomous_system_number"`
			Org    string `maxminddb:"autonomous_system_organization"`
		}
		if err := asns.Lookup(a).Decode(&as); err != nil {
			t.Fatalf("%s: ASN database: %v", peer, err)
		}
		if country.Valid != (c.Code != "") || country.String != c.Code {
			t.Errorf("public peer %s: country %v; want %q, the shipped database's", peer, country, c.Code)
		}
		if country.Valid {
			withCountry++
		}
		if as.Number == 0 {
			if asn.Valid {
				t.Errorf("public peer %s: AS%d, which the shipped database does not give", peer, asn.Int64)
			}
			continue
		}
		withAS++
		if !asn.Valid || asn.Int64 != int64(as.Number) || org.String != as.Org {
			t.Errorf("public peer %s: AS %v %q; want AS%d %q, the shipped database's", peer, asn, org.String, as.Number, as.Org)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if peers == 0 || withCountry*100 < peers*95 || withAS*100 < peers*95 {
		t.Errorf("%d public peers, %d with a country, %d with an AS; want some, and both for at least 95%% of them", peers, withCountry, withAS)
	}
	t.Logf("public peers: %d, %d with a country, %d with an AS", peers, withCountry, withAS)
}
