package flowlog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Format is the ordered list of fields of a flow log, as given by its
// "${field} ..." format string or by the header line of an S3 text file.
// The zero Format has no fields; use DefaultFormat or ParseFormat.
type Format struct {
	fields  []Field  // FieldUnknown for names this package does not know
	names   []string // the names as written, same length as fields
	unknown []string // names of FieldUnknown entries, in order
	set     FieldSet
}

// DefaultFormat is the v2 default format every flow log without a custom
// format uses.
const DefaultFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"

// Errors returned (wrapped in a *FormatError) by ParseFormat.
var (
	ErrEmptyFormat     = errors.New("empty format")
	ErrMalformedFormat = errors.New("malformed placeholder, want ${field-name}")
	ErrUnknownField    = errors.New("unknown field")
	ErrDuplicateField  = errors.New("duplicate field")
)

// FormatError reports a problem with a format string: the offending token
// and a sentinel error. For ErrUnknownField, Nearest is the known field
// whose name is closest to the token's.
type FormatError struct {
	Token   string
	Err     error
	Nearest Field
}

func (e *FormatError) Error() string {
	if e.Token == "" {
		return "format: " + e.Err.Error()
	}
	if e.Nearest != FieldUnknown {
		return fmt.Sprintf("format: %q: %v (the nearest known field is ${%s})", e.Token, e.Err, e.Nearest)
	}
	return fmt.Sprintf("format: %q: %v", e.Token, e.Err)
}

// NearestField returns the known field whose AWS name is closest to name
// (fewest single-byte edits; the first in table order on a tie).
func NearestField(name string) Field {
	best, bestD := FieldUnknown, 0
	for f := Field(1); f < numFields; f++ {
		if d := editDistance(name, fields[f].name); best == FieldUnknown || d < bestD {
			best, bestD = f, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cur := row[j]
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			row[j] = min(row[j]+1, row[j-1]+1, prev+cost)
			prev = cur
		}
	}
	return row[len(b)]
}

func (e *FormatError) Unwrap() error { return e.Err }

// MustParseFormat is ParseFormat that panics on error, for constants.
func MustParseFormat(s string) *Format {
	f, err := ParseFormat(s)
	if err != nil {
		panic(err)
	}
	return f
}

// ParseFormat compiles a format string such as
// "${version} ${srcaddr} ${dstaddr}": a non-empty, whitespace-separated list
// of ${name} placeholders naming known fields, in any order.
func ParseFormat(s string) (*Format, error) {
	toks := strings.Fields(s)
	if len(toks) == 0 {
		return nil, &FormatError{Err: ErrEmptyFormat}
	}
	fm := &Format{}
	for _, t := range toks {
		if !strings.HasPrefix(t, "${") || !strings.HasSuffix(t, "}") || len(t) < 4 ||
			strings.ContainsAny(t[2:len(t)-1], "${}") {
			return nil, &FormatError{Token: t, Err: ErrMalformedFormat}
		}
		name := t[2 : len(t)-1]
		f, ok := fieldByName[name]
		if !ok {
			return nil, &FormatError{Token: t, Err: ErrUnknownField, Nearest: NearestField(strings.ReplaceAll(name, "_", "-"))}
		}
		if fm.set.Has(f) {
			return nil, &FormatError{Token: t, Err: ErrDuplicateField}
		}
		fm.add(f, f.String())
	}
	return fm, nil
}

// FormatOf returns the format made of the given fields, in order.
func FormatOf(fs ...Field) *Format {
	fm := &Format{}
	for _, f := range fs {
		fm.add(f, f.String())
	}
	return fm
}

func (fm *Format) add(f Field, name string) {
	fm.fields = append(fm.fields, f)
	fm.names = append(fm.names, name)
	if f == FieldUnknown {
		fm.unknown = append(fm.unknown, name)
		fm.set = fm.set.With(FieldExtra)
		return
	}
	fm.set = fm.set.With(f)
}

// parseHeader recognises the header line of an S3 text file: the bare field
// names separated by spaces. Every token must look like a field name, no
// name may come twice, and at least one must be known. Unknown names are
// kept as FieldUnknown columns so the rest of the file can still be read,
// their values in Record.Extra.
func parseHeader(line []byte) (*Format, bool) {
	var fm *Format
	known := 0
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && !isSpace(line[j]) {
			j++
		}
		tok := line[i:j]
		i = j
		if !nameLike(tok) {
			return nil, false
		}
		if fm == nil {
			fm = &Format{}
		}
		f, ok := fieldByName[string(tok)]
		if ok && fm.set.Has(f) {
			return nil, false // a name twice is no header
		}
		if ok {
			known++
			fm.add(f, f.String())
		} else {
			name := string(tok)
			if slices.Contains(fm.unknown, name) {
				return nil, false // a name twice is no header
			}
			fm.add(FieldUnknown, name)
		}
	}
	if known == 0 {
		return nil, false
	}
	return fm, true
}

// nameLike reports whether tok looks like a field name: a lower-case letter
// then lower-case letters, digits, '-' or '_'.
func nameLike(tok []byte) bool {
	if len(tok) == 0 || tok[0] < 'a' || tok[0] > 'z' {
		return false
	}
	for _, c := range tok {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Fields returns the fields in order; FieldUnknown stands for a name from a
// header that this package does not know.
func (fm *Format) Fields() []Field { return fm.fields }

// Names returns the field names in order, as written in the format.
func (fm *Format) Names() []string { return fm.names }

// Unknown returns the header names this package does not know, in order.
// Their values are kept in Record.Extra.
func (fm *Format) Unknown() []string { return fm.unknown }

// Set returns the set of known fields in the format, and FieldExtra when
// it has unknown ones.
func (fm *Format) Set() FieldSet { return fm.set }

// Has reports whether the format carries field f.
func (fm *Format) Has(f Field) bool { return fm.set.Has(f) }

// Len returns the number of fields, unknown ones included.
func (fm *Format) Len() int { return len(fm.fields) }

// String returns the format as a "${...}" format string. Unknown names are
// written as they came.
func (fm *Format) String() string {
	var b strings.Builder
	for i, n := range fm.names {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("${")
		b.WriteString(n)
		b.WriteByte('}')
	}
	return b.String()
}

// Header returns the format as an S3 header line: the bare names.
func (fm *Format) Header() string { return strings.Join(fm.names, " ") }

// Equal reports whether two formats have the same fields in the same order.
func (fm *Format) Equal(o *Format) bool {
	if len(fm.names) != len(o.names) {
		return false
	}
	for i := range fm.names {
		if fm.names[i] != o.names[i] || fm.fields[i] != o.fields[i] {
			return false
		}
	}
	return true
}
