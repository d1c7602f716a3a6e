package compact

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// Object names in a partition-hour's folder. Ingest names its objects
// <source hash>-NNNN.parquet (lake); a generation of compaction writes
// compacted-<generation>-NNNN.parquet and commits them with its manifest,
// _compacted-<generation>.json, which readers never see: Athena skips
// names that begin with '_', and DuckDB reads *.parquet.
var (
	sourceName   = regexp.MustCompile(`^[0-9a-f]{20}-[0-9]{4,}\.parquet$`)
	outputName   = regexp.MustCompile(`^compacted-([0-9a-f]{20})-[0-9]{4}\.parquet$`)
	manifestName = regexp.MustCompile(`^_compacted-([0-9a-f]{20})\.json$`)
)

// OutputName returns the name of a generation's object n (from 0).
func OutputName(gen string, n int) string { return fmt.Sprintf("compacted-%s-%04d.parquet", gen, n) }

// ManifestName returns the name of a generation's manifest.
func ManifestName(gen string) string { return "_compacted-" + gen + ".json" }

// newGeneration returns a new generation id: 20 random hex digits, the
// length of a source hash.
func newGeneration() string {
	var b [10]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ManifestVersion is the version of the manifests this package writes.
const ManifestVersion = 1

// Manifest is the commit record of one generation of a partition-hour:
// the objects it wrote, the objects whose rows they hold (deleted once the
// manifest is committed), and the ledger of every ingest object whose rows
// it holds. A generation exists once its manifest does; until then its
// objects are leftovers of a run that stopped, and the next run deletes
// them.
type Manifest struct {
	Version    int       `json:"version"`
	Generation string    `json:"generation"`
	Partition  string    `json:"partition"` // the partition-hour's folder, for people
	Created    time.Time `json:"created"`
	Rows       int64     `json:"rows"`
	// Objects are the generation's objects, sorted by name.
	Objects []Output `json:"objects"`
	// Replaces are the objects its objects hold the rows of: the previous
	// generation's objects and manifest, and the ingest objects read, with
	// the size and tag (ETag) they had when read. A listed object that
	// still has them is deleted by whichever run finds it; one written
	// again since (another size or tag) is read again.
	Replaces []Replaced `json:"replaces"`
	// Sources is the ledger: the name of every ingest object whose rows
	// the generation holds, with its row count. An ingest object of one of
	// these names written again (a redelivery) replaces those rows.
	Sources map[string]int64 `json:"sources"`
}

// Output is one object of a generation.
type Output struct {
	Name  string `json:"name"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
}

// Replaced is an object whose rows a generation holds.
type Replaced struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	Tag  string `json:"tag,omitempty"`
}

// parseManifest reads a manifest and checks what the compactor relies on.
func parseManifest(b []byte, name string) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", name, err)
	}
	if m.Version != ManifestVersion {
		return nil, fmt.Errorf("manifest %s: version %d; this compactor reads version %d", name, m.Version, ManifestVersion)
	}
	if ManifestName(m.Generation) != name {
		return nil, fmt.Errorf("manifest %s: generation %q does not match its name", name, m.Generation)
	}
	for _, o := range m.Objects {
		if g := outputName.FindStringSubmatch(o.Name); g == nil || g[1] != m.Generation {
			return nil, fmt.Errorf("manifest %s: object %q is not of its generation", name, o.Name)
		}
	}
	return &m, nil
}
