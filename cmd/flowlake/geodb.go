package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/flowlake/flowlake/shared/enrich/geodb"
)

// The CLI's default GeoIP and ASN databases are the ones the stack ships
// (package geodb): built from the npm packages package-lock.json pins, once,
// into .cache/geodb/<version> of the repository. The packages come from
// npm ci, run on first use as the tests run it: under an exclusive lock on
// .cache/npm.lock, so that runs and test binaries at once never install
// over each other.

// errNoRepository is returned outside a checkout: the databases are built
// from the repository's pinned packages.
var errNoRepository = errors.New("no package-lock.json at or above the working directory: " +
	"flowlake's GeoIP and ASN databases are built from the repository's npm packages (run from the repository, or give --geoip and --asn)")

var defaultDBs struct {
	once sync.Once
	d    geodb.Databases
	err  error
}

// defaultDatabases returns flowlake's open GeoIP and ASN databases,
// installing and building them on first use (reported to progress).
func defaultDatabases(progress io.Writer) (geodb.Databases, error) {
	defaultDBs.once.Do(func() {
		defaultDBs.d, defaultDBs.err = buildDefaultDatabases(progress)
	})
	return defaultDBs.d, defaultDBs.err
}

func buildDefaultDatabases(progress io.Writer) (geodb.Databases, error) {
	root, err := npmRoot()
	if err != nil {
		return geodb.Databases{}, err
	}
	nm, err := nodeModules(root, progress, geodb.CountryPackage, geodb.ASNPackage)
	if err != nil {
		return geodb.Databases{}, err
	}
	cache := filepath.Join(root, ".cache", "geodb")
	v, err := geodb.PackageVersion(nm, geodb.ASNPackage)
	if err != nil {
		return geodb.Databases{}, err
	}
	if _, err := os.Stat(filepath.Join(cache, v, geodb.NoticeFile)); err != nil {
		fmt.Fprintf(progress, "building flowlake's GeoIP and ASN databases from %s and %s %s (once) ...\n",
			geodb.CountryPackage, geodb.ASNPackage, v)
	}
	d, err := geodb.Cached(nm, cache)
	if err != nil {
		return d, fmt.Errorf("GeoIP and ASN databases: %w", err)
	}
	return d, nil
}

// npmRoot returns the folder at or above the working directory that holds
// package-lock.json: the repository's root.
func npmRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "package-lock.json")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errNoRepository
		}
		dir = parent
	}
}

// nodeModules returns root/node_modules once every package of pkgs is in
// it, running npm ci (the lockfile's exact versions) in root when one is
// missing.
func nodeModules(root string, progress io.Writer, pkgs ...string) (string, error) {
	nm := filepath.Join(root, "node_modules")
	installed := func() bool {
		for _, p := range pkgs {
			if _, err := os.Stat(filepath.Join(nm, filepath.FromSlash(p), "package.json")); err != nil {
				return false
			}
		}
		return true
	}
	if installed() {
		return nm, nil
	}
	if err := os.MkdirAll(filepath.Join(root, ".cache"), 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(root, ".cache", "npm.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if installed() {
		return nm, nil // another process installed them while we waited
	}
	fmt.Fprintf(progress, "installing the npm packages of package-lock.json (npm ci, once) ...\n")
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci: %w\n%s", err, out)
	}
	if !installed() {
		return "", fmt.Errorf("npm ci did not install %v", pkgs)
	}
	return nm, nil
}
