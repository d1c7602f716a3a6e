package flowlake

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/flowlake/flowlake/shared/enrich/geodb"
)

// The GeoIP and ASN databases the ingest functions read
// (pipeline.EnvGeoIP, pipeline.EnvASN), shipped in each ingest function's
// asset next to its bootstrap, so that src_country, dst_country, src_asn,
// dst_asn, src_as_org and dst_as_org are filled in AWS with nothing to
// download or configure. Their data is as old as the npm packages
// package-lock.json pins, and each deploy ships what the packages hold.
var geoFiles = []string{geodb.CountryFile, geodb.ASNFile, geodb.NoticeFile}

// ErrNoGeoDatabases is returned by NewStack when an ingest function's
// folder lacks the databases (ShipGeoDatabases puts them there).
var ErrNoGeoDatabases = errors.New("no GeoIP and ASN databases next to the bootstrap (flowlake.ShipGeoDatabases)")

// ShipGeoDatabases builds flowlake's GeoIP and ASN databases (package
// geodb) from the npm packages under root/node_modules, once per package
// version into root/.cache/geodb, and copies them, with their notice, into
// each of dirs, the folders of the ingest functions' bootstraps. The
// packages come from npm ci, as the aws-cdk CLI does.
func ShipGeoDatabases(root string, dirs ...string) (geodb.Databases, error) {
	d, err := geodb.Cached(filepath.Join(root, "node_modules"), filepath.Join(root, ".cache", "geodb"))
	if err != nil {
		return d, fmt.Errorf("GeoIP and ASN databases (run npm ci at the repository root): %w", err)
	}
	for _, dir := range dirs {
		for _, name := range geoFiles {
			if err := copyFile(filepath.Join(d.Dir, name), filepath.Join(dir, name)); err != nil {
				return d, fmt.Errorf("ship %s: %w", name, err)
			}
		}
	}
	return d, nil
}

// checkGeoDatabases reports whether the folder of fn's bootstrap holds the
// databases its environment names.
func checkGeoDatabases(fn, dir string) error {
	for _, name := range geoFiles {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%s: %s: %w", fn, name, ErrNoGeoDatabases)
		}
	}
	return nil
}

// copyFile copies src to dst (0644), replacing it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
