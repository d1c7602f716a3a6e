package lake_test

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet"

	"github.com/flowlake/flowlake/shared/detect"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/queries"
)

// sqlTok is a token of the SQL the extractor reads.
type sqlTok struct {
	kind byte   // 'i' identifier or keyword, 's' string literal, 'n' number, 'p' punctuation or operator
	text string // identifiers lower-cased, literals unquoted
}

// is reports whether t is the keyword or punctuation s.
func (t sqlTok) is(s string) bool {
	if t.kind == 'i' {
		return strings.EqualFold(t.text, s)
	}
	return t.kind == 'p' && t.text == s
}

// tokenize splits SQL into tokens; it knows quoted strings and identifiers,
// numbers and the comparison operators, which is all the extractor needs.
func tokenize(sql string) []sqlTok {
	var ts []sqlTok
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for j < len(sql) {
				if sql[j] == c {
					if j+1 < len(sql) && sql[j+1] == c {
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				b.WriteByte(sql[j])
				j++
			}
			if c == '"' {
				ts = append(ts, sqlTok{'i', strings.ToLower(b.String())})
			} else {
				ts = append(ts, sqlTok{'s', b.String()})
			}
			i = j + 1
		case c == '_' || 'a' <= c|0x20 && c|0x20 <= 'z':
			j := i
			for j < len(sql) && (sql[j] == '_' || 'a' <= sql[j]|0x20 && sql[j]|0x20 <= 'z' || '0' <= sql[j] && sql[j] <= '9') {
				j++
			}
			ts = append(ts, sqlTok{'i', strings.ToLower(sql[i:j])})
			i = j
		case '0' <= c && c <= '9':
			j := i
			for j < len(sql) && ('0' <= sql[j] && sql[j] <= '9' || sql[j] == '.') {
				j++
			}
			ts = append(ts, sqlTok{'n', sql[i:j]})
			i = j
		default:
			n := 1
			if i+1 < len(sql) {
				switch sql[i : i+2] {
				case "<>", "!=", ">=", "<=", "||":
					n = 2
				}
			}
			ts = append(ts, sqlTok{'p', sql[i : i+n]})
			i += n
		}
	}
	return ts
}

// whereClauses returns the tokens of every WHERE clause of ts (subqueries
// included): up to the GROUP BY, ORDER BY, HAVING or LIMIT at its level,
// or the parenthesis that closes it.
func whereClauses(ts []sqlTok) [][]sqlTok {
	var out [][]sqlTok
	for i, t := range ts {
		if !t.is("where") {
			continue
		}
		depth, j := 0, i+1
	scan:
		for ; j < len(ts); j++ {
			switch {
			case ts[j].is("("):
				depth++
			case ts[j].is(")"):
				if depth--; depth < 0 {
					break scan
				}
			case depth == 0 && (ts[j].is("group") || ts[j].is("order") || ts[j].is("having") || ts[j].is("limit") || ts[j].is("union")):
				break scan
			}
		}
		out = append(out, ts[i+1:j])
	}
	return out
}

// splitTop splits ts on the keyword kw outside parentheses; for AND, the
// AND of a BETWEEN is not a split.
func splitTop(ts []sqlTok, kw string) [][]sqlTok {
	var parts [][]sqlTok
	depth, start, between := 0, 0, false
	for i, t := range ts {
		switch {
		case t.is("("):
			depth++
		case t.is(")"):
			depth--
		case depth == 0 && t.is("between"):
			between = true
		case depth == 0 && t.is(kw):
			if kw == "and" && between {
				between = false
				continue
			}
			parts = append(parts, ts[start:i])
			start = i + 1
		}
	}
	return append(parts, ts[start:])
}

// stripParens removes parentheses around the whole of ts.
func stripParens(ts []sqlTok) []sqlTok {
	for len(ts) >= 2 && ts[0].is("(") && ts[len(ts)-1].is(")") {
		depth := 0
		for i, t := range ts {
			if t.is("(") {
				depth++
			} else if t.is(")") {
				if depth--; depth == 0 && i < len(ts)-1 {
					return ts // the first parenthesis closes before the end
				}
			}
		}
		ts = ts[1 : len(ts)-1]
	}
	return ts
}

// prunePred is a filter on one column that a reader can test against a
// page's bounds: = and IN, the range comparisons, BETWEEN and IS NOT NULL.
type prunePred struct {
	col  string
	op   string   // "=", "in", "<", "<=", ">", ">=", "between", "not null"
	lits []sqlTok // the literals, in order
	text string   // normalized, for messages and duplicates
}

// extraction counts what the extractor did with the conjuncts it saw.
type extraction struct {
	preds       []prunePred // distinct
	used        int         // conjuncts that became a predicate, duplicates included
	notPrunable int         // <>, NOT IN, IS NULL: no page can be skipped by bounds
	partition   int         // on partition keys, which are in object keys, not in files
	unreadable  int         // anything else: functions, OR, expressions
	seen        map[string]bool
}

// add extracts the predicates of every WHERE clause of sql.
func (x *extraction) add(sql string, columns map[string]bool) {
	for _, w := range whereClauses(tokenize(sql)) {
		for _, c := range splitTop(w, "and") {
			x.conjunct(c, columns)
		}
	}
}

func (x *extraction) conjunct(ts []sqlTok, columns map[string]bool) {
	ts = stripParens(ts)
	if parts := splitTop(ts, "and"); len(parts) > 1 {
		for _, p := range parts {
			x.conjunct(p, columns)
		}
		return
	}
	if len(splitTop(ts, "or")) > 1 || len(ts) < 3 || ts[0].kind != 'i' {
		x.unreadable++
		return
	}
	col := ts[0].text
	if slices.Contains(lake.PartitionKeys(), col) {
		x.partition++
		return
	}
	p, ok, prunable := parsePred(col, ts[1:])
	switch {
	case !ok:
		x.unreadable++
		return
	case !columns[col]:
		x.unreadable++
		return
	case !prunable:
		x.notPrunable++
		return
	}
	x.used++
	if x.seen == nil {
		x.seen = map[string]bool{}
	}
	if !x.seen[p.text] {
		x.seen[p.text] = true
		x.preds = append(x.preds, p)
	}
}

// parsePred reads what follows a column name: it reports whether it could
// read it, and whether bounds can prune by it.
func parsePred(col string, ts []sqlTok) (p prunePred, ok, prunable bool) {
	lit := func(ts []sqlTok) (sqlTok, []sqlTok, bool) {
		switch {
		case len(ts) >= 1 && (ts[0].kind == 's' || ts[0].kind == 'n'):
			return ts[0], ts[1:], true
		case len(ts) >= 2 && ts[0].is("-") && ts[1].kind == 'n':
			return sqlTok{'n', "-" + ts[1].text}, ts[2:], true
		}
		return sqlTok{}, ts, false
	}
	list := func(ts []sqlTok) ([]sqlTok, bool) {
		if len(ts) < 2 || !ts[0].is("(") {
			return nil, false
		}
		var lits []sqlTok
		ts = ts[1:]
		for {
			l, rest, ok := lit(ts)
			if !ok || len(rest) == 0 {
				return nil, false
			}
			lits = append(lits, l)
			switch {
			case rest[0].is(","):
				ts = rest[1:]
			case rest[0].is(")") && len(rest) == 1:
				return lits, true
			default:
				return nil, false
			}
		}
	}
	p.col = col
	switch op := ts[0]; {
	case op.is("=") || op.is("<") || op.is("<=") || op.is(">") || op.is(">="):
		l, rest, ok := lit(ts[1:])
		if !ok || len(rest) > 0 {
			return p, false, false
		}
		p.op, p.lits = op.text, []sqlTok{l}
	case op.is("<>") || op.is("!="):
		_, rest, ok := lit(ts[1:])
		return p, ok && len(rest) == 0, false
	case op.is("in"):
		lits, ok := list(ts[1:])
		if !ok {
			return p, false, false
		}
		p.op, p.lits = "in", lits
	case op.is("not") && len(ts) > 1 && ts[1].is("in"):
		_, ok := list(ts[2:])
		return p, ok, false
	case op.is("between"):
		a, rest, ok := lit(ts[1:])
		if !ok || len(rest) == 0 || !rest[0].is("and") {
			return p, false, false
		}
		b, rest, ok := lit(rest[1:])
		if !ok || len(rest) > 0 {
			return p, false, false
		}
		p.op, p.lits = "between", []sqlTok{a, b}
	case op.is("is") && len(ts) == 3 && ts[1].is("not") && ts[2].is("null"):
		p.op = "not null"
	case op.is("is") && len(ts) == 2 && ts[1].is("null"):
		return p, true, false // null counts could prune it; these tests do not
	default:
		return p, false, false
	}
	var b strings.Builder
	b.WriteString(col + " " + p.op)
	for _, l := range p.lits {
		if l.kind == 's' {
			b.WriteString(" " + strconv.Quote(l.text))
		} else {
			b.WriteString(" " + l.text)
		}
	}
	p.text = b.String()
	return p, true, true
}

// keyRange is an interval of keys; a nil end is unbounded.
type keyRange struct {
	lo, hi     []byte
	loIn, hiIn bool
}

func (r keyRange) contains(k []byte) bool {
	if r.lo != nil {
		if c := bytes.Compare(k, r.lo); c < 0 || c == 0 && !r.loIn {
			return false
		}
	}
	if r.hi != nil {
		if c := bytes.Compare(k, r.hi); c > 0 || c == 0 && !r.hiIn {
			return false
		}
	}
	return true
}

// overlaps reports whether some key in [min, max] is in r.
func (r keyRange) overlaps(min, max []byte) bool {
	if r.lo != nil {
		if c := bytes.Compare(max, r.lo); c < 0 || c == 0 && !r.loIn {
			return false
		}
	}
	if r.hi != nil {
		if c := bytes.Compare(min, r.hi); c > 0 || c == 0 && !r.hiIn {
			return false
		}
	}
	return true
}

// ranges returns the keys p accepts in c's column, or an error if its
// literals are not of the column's type.
func (p prunePred) ranges(c *chunk) ([]keyRange, error) {
	keys := make([][]byte, len(p.lits))
	for i, l := range p.lits {
		switch {
		case c.phys == parquet.Types.ByteArray && l.kind == 's':
			keys[i] = []byte(l.text)
		case (c.phys == parquet.Types.Int32 || c.phys == parquet.Types.Int64) && l.kind == 'n':
			v, err := strconv.ParseInt(l.text, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: literal %s: %w", p.text, l.text, err)
			}
			keys[i] = appendIntKey(nil, v, c.unsigned)
		default:
			return nil, fmt.Errorf("%s: a %c literal on a %s column", p.text, l.kind, c.phys)
		}
	}
	switch p.op {
	case "=", "in":
		rs := make([]keyRange, len(keys))
		for i, k := range keys {
			rs[i] = keyRange{lo: k, hi: k, loIn: true, hiIn: true}
		}
		return rs, nil
	case "<":
		return []keyRange{{hi: keys[0]}}, nil
	case "<=":
		return []keyRange{{hi: keys[0], hiIn: true}}, nil
	case ">":
		return []keyRange{{lo: keys[0]}}, nil
	case ">=":
		return []keyRange{{lo: keys[0], loIn: true}}, nil
	case "between":
		return []keyRange{{lo: keys[0], hi: keys[1], loIn: true, hiIn: true}}, nil
	case "not null":
		return []keyRange{{}}, nil
	}
	return nil, fmt.Errorf("%s: unknown operator", p.text)
}

// lakeFilters extracts the prunable predicates of every saved query, every
// detection rule's lake query over the corpus's day and every sample
// finding's evidence query.
func lakeFilters() (*extraction, int) {
	columns := map[string]bool{}
	for _, c := range lake.TableSchema.Columns() {
		columns[c.Name] = true
	}
	x := &extraction{}
	n := 0
	for _, q := range queries.All() {
		x.add(q.SQL, columns)
		n++
	}
	since := flowgen.DefaultStart
	for _, q := range detect.MustCompile(detect.Config{}).Queries(detect.Athena, since, since.Add(24*time.Hour)) {
		x.add(q.SQL, columns)
		n++
	}
	for _, f := range detect.Samples() {
		x.add(f.Query, columns)
		n++
	}
	return x, n
}

// pruneReport is what checkPruning found over a lake.
type pruneReport struct {
	pages, pruned        int // pages tested against a predicate, and those skipped
	groups, groupsPruned int
	matching             int            // rows that match a predicate
	matchedPreds         map[string]int // rows matching, by predicate
	lost                 int            // matching rows in a skipped page or row group
	violations           []string
	typeMismatches       map[string]bool
}

// checkPruning skips c's pages and row group as Trino would for each
// predicate on its column, and reports every matching row that sits in a
// skipped one. A page marked null, or whose [min, max] accepts no key of
// the predicate, is skipped; a row group whose statistics accept none, or
// whose values are all null, is skipped.
func (r *pruneReport) checkPruning(c *chunk, preds []prunePred) {
	if c.maxRep > 0 || c.path != c.name {
		return // no predicate reads list or map elements
	}
	var pages []int
	var lo, hi [][]byte
	var nullPages []bool
	if c.colIndex != nil {
		var problems []string
		if pages, _, problems = c.pageOf(); len(problems) > 0 {
			r.violations = append(r.violations, fmt.Sprintf("%s: offset index: %s", c.where, problems[0]))
			return
		}
		nullPages = c.colIndex.GetNullPages()
		lo, hi = make([][]byte, len(nullPages)), make([][]byte, len(nullPages))
		for p := range nullPages {
			if nullPages[p] {
				continue
			}
			var err error
			if lo[p], err = c.boundKey(c.colIndex.GetMinValues()[p]); err == nil {
				hi[p], err = c.boundKey(c.colIndex.GetMaxValues()[p])
			}
			if err != nil {
				r.violations = append(r.violations, fmt.Sprintf("%s: page %d: %v", c.where, p, err))
				return
			}
		}
	}
	var statLo, statHi []byte
	if st := c.stats; st != nil && st.HasMinMax() {
		var err error
		if statLo, err = c.boundKey(st.EncodeMin()); err == nil {
			statHi, err = c.boundKey(st.EncodeMax())
		}
		if err != nil {
			r.violations = append(r.violations, fmt.Sprintf("%s: statistics: %v", c.where, err))
			return
		}
	}
	allNull := c.stats != nil && c.stats.HasNullCount() && c.stats.NullCount() == int64(len(c.def))
	for _, p := range preds {
		if p.col != c.name {
			continue
		}
		rs, err := p.ranges(c)
		if err != nil {
			r.typeMismatches[err.Error()] = true
			continue
		}
		accepts := func(min, max []byte) bool {
			return slices.ContainsFunc(rs, func(kr keyRange) bool { return kr.overlaps(min, max) })
		}
		r.groups++
		groupSkipped := allNull || statLo != nil && !accepts(statLo, statHi)
		if groupSkipped {
			r.groupsPruned++
		}
		skipped := make([]bool, len(nullPages))
		for pg := range nullPages {
			skipped[pg] = nullPages[pg] || !accepts(lo[pg], hi[pg])
			r.pages++
			if skipped[pg] {
				r.pruned++
			}
		}
		lost := 0
		v := 0
		for i, d := range c.def {
			if d < c.maxDef {
				continue
			}
			k := c.vals.at(v)
			v++
			if !slices.ContainsFunc(rs, func(kr keyRange) bool { return kr.contains(k) }) {
				continue
			}
			r.matching++
			r.matchedPreds[p.text]++
			where := ""
			switch {
			case groupSkipped:
				where = "its row group, skipped by the chunk statistics"
			case pages != nil && skipped[pages[i]]:
				where = fmt.Sprintf("page %d, skipped by the column index", pages[i])
			default:
				continue
			}
			if lost == 0 {
				r.violations = append(r.violations, fmt.Sprintf("%s: %s: row %d (%s) is in %s", c.where, p.text, i, c.show(k), where))
			}
			lost++
			r.lost++
		}
	}
}

// TestPageIndexPruning proves that Athena, skipping pages by the column
// index and row groups by the chunk statistics as Trino does, loses no row
// that the lake's own queries filter for: the simple filters (=, IN,
// ranges, BETWEEN, IS NOT NULL on a lake column) of every saved query,
// detection rule query and evidence query are extracted from their SQL,
// and each is applied to every column chunk of the enriched pipeline lake;
// no row it matches may sit in a skipped page or row group. The same must
// lose rows on what the writer wrote before the fix (parquet.SkipPageBounds).
func TestPageIndexPruning(t *testing.T) {
	lakes := indexLakesFor(t)
	x, nq := lakeFilters()
	t.Logf("%d queries: %d predicates used (%d distinct), %d not prunable (<>, NOT IN, IS NULL), %d on partition keys, %d unreadable (ignored)",
		nq, x.used, len(x.preds), x.notPrunable, x.partition, x.unreadable)
	for _, p := range x.preds {
		t.Logf("predicate: %s", p.text)
	}
	if len(x.preds) < 10 {
		t.Fatalf("%d distinct predicates extracted; want at least 10 (has the SQL changed shape?)", len(x.preds))
	}
	predCols := map[string]bool{}
	for _, p := range x.preds {
		predCols[p.col] = true
	}

	tests := []struct {
		lake      string
		wantValid bool
	}{
		{lakeProduct, true},
		{lakeOld, false},
	}
	for _, tt := range tests {
		t.Run(tt.lake, func(t *testing.T) {
			rep := pruneReport{matchedPreds: map[string]int{}, typeMismatches: map[string]bool{}}
			err := forEachChunk(lakes[tt.lake], func(name string) bool { return predCols[name] }, func(c *chunk) error {
				rep.checkPruning(c, x.preds)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for m := range rep.typeMismatches {
				t.Errorf("predicate not applied: %s", m)
			}
			t.Logf("%s: %d of %d page tests and %d of %d row group tests skip; %d matching rows over %d predicates that match, %d of them in skipped pages or row groups",
				tt.lake, rep.pruned, rep.pages, rep.groupsPruned, rep.groups, rep.matching, len(rep.matchedPreds), rep.lost)
			if !tt.wantValid {
				if rep.lost == 0 {
					t.Fatal("no matching row lost on what SkipPageBounds writes")
				}
				t.Logf("%d violations, such as: %s", len(rep.violations), rep.violations[0])
				return
			}
			reportViolations(t, rep.violations)
			if rep.pruned == 0 {
				t.Error("no page skipped: the bounds prune nothing, so the test proves little")
			}
			if len(rep.matchedPreds) < len(x.preds)/3 {
				t.Errorf("only %d of %d predicates match a row of the corpus; want a third", len(rep.matchedPreds), len(x.preds))
			}
		})
	}
}
