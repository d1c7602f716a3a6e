// Package geodb builds the GeoIP and ASN databases flowlake ships, so that
// src_country, dst_country, src_asn, dst_asn, src_as_org and dst_as_org are
// filled out of the box, in AWS and on a laptop. Their data is open, and
// package-lock.json pins it:
//
//   - the country database is @ip-location-db/geo-whois-asn-country-mmdb
//     (its package says CC0-1.0; the NRO's WHOIS and ASN data in it are CC
//     BY 4.0), a MaxMind-format database already, in ip-location-db's layout
//     (country_code), which package enrich reads as it is: it is copied
//     unchanged;
//   - the ASN database is built from @ip-location-db/asn (CC BY 4.0:
//     RouteViews, DB-IP and the NRO), CSV ranges, converted to a
//     MaxMind-format database in GeoLite2-ASN's layout
//     (autonomous_system_number, autonomous_system_organization), the one
//     binary search per address package enrich already reads.
//
// Build writes both into a folder, with NoticeFile (the attributions and
// the packages' licence texts), from the packages installed under a
// node_modules folder. The output depends on nothing but the packages, so
// the same packages give the same bytes (the CDK app's asset hashes do not
// change until the data does). Installing the packages (npm ci) is the
// caller's: this package reads local files only.
//
// It imports nothing of flowlake: the CDK app (which ships the databases
// next to each ingest function's bootstrap) and the CLI (which builds them
// once into a cache for flowlake demo and convert) call it; no Lambda
// links it.
package geodb

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/oschwald/maxminddb-golang/v2"
)

// The npm packages the databases come from (package-lock.json pins their
// versions).
const (
	CountryPackage = "@ip-location-db/geo-whois-asn-country-mmdb"
	ASNPackage     = "@ip-location-db/asn"
)

// The files Build writes.
const (
	CountryFile = "geoip-country.mmdb" // country_code, as ip-location-db writes it
	ASNFile     = "geoip-asn.mmdb"     // autonomous_system_number, autonomous_system_organization
	NoticeFile  = "GEOIP-NOTICE.txt"   // sources, versions, licences
)

// The files read from the packages.
const (
	countrySource = "geo-whois-asn-country.mmdb" // IPv4 and IPv6
	asnSourceV4   = "asn-ipv4.csv"
	asnSourceV6   = "asn-ipv6.csv"
)

// licenceFiles are the licence texts each package carries, copied into
// NoticeFile in full.
var licenceFiles = map[string][]string{
	CountryPackage: {"NRO_LICENSE"},
	ASNPackage:     {"ROUTEVIEWS-LICENSE", "DBIP-LICENSE", "NRO_LICENSE", "MODIFICATIONS"},
}

// ErrNotInstalled is returned when a package is missing from node_modules.
var ErrNotInstalled = errors.New("not installed (run npm ci at the repository root)")

// Databases are the files Build wrote.
type Databases struct {
	Dir    string // the folder
	GeoIP  string // Dir/CountryFile
	ASN    string // Dir/ASNFile
	Notice string // Dir/NoticeFile
	// CountryVersion and ASNVersion are the packages' versions; ip-location-db
	// numbers them 2.3.YYYYMMDDHH, the hour (UTC) its data was built.
	CountryVersion, ASNVersion string
}

// DataTime returns when the older of the two packages' data was built,
// from their versions (zero if a version does not say).
func (d Databases) DataTime() time.Time {
	a, b := versionTime(d.CountryVersion), versionTime(d.ASNVersion)
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// versionTime reads the build hour of an ip-location-db version,
// 2.3.YYYYMMDDHH.
func versionTime(v string) time.Time {
	i := strings.LastIndexByte(v, '.')
	t, err := time.Parse("2006010215", v[i+1:])
	if err != nil {
		return time.Time{}
	}
	return t
}

// PackageVersion returns the version of the npm package pkg installed under
// nodeModules.
func PackageVersion(nodeModules, pkg string) (string, error) {
	b, err := os.ReadFile(filepath.Join(nodeModules, filepath.FromSlash(pkg), "package.json"))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", pkg, ErrNotInstalled)
	}
	if err != nil {
		return "", err
	}
	var p struct{ Version string }
	if err := json.Unmarshal(b, &p); err != nil || p.Version == "" {
		return "", fmt.Errorf("%s: package.json without a version", pkg)
	}
	return p.Version, nil
}

// Build writes CountryFile, ASNFile and NoticeFile into dir (created if
// need be) from the packages under nodeModules, and checks that each
// database opens and answers.
func Build(nodeModules, dir string) (Databases, error) {
	d := Databases{Dir: dir, GeoIP: filepath.Join(dir, CountryFile), ASN: filepath.Join(dir, ASNFile),
		Notice: filepath.Join(dir, NoticeFile)}
	var err error
	if d.CountryVersion, err = PackageVersion(nodeModules, CountryPackage); err != nil {
		return d, err
	}
	if d.ASNVersion, err = PackageVersion(nodeModules, ASNPackage); err != nil {
		return d, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return d, err
	}
	countryPkg := filepath.Join(nodeModules, filepath.FromSlash(CountryPackage))
	asnPkg := filepath.Join(nodeModules, filepath.FromSlash(ASNPackage))
	if err := copyFile(filepath.Join(countryPkg, countrySource), d.GeoIP); err != nil {
		return d, fmt.Errorf("country database: %w", err)
	}
	if err := buildASN(d.ASN, versionTime(d.ASNVersion),
		filepath.Join(asnPkg, asnSourceV4), filepath.Join(asnPkg, asnSourceV6)); err != nil {
		return d, fmt.Errorf("asn database: %w", err)
	}
	if err := writeNotice(d, nodeModules); err != nil {
		return d, err
	}
	return d, check(d)
}

// Cached returns the databases in cacheDir/<versions>, building them there
// first unless a complete build is there already. A build goes to a
// temporary folder renamed into place, so a build cut short is never used.
func Cached(nodeModules, cacheDir string) (Databases, error) {
	cv, err := PackageVersion(nodeModules, CountryPackage)
	if err != nil {
		return Databases{}, err
	}
	av, err := PackageVersion(nodeModules, ASNPackage)
	if err != nil {
		return Databases{}, err
	}
	name := cv
	if av != cv {
		name = "country-" + cv + "_asn-" + av
	}
	dir := filepath.Join(cacheDir, name)
	d := Databases{Dir: dir, GeoIP: filepath.Join(dir, CountryFile), ASN: filepath.Join(dir, ASNFile),
		Notice: filepath.Join(dir, NoticeFile), CountryVersion: cv, ASNVersion: av}
	if _, err := os.Stat(d.Notice); err == nil { // written last
		return d, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return d, err
	}
	tmp, err := os.MkdirTemp(cacheDir, ".build-")
	if err != nil {
		return d, err
	}
	defer os.RemoveAll(tmp)
	if _, err := Build(nodeModules, tmp); err != nil {
		return d, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(d.Notice); statErr == nil {
			return d, nil // another process built it meanwhile
		}
		return d, err
	}
	return d, nil
}

// buildASN converts ip-location-db's ASN CSV files (ip_range_start,
// ip_range_end, autonomous_system_number, autonomous_system_organization;
// inclusive ranges) into a MaxMind-format database at path, dated epoch.
func buildASN(path string, epoch time.Time, csvs ...string) error {
	opts := mmdbwriter.Options{
		DatabaseType: "flowlake-ASN",
		Description: map[string]string{"en": "flowlake's ASN database: " + ASNPackage +
			" (CC BY 4.0: RouteViews, DB-IP, NRO), in GeoLite2-ASN's layout"},
		RecordSize: 24,
		// No IPv4 aliases: ip-location-db has rows of its own in Teredo
		// (2001::/32) and 6to4 (2002::/16); IPv4 lookups go to ::/96 either
		// way, and the enricher unmaps IPv4-mapped addresses.
		DisableIPv4Aliasing:     true,
		IncludeReservedNetworks: true, // the data says what it says; the enricher asks for public addresses only
		KeyGenerator:            asnKeys{},
	}
	if !epoch.IsZero() {
		opts.BuildEpoch = epoch.Unix()
	}
	tree, err := mmdbwriter.New(opts)
	if err != nil {
		return err
	}
	orgs := map[string]mmdbtype.String{}
	for _, name := range csvs {
		if err := insertCSV(tree, name, orgs); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return writeFile(path, buf.Bytes())
}

// insertCSV inserts the ranges of one CSV file into tree.
func insertCSV(tree *mmdbwriter.Tree, name string, orgs map[string]mmdbtype.String) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 4
	r.ReuseRecord = true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		line, _ := r.FieldPos(0)
		start, err1 := netip.ParseAddr(rec[0])
		end, err2 := netip.ParseAddr(rec[1])
		asn, err3 := strconv.ParseUint(rec[2], 10, 32)
		if err := cmp.Or(err1, err2, err3); err != nil || start.Is4() != end.Is4() || end.Less(start) {
			return fmt.Errorf("%s:%d: not a range and an ASN: %q", name, line, rec)
		}
		if asn == 0 {
			continue
		}
		org, ok := orgs[rec[3]]
		if !ok {
			org = mmdbtype.String(strings.Clone(rec[3]))
			orgs[rec[3]] = org
		}
		value := mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(asn)}
		if org != "" {
			value["autonomous_system_organization"] = org
		}
		if err := tree.InsertRange(net.IP(start.AsSlice()), net.IP(end.AsSlice()), value); err != nil {
			return fmt.Errorf("%s:%d: %s-%s: %w", name, line, start, end, err)
		}
	}
}

// asnKeys keys the writer's de-duplication of records by their number and
// organization, in place of hashing each record's encoding.
type asnKeys struct{}

func (asnKeys) Key(v mmdbtype.DataType) ([]byte, error) {
	m, ok := v.(mmdbtype.Map)
	if !ok {
		return nil, fmt.Errorf("asn record %T", v)
	}
	n, _ := m["autonomous_system_number"].(mmdbtype.Uint32)
	o, _ := m["autonomous_system_organization"].(mmdbtype.String)
	return strconv.AppendUint([]byte(o+"\x00"), uint64(n), 10), nil
}

// check opens both databases and looks up one address in each.
func check(d Databases) error {
	for _, path := range []string{d.GeoIP, d.ASN} {
		db, err := maxminddb.Open(path)
		if err != nil {
			return fmt.Errorf("check %s: %w", path, err)
		}
		var v map[string]any
		err = db.Lookup(netip.MustParseAddr("1.1.1.1")).Decode(&v)
		db.Close()
		if err != nil {
			return fmt.Errorf("check %s: %w", path, err)
		}
	}
	return nil
}

// writeNotice writes NoticeFile: what the databases are, where their data
// comes from under which licence, and the packages' licence texts.
func writeNotice(d Databases, nodeModules string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "flowlake's GeoIP and ASN databases\n\n")
	fmt.Fprintf(&b, "%s: %s %s, unchanged (its package: CC0-1.0; data of the NRO, nro.net, under CC BY 4.0).\n",
		CountryFile, CountryPackage, d.CountryVersion)
	fmt.Fprintf(&b, "%s: built by flowlake from %s %s (%s and %s, converted to a MaxMind-format database);\n"+
		"  CC BY 4.0: data of RouteViews (routeviews.org), DB-IP (db-ip.com, IP to ASN Lite) and the NRO (nro.net).\n",
		ASNFile, ASNPackage, d.ASNVersion, asnSourceV4, asnSourceV6)
	fmt.Fprintf(&b, "ip-location-db: https://github.com/sapics/ip-location-db\n"+
		"CC BY 4.0: https://creativecommons.org/licenses/by/4.0/\n")
	for _, pkg := range []string{CountryPackage, ASNPackage} {
		for _, name := range licenceFiles[pkg] {
			text, err := os.ReadFile(filepath.Join(nodeModules, filepath.FromSlash(pkg), name))
			if err != nil {
				return fmt.Errorf("licence of %s: %w", pkg, err)
			}
			fmt.Fprintf(&b, "\n--- %s/%s\n%s\n", pkg, name, bytes.TrimSpace(text))
		}
	}
	return writeFile(d.Notice, []byte(b.String()))
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return writeFile(dst, b)
}

// writeFile writes b to path through a temporary file in its folder.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
