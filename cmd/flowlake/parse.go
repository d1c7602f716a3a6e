package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/flowlake/flowlake/shared/enrich"
	"github.com/flowlake/flowlake/shared/flowlog"
)

// runParse implements `flowlake parse [--format FORMAT] [FILE...]`.
func runParse(ctx context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("parse", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	format := fs.String("format", "", "flow-log format string (\"${version} ${srcaddr} ...\"); default: the v2 default format, until a header line says otherwise")
	ef := addEnrichFlags(fs, false)
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: flowlake parse [--format FORMAT] [FILE...]\n\nReads flow-log text (plain or gzip) from the files, or stdin, and writes one JSON\nobject per record. Rejected lines go to stderr as FILE:LINE: column N: FIELD:\nreason (N counts fields); the exit status is 1 when any line was rejected.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fm := flowlog.MustParseFormat(flowlog.DefaultFormat)
	if flagSet(fs, "format") {
		var err error
		if fm, err = flowlog.ParseFormat(*format); err != nil {
			fmt.Fprintf(sio.err, "flowlake parse: --format: %v\n", err)
			return 2
		}
	}
	enr, err := ef.open(ctx, sio.err)
	if err != nil {
		fmt.Fprintf(sio.err, "flowlake parse: %v\n", err)
		return 2
	}
	if enr != nil {
		defer enr.Close()
	}
	out := bufio.NewWriterSize(sio.out, 64<<10)
	defer out.Flush()
	p := &jsonPrinter{out: out, errw: sio.err, enr: enr}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	status := 0
	for _, name := range files {
		if ctx.Err() != nil {
			return 130
		}
		var src io.Reader = sio.in
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintf(sio.err, "flowlake parse: %v\n", err)
				status = 2
				continue
			}
			src = f
			defer f.Close()
		}
		rejected, err := p.print(name, src, fm)
		if err != nil {
			fmt.Fprintf(sio.err, "%s: %v\n", name, err)
			status = 2
		}
		if rejected > 0 && status == 0 {
			status = 1
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(sio.err, "flowlake parse: %v\n", err)
		return 2
	}
	return status
}

type jsonPrinter struct {
	out   *bufio.Writer
	errw  io.Writer
	enr   *enrich.Enricher // nil: no enrichment fields
	line  []byte
	pairs []enrich.Pair
}

// print writes src's records as JSON lines and reports rejected lines.
func (p *jsonPrinter) print(name string, src io.Reader, fm *flowlog.Format) (rejected int, err error) {
	r := flowlog.NewReader(src)
	r.SetFormat(fm)
	var rec flowlog.Record
	for {
		err := r.ReadInto(&rec)
		if err == io.EOF {
			return rejected, nil
		}
		var pe *flowlog.ParseError
		if errors.As(err, &pe) {
			rejected++
			reportReject(p.errw, name, pe)
			continue
		}
		if err != nil {
			return rejected, err
		}
		p.line = appendRecordJSON(p.line[:0], &rec, r.Format())
		if p.enr != nil {
			var f enrich.Fields
			p.enr.EnrichRecord(context.Background(), &rec, &f)
			p.pairs = f.AppendPairs(p.pairs[:0])
			p.line = appendPairsJSON(p.line, p.pairs)
		}
		p.line = append(p.line, '\n')
		if _, err := p.out.Write(p.line); err != nil {
			return rejected, err
		}
	}
}

// reportReject writes one rejected line as FILE:LINE: column N: FIELD:
// reason, N counting the line's fields (not its characters, so it is not
// in the FILE:LINE:COLUMN place). A problem with the whole line (its field
// count, its length) has no column and names the field "record".
func reportReject(w io.Writer, name string, pe *flowlog.ParseError) {
	where := ""
	if pe.Column > 0 {
		where = fmt.Sprintf("column %d: ", pe.Column)
	}
	field := pe.Field
	if field == "" {
		field = "record"
	}
	reason := pe.Err.Error()
	if pe.Value != "" {
		reason += fmt.Sprintf(" (%q)", pe.Value)
	}
	fmt.Fprintf(w, "%s:%d: %s%s: %s\n", name, pe.Line, where, field, reason)
}

// appendRecordJSON appends rec as a JSON object keyed by the AWS field names
// of fm, in its order: integers as numbers, addresses and enums as strings,
// '-' as null. A column a header gave that no version defines is keyed by
// its header name, its value the text as written (Record.Extra).
func appendRecordJSON(dst []byte, rec *flowlog.Record, fm *flowlog.Format) []byte {
	dst = append(dst, '{')
	names := fm.Names()
	for i, f := range fm.Fields() {
		if i > 0 {
			dst = append(dst, ',')
		}
		if f == flowlog.FieldUnknown {
			dst = appendJSONString(dst, names[i])
			dst = append(dst, ':')
			if v, ok := rec.ExtraValue(names[i]); ok {
				dst = appendJSONString(dst, v)
			} else {
				dst = append(dst, "null"...)
			}
			continue
		}
		dst = append(dst, '"')
		dst = append(dst, f.String()...)
		dst = append(dst, '"', ':')
		dst = appendValueJSON(dst, rec, f)
	}
	return append(dst, '}')
}

func appendValueJSON(dst []byte, rec *flowlog.Record, f flowlog.Field) []byte {
	if !rec.Has(f) {
		return append(dst, "null"...)
	}
	switch f.Kind() {
	case flowlog.KindString:
		return appendJSONString(dst, rec.String(f))
	case flowlog.KindAddr, flowlog.KindAction, flowlog.KindLogStatus:
		dst = append(dst, '"')
		dst = rec.AppendField(dst, f)
		return append(dst, '"')
	}
	v, _ := rec.Int(f)
	return strconv.AppendInt(dst, v, 10)
}

// appendPairsJSON adds the enrichment pairs to the JSON object that ends
// dst, before its closing brace. Set columns only: NULL ones are left out.
func appendPairsJSON(dst []byte, pairs []enrich.Pair) []byte {
	if len(pairs) == 0 {
		return dst
	}
	dst = dst[:len(dst)-1]
	for _, p := range pairs {
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, p.Name)
		dst = append(dst, ':')
		v, err := json.Marshal(p.Value)
		if err != nil {
			v = []byte("null")
		}
		dst = append(dst, v...)
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// flagSet reports whether the named flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
