package lake_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
	parquetgo "github.com/parquet-go/parquet-go"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/enrich/enrichtest"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/flowlog"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// The page index tests read the lake with arrow-go, a Parquet
// implementation other than the one that writes it, the way Athena (Trino)
// reads it: each page's bounds from the column index, each page's rows from
// the offset index. DuckDB ignores both, so no other test sees a wrong
// bound.

// indexLakeRecords is the size of the generated corpus: one account and
// one hour, so that its object holds several row groups of the converter's
// default 128 Ki rows, and each column chunk several pages.
const indexLakeRecords = 300_000

// indexLakeOldRecords is how many of its records are also written with the
// old writer options, to show that the checks fail on them.
const indexLakeOldRecords = 100_000

// indexLake is a lake written for the page index tests: its Parquet
// objects, read into memory.
type indexLake struct {
	files map[string][]byte // by key
}

var (
	indexLakesOnce sync.Once
	indexLakes     map[string]*indexLake
	indexLakesErr  error
)

// Names of the lakes of indexLakesFor.
const (
	lakeProduct = "product"          // written by pipeline.Pipeline.Process
	lakeOld     = "skip-page-bounds" // its first records, with the writer options of before the fix
)

// indexLakesFor returns the lakes of the page index tests, built once per
// test binary.
func indexLakesFor(t *testing.T) map[string]*indexLake {
	t.Helper()
	indexLakesOnce.Do(func() { indexLakes, indexLakesErr = buildIndexLakes(context.Background()) })
	if indexLakesErr != nil {
		t.Fatal(indexLakesErr)
	}
	return indexLakes
}

// buildIndexLakes generates a rich-format corpus of the "all" scenario and
// writes it through the ingest pipeline with every enrichment source:
// ip-ranges, a MaxMind database and EC2 (a loopback server that knows most
// of the corpus's interfaces, with security groups, tags and descriptions).
// It also writes the first indexLakeOldRecords records with
// lake.SkipPageBoundsOptions, as the writer did before the fix.
func buildIndexLakes(ctx context.Context) (map[string]*indexLake, error) {
	dir, err := os.MkdirTemp("", "flowlake-pageindex-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)

	cfg := flowgen.Config{Seed: 7, Records: indexLakeRecords, Format: flowgen.RichFormat(), Header: true, Accounts: 1}
	sc, err := flowgen.NewScenario(cfg, "all")
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	var corpus bytes.Buffer
	if _, err := flowgen.WriteScenario(&corpus, cfg, "all"); err != nil {
		return nil, fmt.Errorf("generate corpus: %w", err)
	}

	srv := enrichtest.NewEC2Server(indexLakeENIs(sc.Estate())...)
	defer srv.Close()
	ranges := filepath.Join(dir, "ip-ranges.json")
	if err := enrich.WriteIPRangesFile(ranges, indexLakeRanges()); err != nil {
		return nil, fmt.Errorf("ip-ranges: %w", err)
	}
	mmdb := filepath.Join(dir, "geo.mmdb")
	if err := enrichtest.WriteMMDB(mmdb, indexLakeNetworks()...); err != nil {
		return nil, fmt.Errorf("mmdb: %w", err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := enrich.New(ctx, enrich.Config{
		IPRanges: enrich.FileSource{Path: ranges}, GeoIPPath: mmdb, ASNPath: mmdb,
		EC2: srv.Client(), Logger: quiet,
	})
	if err != nil {
		return nil, fmt.Errorf("enricher: %w", err)
	}
	defer e.Close()

	root := filepath.Join(dir, lakeProduct)
	p := &pipeline.Pipeline{Store: lake.DirStore{Root: root}, Enricher: e, Log: quiet}
	res, err := p.Process(ctx, lake.Source{ID: "pageindex-test"}, flowlog.NewReader(bytes.NewReader(corpus.Bytes())))
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if res.Rejected != 0 || res.Records < indexLakeRecords {
		return nil, fmt.Errorf("pipeline wrote %d records and rejected %d lines; want at least %d and none", res.Records, res.Rejected, indexLakeRecords)
	}
	if res.Enrichment.Records == 0 {
		return nil, errors.New("pipeline enriched no record")
	}
	product, err := readLake(root)
	if err != nil {
		return nil, err
	}

	// The old writer, on the same records and enrichment.
	r := flowlog.NewReader(bytes.NewReader(corpus.Bytes()))
	recs := make([]flowlog.Record, 0, indexLakeOldRecords)
	for len(recs) < indexLakeOldRecords {
		var rec flowlog.Record
		if err := r.ReadInto(&rec); err != nil {
			return nil, fmt.Errorf("read corpus: %w", err)
		}
		recs = append(recs, rec)
	}
	en := &lake.TestEnrichment{Enricher: e}
	s := en.Schema()
	var old bytes.Buffer
	if err := lake.WriteReferenceObject(ctx, &old, s, flowgen.RichFormat().Set(), recs, en.Hook, lake.SkipPageBoundsOptions(s)...); err != nil {
		return nil, fmt.Errorf("old writer: %w", err)
	}
	return map[string]*indexLake{
		lakeProduct: product,
		lakeOld:     {files: map[string][]byte{"old.parquet": old.Bytes()}},
	}, nil
}

// readLake reads every Parquet object under root.
func readLake(root string) (*indexLake, error) {
	l := &indexLake{files: map[string][]byte{}}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		l.files[rel] = b
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read lake: %w", err)
	}
	if len(l.files) == 0 {
		return nil, fmt.Errorf("read lake: no object under %s", root)
	}
	return l, nil
}

// indexLakeENIs describes the estate's interfaces as EC2 would, except
// every seventh, which EC2 no longer knows (its eni_* columns are NULL).
// Descriptions, security groups and tags vary in count and length, some
// are empty, and some are longer than 64 bytes or not ASCII (bounds compare
// bytes unsigned).
func indexLakeENIs(est *flowgen.Estate) []enrich.ENI {
	types := []string{"interface", "natGateway", "lambda", "vpc_endpoint", "network_load_balancer"}
	descs := []string{"", "Primary network interface", "ELB app/prod-web/50dc6c495c0c9188",
		"AWS Lambda VPC ENI-orders-service-processor-" + strings.Repeat("x", 40) + "-1f2e3d4c",
		"Interface for NAT Gateway nat-0f1e2d3c4b5a69788", "réseau privé — 東京"}
	var enis []enrich.ENI
	for i, n := range est.ENIs {
		if i%7 == 6 {
			continue
		}
		eni := enrich.ENI{
			ID: n.ID, InstanceID: n.InstanceID, Type: types[i%len(types)], VPCID: n.VPCID, SubnetID: n.SubnetID,
			Description: descs[i%len(descs)], Addrs: []netip.Addr{n.Addr, n.Addr6},
		}
		for j := range i % 4 {
			eni.SecurityGroupIDs = append(eni.SecurityGroupIDs, fmt.Sprintf("sg-%017x", 0x0a1b2c3d4e5f6070+i*16+j))
		}
		if i%5 != 0 {
			eni.Tags = map[string]string{"Name": fmt.Sprintf("web-%02d", i), "env": []string{"prod", "staging", "dev"}[i%3]}
			if i%2 == 1 {
				eni.Tags["team"] = "équipe-réseau"
				eni.Tags["aws:cloudformation:stack-id"] = fmt.Sprintf("arn:aws:cloudformation:us-east-1:%s:stack/web-%d/%08x-1234-5678-9abc-def012345678", n.AccountID, i, i)
			}
		}
		enis = append(enis, eni)
	}
	return enis
}

// indexLakeRanges is an ip-ranges.json with a few hundred prefixes over the
// public space the corpus talks to.
func indexLakeRanges() *enrich.IPRanges {
	doc := &enrich.IPRanges{SyncToken: "1", CreateDate: "2026-11-01-00-00-00"}
	services := []string{"AMAZON", "EC2", "S3", "CLOUDFRONT", "ROUTE53", "DYNAMODB"}
	regions := []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "GLOBAL"}
	for i := range 400 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(3 + i%60), byte(i * 37 % 256), 0, 0}), 16)
		doc.Prefixes = append(doc.Prefixes, enrich.IPPrefix{IPPrefix: p.String(), Region: regions[i%len(regions)], Service: services[i%len(services)]})
	}
	doc.Prefixes = append(doc.Prefixes,
		enrich.IPPrefix{IPPrefix: "52.216.0.0/15", Region: "us-east-1", Service: "S3"},
		enrich.IPPrefix{IPPrefix: "3.5.0.0/19", Region: "us-east-1", Service: "S3"})
	doc.IPv6Prefixes = append(doc.IPv6Prefixes, enrich.IPv6Prefix{IPv6Prefix: "2600:1f00::/24", Region: "us-east-1", Service: "AMAZON"})
	return doc
}

// indexLakeNetworks is a MaxMind database with a country and an AS for
// every public /8.
func indexLakeNetworks() []enrichtest.Network {
	countries := []string{"US", "DE", "FR", "JP", "BR", "IN", "NL", "GB", "SG", "ZA"}
	var nets []enrichtest.Network
	for o := 1; o < 224; o++ {
		if o == 10 || o == 127 {
			continue
		}
		nets = append(nets, enrichtest.Network{
			Prefix:  netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(o)}), 8),
			Country: countries[o%len(countries)], ASN: uint32(64500 + o),
			Org: fmt.Sprintf("Example Networks %d — AS%d", o, 64500+o),
		})
	}
	nets = append(nets, enrichtest.Network{Prefix: netip.MustParsePrefix("2000::/3"), Country: "US", ASN: 16509, Org: "AMAZON-02"})
	return nets
}

// chunk is one column chunk as arrow-go reads it: its page index, its
// statistics, its levels and values, and its physical pages.
type chunk struct {
	where    string // object, row group and column path, for messages
	path     string // the leaf's dotted path, such as eni_tags.key_value.key
	name     string // the table column (the path's first element)
	phys     parquet.Type
	unsigned bool // integers in unsigned order (strings always are)
	maxDef   int16
	maxRep   int16
	numRows  int64
	def, rep []int16 // one per level; rep is nil when maxRep is 0
	vals     keys    // one per level whose def is maxDef
	colIndex metadata.ColumnIndex
	// firstRows are the offset index's first row of each page.
	firstRows []int64
	// pageLevels are the levels of each physical data page, in order.
	pageLevels []int
	stats      metadata.TypedStatistics // nil: none
}

// keys holds byte strings that compare, bytewise and unsigned, in the
// column's sort order: strings as they are, integers as 8 big-endian bytes
// (with the sign bit flipped for signed order).
type keys struct {
	arena []byte
	ends  []int
}

func (k *keys) add(b []byte) {
	k.arena = append(k.arena, b...)
	k.ends = append(k.ends, len(k.arena))
}

func (k *keys) addInt(v int64, unsigned bool) {
	k.arena = appendIntKey(k.arena, v, unsigned)
	k.ends = append(k.ends, len(k.arena))
}

func (k *keys) len() int { return len(k.ends) }

func (k *keys) at(i int) []byte {
	start := 0
	if i > 0 {
		start = k.ends[i-1]
	}
	return k.arena[start:k.ends[i]:k.ends[i]]
}

func appendIntKey(dst []byte, v int64, unsigned bool) []byte {
	u := uint64(v)
	if !unsigned {
		u ^= 1 << 63
	}
	return binary.BigEndian.AppendUint64(dst, u)
}

// boundKey turns a plain-encoded bound (a column index min or max, or a
// chunk statistic) into a key.
func (c *chunk) boundKey(b []byte) ([]byte, error) {
	switch c.phys {
	case parquet.Types.Int32:
		if len(b) != 4 {
			return nil, fmt.Errorf("INT32 bound of %d bytes", len(b))
		}
		v := int64(int32(binary.LittleEndian.Uint32(b)))
		if c.unsigned {
			v = int64(uint32(v))
		}
		return appendIntKey(nil, v, c.unsigned), nil
	case parquet.Types.Int64:
		if len(b) != 8 {
			return nil, fmt.Errorf("INT64 bound of %d bytes", len(b))
		}
		return appendIntKey(nil, int64(binary.LittleEndian.Uint64(b)), c.unsigned), nil
	case parquet.Types.ByteArray:
		return b, nil
	}
	return nil, fmt.Errorf("no bounds check for physical type %s", c.phys)
}

// show renders a key for a message.
func (c *chunk) show(k []byte) string {
	if c.phys == parquet.Types.ByteArray {
		return strconv.Quote(string(k))
	}
	if len(k) != 8 {
		return fmt.Sprintf("%x", k)
	}
	u := binary.BigEndian.Uint64(k)
	if c.unsigned {
		return strconv.FormatUint(u, 10)
	}
	return strconv.FormatInt(int64(u^1<<63), 10)
}

// forEachChunk reads every column chunk of every object of l with arrow-go
// and calls fn with it; only the columns want accepts (by table column
// name) are read, all of them when want is nil.
func forEachChunk(l *indexLake, want func(name string) bool, fn func(*chunk) error) error {
	for _, key := range slices.Sorted(maps.Keys(l.files)) {
		f, err := file.NewParquetReader(bytes.NewReader(l.files[key]))
		if err != nil {
			return fmt.Errorf("open %s: %w", key, err)
		}
		if err := forEachChunkOf(key, f, want, fn); err != nil {
			return err
		}
	}
	return nil
}

func forEachChunkOf(key string, f *file.Reader, want func(string) bool, fn func(*chunk) error) error {
	sch := f.MetaData().Schema
	for rgi := range f.NumRowGroups() {
		rg := f.RowGroup(rgi)
		pir, err := f.GetPageIndexReader().RowGroup(rgi)
		if err != nil {
			return fmt.Errorf("%s row group %d: page index: %w", key, rgi, err)
		}
		for ci := range sch.NumColumns() {
			descr := sch.Column(ci)
			name := descr.ColumnPath()[0]
			if want != nil && !want(name) {
				continue
			}
			c := &chunk{
				where:  fmt.Sprintf("%s row group %d column %s", key, rgi, descr.Path()),
				path:   descr.Path(),
				name:   name,
				phys:   descr.PhysicalType(),
				maxDef: descr.MaxDefinitionLevel(), maxRep: descr.MaxRepetitionLevel(),
				numRows: rg.NumRows(),
			}
			switch descr.SortOrder() {
			case schema.SortUNSIGNED:
				c.unsigned = c.phys != parquet.Types.ByteArray
			case schema.SortSIGNED:
				if c.phys == parquet.Types.ByteArray {
					return fmt.Errorf("%s: a string column in signed order", c.where)
				}
			default:
				return fmt.Errorf("%s: no sort order, so readers ignore its bounds", c.where)
			}
			if err := c.read(rg, pir, ci); err != nil {
				return fmt.Errorf("%s: %w", c.where, err)
			}
			if err := fn(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// read fills c from column ci of row group rg: index, statistics, physical
// pages, then levels and values.
func (c *chunk) read(rg *file.RowGroupReader, pir *metadata.RowGroupPageIndexReader, ci int) error {
	var err error
	if c.colIndex, err = pir.GetColumnIndex(ci); err != nil {
		return fmt.Errorf("column index: %w", err)
	}
	oi, err := pir.GetOffsetIndex(ci)
	if err != nil {
		return fmt.Errorf("offset index: %w", err)
	}
	if oi != nil {
		for _, loc := range oi.GetPageLocations() {
			c.firstRows = append(c.firstRows, loc.FirstRowIndex)
		}
	}
	md, err := rg.MetaData().ColumnChunk(ci)
	if err != nil {
		return fmt.Errorf("chunk metadata: %w", err)
	}
	if c.stats, err = md.Statistics(); err != nil {
		return fmt.Errorf("chunk statistics: %w", err)
	}

	pr, err := rg.GetColumnPageReader(ci)
	if err != nil {
		return fmt.Errorf("page reader: %w", err)
	}
	for pr.Next() {
		switch p := pr.Page().(type) {
		case *file.DataPageV1:
			c.pageLevels = append(c.pageLevels, int(p.NumValues()))
		case *file.DataPageV2:
			c.pageLevels = append(c.pageLevels, int(p.NumValues()))
		}
	}
	if err := pr.Err(); err != nil {
		return fmt.Errorf("pages: %w", err)
	}

	if c.maxDef == 0 {
		return errors.New("a required column: the lake writes every column optional")
	}
	cr, err := rg.Column(ci)
	if err != nil {
		return fmt.Errorf("column reader: %w", err)
	}
	// Batches within a page: the values of a page of plain strings point
	// into its buffer, which the next page reuses; they are copied before.
	const batch = 4096
	def, rep := make([]int16, batch), make([]int16, batch)
	levels := func(n int64) {
		c.def = append(c.def, def[:n]...)
		if c.maxRep > 0 {
			c.rep = append(c.rep, rep[:n]...)
		}
	}
	switch r := cr.(type) {
	case *file.Int32ColumnChunkReader:
		vals := make([]int32, batch)
		for r.HasNext() {
			n, m, err := r.ReadBatchInPage(batch, vals, def, rep)
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			levels(n)
			for _, v := range vals[:m] {
				x := int64(v)
				if c.unsigned {
					x = int64(uint32(v))
				}
				c.vals.addInt(x, c.unsigned)
			}
		}
	case *file.Int64ColumnChunkReader:
		vals := make([]int64, batch)
		for r.HasNext() {
			n, m, err := r.ReadBatchInPage(batch, vals, def, rep)
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			levels(n)
			for _, v := range vals[:m] {
				c.vals.addInt(v, c.unsigned)
			}
		}
	case *file.ByteArrayColumnChunkReader:
		vals := make([]parquet.ByteArray, batch)
		for r.HasNext() {
			n, m, err := r.ReadBatchInPage(batch, vals, def, rep)
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			levels(n)
			for _, v := range vals[:m] {
				c.vals.add(v)
			}
		}
	default:
		return fmt.Errorf("no check for a %T", cr)
	}
	return nil
}

// pageOf maps each level of c to its page by the offset index, the way a
// reader that skips pages does: a level belongs to the row it is in (a
// repetition level of 0 starts a row), a row to the last page whose first
// row is at or before it. It returns the page of each level and each
// level's row, or a problem with the offset index.
func (c *chunk) pageOf() (pages, rows []int, problems []string) {
	n := len(c.firstRows)
	if n == 0 {
		return nil, nil, []string{"no offset index"}
	}
	if c.firstRows[0] != 0 {
		problems = append(problems, fmt.Sprintf("first page starts at row %d, not 0", c.firstRows[0]))
	}
	for p := 1; p < n; p++ {
		if c.firstRows[p] <= c.firstRows[p-1] || c.firstRows[p] >= c.numRows {
			problems = append(problems, fmt.Sprintf("page %d starts at row %d after row %d, of %d rows", p, c.firstRows[p], c.firstRows[p-1], c.numRows))
		}
	}
	pages, rows = make([]int, len(c.def)), make([]int, len(c.def))
	row, page := -1, 0
	for i := range c.def {
		if c.maxRep == 0 || c.rep[i] == 0 {
			row++
			for page+1 < n && int64(row) >= c.firstRows[page+1] {
				page++
			}
		} else if i == 0 {
			problems = append(problems, "the first level continues a row")
			row = 0
		}
		pages[i], rows[i] = page, row
	}
	if int64(row+1) != c.numRows {
		problems = append(problems, fmt.Sprintf("%d rows in the levels, %d in the row group", row+1, c.numRows))
	}
	// The physical pages must begin where the offset index says.
	if len(c.pageLevels) != n {
		problems = append(problems, fmt.Sprintf("%d data pages, %d in the offset index", len(c.pageLevels), n))
		return pages, rows, problems
	}
	start := 0
	for p, nl := range c.pageLevels {
		if start >= len(c.def) {
			problems = append(problems, fmt.Sprintf("page %d starts after the last level", p))
			break
		}
		if c.maxRep > 0 && c.rep[start] != 0 {
			problems = append(problems, fmt.Sprintf("page %d starts inside a row", p))
		} else if int64(rows[start]) != c.firstRows[p] {
			problems = append(problems, fmt.Sprintf("page %d starts at row %d, the offset index says %d", p, rows[start], c.firstRows[p]))
		}
		start += nl
	}
	if start != len(c.def) {
		problems = append(problems, fmt.Sprintf("the data pages hold %d levels, the chunk %d", start, len(c.def)))
	}
	return pages, rows, problems
}

// boundsReport is what checkBounds found over a lake.
type boundsReport struct {
	chunks     int
	pages      int // non-null pages whose bounds were checked against their values
	nullPages  int // pages marked null, checked to hold only nulls
	values     int
	noIndex    []string // chunks without a column index (valid, but Athena cannot prune them)
	violations []string
}

func (r *boundsReport) violate(c *chunk, format string, args ...any) {
	r.violations = append(r.violations, c.where+": "+fmt.Sprintf(format, args...))
}

// checkBounds checks a chunk's column index, offset index and statistics
// against its values: every page not marked null has min <= every value
// <= max in the column's sort order and holds a value, every page marked
// null holds only nulls, null counts are right, the boundary order holds,
// and the chunk's min and max bound all its values.
func (r *boundsReport) checkBounds(c *chunk) {
	r.chunks++
	nvals := c.vals.len()
	r.values += nvals
	nulls := 0
	for _, d := range c.def {
		if d < c.maxDef {
			nulls++
		}
	}
	if nulls+nvals != len(c.def) {
		r.violate(c, "%d levels but %d values and %d nulls", len(c.def), nvals, nulls)
		return
	}
	r.checkStats(c, nulls)

	if c.colIndex == nil {
		r.noIndex = append(r.noIndex, c.where)
		return
	}
	nullPages, mins, maxs := c.colIndex.GetNullPages(), c.colIndex.GetMinValues(), c.colIndex.GetMaxValues()
	n := len(nullPages)
	if len(mins) != n || len(maxs) != n || len(c.firstRows) != n {
		r.violate(c, "%d null_pages, %d min_values, %d max_values, %d offset index pages", n, len(mins), len(maxs), len(c.firstRows))
		return
	}
	pages, _, problems := c.pageOf()
	for _, p := range problems {
		r.violate(c, "offset index: %s", p)
	}
	if len(problems) > 0 {
		return
	}
	lo, hi := make([][]byte, n), make([][]byte, n)
	for p := range n {
		if nullPages[p] {
			continue
		}
		var err error
		if lo[p], err = c.boundKey(mins[p]); err == nil {
			hi[p], err = c.boundKey(maxs[p])
		}
		if err != nil {
			r.violate(c, "page %d: %v", p, err)
			return
		}
		if bytes.Compare(lo[p], hi[p]) > 0 {
			r.violate(c, "page %d: min %s > max %s", p, c.show(lo[p]), c.show(hi[p]))
		}
	}
	pageVals, pageNulls := make([]int, n), make([]int64, n)
	bad := make([]int, n) // values out of bounds, per page
	v := 0
	for i, d := range c.def {
		p := pages[i]
		if d < c.maxDef {
			pageNulls[p]++
			continue
		}
		k := c.vals.at(v)
		v++
		pageVals[p]++
		if nullPages[p] {
			continue
		}
		if bytes.Compare(k, lo[p]) < 0 || bytes.Compare(k, hi[p]) > 0 {
			if bad[p] == 0 {
				r.violate(c, "page %d: value %s outside [%s, %s]", p, c.show(k), c.show(lo[p]), c.show(hi[p]))
			}
			bad[p]++
		}
	}
	counts := c.colIndex.GetNullCounts()
	for p := range n {
		switch {
		case nullPages[p]:
			r.nullPages++
			if pageVals[p] > 0 {
				r.violate(c, "page %d is marked null but holds %d values", p, pageVals[p])
			}
		case pageVals[p] == 0:
			r.violate(c, "page %d is not marked null but holds no value", p)
		default:
			r.pages++
			if bad[p] > 1 {
				r.violate(c, "page %d: %d values in all outside its bounds", p, bad[p])
			}
		}
		if c.colIndex.IsSetNullCounts() && counts[p] != pageNulls[p] {
			r.violate(c, "page %d: null count %d, the page holds %d nulls", p, counts[p], pageNulls[p])
		}
	}
	r.checkOrder(c, nullPages, lo, hi)
}

// checkOrder checks that the bounds of the pages not marked null are
// sorted as the column index's boundary order says: readers search an
// ordered index instead of testing every page.
func (r *boundsReport) checkOrder(c *chunk, nullPages []bool, lo, hi [][]byte) {
	want := 0
	switch c.colIndex.GetBoundaryOrder() {
	case metadata.Ascending:
		want = 1
	case metadata.Descending:
		want = -1
	default:
		return
	}
	prev := -1
	for p := range nullPages {
		if nullPages[p] {
			continue
		}
		if prev >= 0 && (bytes.Compare(lo[p], lo[prev])*want < 0 || bytes.Compare(hi[p], hi[prev])*want < 0) {
			r.violate(c, "pages %d and %d out of the boundary order %s", prev, p, c.colIndex.GetBoundaryOrder())
		}
		prev = p
	}
}

// checkStats checks the chunk's statistics (Athena skips row groups by
// them): min and max bound every value, and the null count is right.
func (r *boundsReport) checkStats(c *chunk, nulls int) {
	st := c.stats
	if st == nil {
		return
	}
	if st.HasNullCount() && st.NullCount() != int64(nulls) {
		r.violate(c, "chunk null count %d, the chunk holds %d nulls", st.NullCount(), nulls)
	}
	if !st.HasMinMax() {
		return
	}
	if c.vals.len() == 0 {
		r.violate(c, "chunk statistics have bounds but the chunk holds no value")
		return
	}
	lo, err := c.boundKey(st.EncodeMin())
	var hi []byte
	if err == nil {
		hi, err = c.boundKey(st.EncodeMax())
	}
	if err != nil {
		r.violate(c, "chunk statistics: %v", err)
		return
	}
	for i := range c.vals.len() {
		if k := c.vals.at(i); bytes.Compare(k, lo) < 0 || bytes.Compare(k, hi) > 0 {
			r.violate(c, "chunk statistics: value %s outside [%s, %s]", c.show(k), c.show(lo), c.show(hi))
			return
		}
	}
}

// TestPageIndexBounds proves that every page the lake's objects hold has
// bounds a reader may prune by: read with arrow-go, each page not marked
// null has a column-index min and max that bound every value in its rows,
// in the column's sort order (signed integers, unsigned bytes), for every
// column, the list and map leaves included (their pages are cut at row
// boundaries and counted in rows, their values in levels); each page
// marked null holds only nulls; the offset index matches the physical
// pages. The lake is written by the ingest pipeline, enriched. The same
// checks must fail on what the writer wrote before the fix
// (parquet.SkipPageBounds on the string columns).
func TestPageIndexBounds(t *testing.T) {
	lakes := indexLakesFor(t)
	tests := []struct {
		lake      string
		wantValid bool
	}{
		{lakeProduct, true},
		{lakeOld, false},
	}
	for _, tt := range tests {
		t.Run(tt.lake, func(t *testing.T) {
			var rep boundsReport
			multiPage, leaves := 0, map[string]bool{}
			err := forEachChunk(lakes[tt.lake], nil, func(c *chunk) error {
				rep.checkBounds(c)
				leaves[c.path] = true
				if len(c.firstRows) > 1 {
					multiPage++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d objects, %d column chunks of %d leaf columns (%d with several pages), %d values; bounds checked on %d pages, %d pages marked null checked to hold only nulls",
				tt.lake, len(lakes[tt.lake].files), rep.chunks, len(leaves), multiPage, rep.values, rep.pages, rep.nullPages)
			if !tt.wantValid {
				if len(rep.violations) == 0 {
					t.Fatal("no violation found in what SkipPageBounds writes")
				}
				t.Logf("%d violations, such as: %s", len(rep.violations), rep.violations[0])
				return
			}
			reportViolations(t, rep.violations)
			for _, w := range rep.noIndex {
				t.Errorf("%s: no column index, so Athena reads all its pages", w)
			}
			for _, leaf := range []string{"action", "start", "start_time", "tcp_flag_names.list.element", "src_aws_service",
				"dst_country", "dst_asn", "dst_as_org", "eni_description", "eni_security_group_ids.list.element",
				"eni_tags.key_value.key", "eni_tags.key_value.value"} {
				if !leaves[leaf] {
					t.Errorf("column %s not in the lake; want it checked", leaf)
				}
			}
			if multiPage*2 < rep.chunks {
				t.Errorf("%d of %d chunks have several pages; want most", multiPage, rep.chunks)
			}
		})
	}
}

// TestPageIndexLongStrings proves that the column index bounds a string
// longer than parquet-go's default bound size (16 bytes): the lake writes
// exact bounds, whereas parquet-go's cut max is less than the value when
// the bytes it keeps are all 0xFF (it cannot increment them), which a
// reader would prune wrongly. The ASCII case is cut correctly either way.
func TestPageIndexLongStrings(t *testing.T) {
	fm, err := flowlog.ParseFormat(flowlog.DefaultFormat)
	if err != nil {
		t.Fatal(err)
	}
	cut16 := parquet16Bytes()
	tests := []struct {
		name      string
		id        string // interface-id of the records, after a shorter one
		opts      []parquetgo.WriterOption
		wantValid bool
	}{
		{"ascii", "eni-0123456789abcdef-" + strings.Repeat("z", 40), nil, true},
		{"ascii cut to 16 bytes", "eni-0123456789abcdef-" + strings.Repeat("z", 40), cut16, true},
		{"0xff", strings.Repeat("\xff", 20) + "a", nil, true},
		{"0xff cut to 16 bytes", strings.Repeat("\xff", 20) + "a", cut16, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var text strings.Builder
			text.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
			for i, id := range []string{"eni-1", tt.id, "eni-2"} {
				fmt.Fprintf(&text, "2 123456789010 %s 10.0.0.%d 10.0.1.1 443 5%03d 6 10 840 1795478400 1795478460 ACCEPT OK\n", id, i, i)
			}
			r := flowlog.NewReader(strings.NewReader(text.String()))
			var recs []flowlog.Record
			for {
				var rec flowlog.Record
				if err := r.ReadInto(&rec); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, rec)
			}
			if len(recs) != 3 || recs[1].InterfaceID != tt.id {
				t.Fatalf("read %d records, the second with interface-id %q; want 3, %q", len(recs), recs[1].InterfaceID, tt.id)
			}
			var obj bytes.Buffer
			noHook := func(context.Context, []flowlog.Record) error { return nil }
			// The lake's writer, or parquet-go's with the options.
			write := lake.WriteObject
			if tt.opts != nil {
				write = func(ctx context.Context, w io.Writer, s *lake.Schema, fields flowlog.FieldSet, recs []flowlog.Record,
					run func(context.Context, []flowlog.Record) error) error {
					return lake.WriteReferenceObject(ctx, w, s, fields, recs, run, tt.opts...)
				}
			}
			if err := write(context.Background(), &obj, lake.DefaultSchema, fm.Set(), recs, noHook); err != nil {
				t.Fatal(err)
			}
			var rep boundsReport
			l := &indexLake{files: map[string][]byte{"long.parquet": obj.Bytes()}}
			if err := forEachChunk(l, func(name string) bool { return name == "interface_id" }, func(c *chunk) error {
				rep.checkBounds(c)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if rep.pages != 1 {
				t.Fatalf("%d pages checked; want 1", rep.pages)
			}
			if got := len(rep.violations) == 0; got != tt.wantValid {
				t.Errorf("bounds valid: %v, want %v; violations: %q", got, tt.wantValid, rep.violations)
			} else if !got {
				t.Logf("as expected: %s", rep.violations[0])
			}
		})
	}
}

// parquet16Bytes is the writer option that cuts column index bounds to
// parquet-go's default of 16 bytes.
func parquet16Bytes() []parquetgo.WriterOption {
	return []parquetgo.WriterOption{parquetgo.ColumnIndexSizeLimit(func([]string) int { return parquetgo.DefaultColumnIndexSizeLimit })}
}

// reportViolations fails the test with the first 20 violations and the
// count of the rest.
func reportViolations(t *testing.T, vs []string) {
	t.Helper()
	for i, v := range vs {
		if i == 20 {
			t.Errorf("... and %d more", len(vs)-i)
			break
		}
		t.Error(v)
	}
}
