package flowlog

import (
	"bytes"
	"fmt"
	"math/bits"
	"net/netip"
)

// step is one field of the current format, precompiled for parse.
type step struct {
	off  uintptr              // of the field in Record
	max  uint64               // for integers: the largest value allowed
	tab  *[recentSlots]recent // for strings: the field's recent values
	bit  uint64               // the field's bit in word w of a FieldSet
	w    uint8
	kind Kind
	f    Field
}

// unset removes st's field from rec.Set: parse starts a record with every
// field of the format in its set, and takes out those that are '-', which
// are fewer than those with a value (so a value costs no instruction for
// its bit, where setting one would cost an indexed read-modify-write).
func (st *step) unset(rec *Record) { rec.Set.w[st.w&1] &^= st.bit }

// Step kinds beyond the field kinds: kindSlow, a column this package does
// not know, always takes parseSlow, which keeps its value for Record.Extra;
// kindVersion is an int32 of at least 2; kindEnd ends a plan.
const (
	kindSlow    Kind = 255
	kindVersion Kind = 254
	kindEnd     Kind = 253 // past the last field
)

// compile returns the plan of a format: a step per field, and past its
// length (within its capacity) a last step of kindEnd.
func compile(fs []Field) []step {
	plan := make([]step, len(fs), len(fs)+1)
	plan[:len(fs)+1][len(fs)] = step{kind: kindEnd}
	for i, f := range fs {
		st := step{f: f, kind: f.Kind(), off: fieldOffset[f], bit: 1 << (f & 63), w: uint8(f >> 6)}
		switch st.kind {
		case KindPort:
			st.max = 65535
		case KindProtocol:
			st.max = 255
		case KindInt32:
			st.max = 1<<31 - 1
		case KindInt64:
			st.max = 1<<63 - 1
		}
		switch f {
		case FieldUnknown:
			st.kind = kindSlow // kept in Record.Extra
		case FieldVersion:
			st.kind = kindVersion // an int32 with a lower bound
		}
		plan[i] = st
	}
	// A table of recent values for each string field, in one allocation.
	ns := 0
	for _, st := range plan {
		if st.kind == KindString {
			ns++
		}
	}
	tabs := make([][recentSlots]recent, ns)
	for i := range plan {
		if plan[i].kind == KindString {
			plan[i].tab = &tabs[0]
			tabs = tabs[1:]
		}
	}
	return plan
}

// parse fills rec from one trimmed, non-empty line in the current format.
//
// The line is a slice of the reader's buffer, which keeps wordSlack bytes
// of capacity past every line it returns (see fill). parse reads the line
// with them as text: the byte just past the line becomes a space, so the
// last token ends like the others, and a word loaded at any byte of the
// line stays within text. That byte is the reader's own: the line's '\n'
// or trailing blank, already consumed, or buffer space no data is in.
//
// The values of the format's unknown columns collect in r.extra as the line
// is read (parseSlow), and become rec.Extra once it has parsed.
func (r *Reader) parse(line []byte, rec *Record) error {
	*rec = Record{} // zeroed in place; a literal with a field set would be built and copied
	rec.Set = r.known
	text := line[:len(line)+wordSlack]
	text[len(line)] = ' '
	r.hops = 0
	r.extra = r.extra[:0]
	if err := r.parseFrom(text, rec, 0, 0); err != nil {
		return err
	}
	if len(r.extra) > 0 {
		rec.Extra = r.in.get(FieldExtra, r.extra)
		rec.Set = rec.Set.With(FieldExtra)
	}
	return nil
}

// maxHops bounds how many times one line goes from parseFrom to parseSlow
// and back, and so the depth of the calls.
const maxHops = 64

// parseFrom parses fields k onwards of text (see parse), the first of them
// at offset i, into rec.
//
// Its loop makes no call that must return to it, so that its values stay
// in registers: every word helper inlines (TestInlining), and a token it
// cannot finish goes to parseSlow, which comes back with another call. It
// keeps few values live for the same reason: the step, not the plan and an
// index, and the set of fields in rec, not in a register.
func (r *Reader) parseFrom(text []byte, rec *Record, k, i int) error {
	n := len(text) - wordSlack // the line's length; text[n] is a space
	for st := stepAt(r.plan, k); st.kind != kindEnd; st = nextStep(st) {
		// A field is left but the line is not: too few fields (or tabs).
		if i >= n {
			return r.short(text[:n], rec)
		}

		// Skip the spaces before the token. The word's lowest byte is
		// text[i], and spaceBits marks its spaces (bit 7: text[i]).
		w := loadWord(text, i)
		m := spaceBits(w)
		for m&0x80 != 0 {
			i++
			w = loadWord(text, i)
			m = spaceBits(w)
		}

		// The token is text[ts:j], up to the next space: in this word for a
		// token under eight bytes, else found a word at a time.
		ts := i
		var j int
		if m != 0 {
			j = i + bits.TrailingZeros64(m)>>3
		} else {
			j = tokenEnd(text, i+8)
		}
		tl := j - ts // 0 < tl: text[i] is no space
		i = j + 1

		// "-" is null: the field leaves the set.
		if tl == 1 && byte(w) == '-' {
			st.unset(rec)
			continue
		}

		// Decode the token by the field's kind, from the word w (its first
		// eight bytes) where it fits. Each case sets the field and goes on
		// to the next, or falls out of the switch to parseSlow below.
		switch st.kind {
		case KindString:
			// The field's table of recent values, indexed by the token's
			// last bytes (ids end in random hex), catches most repeats;
			// an entry holds the value's words, so a hit reads no string
			// memory.
			wl := lastWord(text, j, tl, w)
			if e := &st.tab[recentIndex(wl)]; e.tw.is(text, ts, tl, w, wl) {
				*fieldAt[string](rec, st.off) = e.s
				continue
			}
		case KindInt64, KindInt32, KindPort, KindProtocol:
			// Up to 16 digits: one or two words of digits, in range.
			var v uint64
			ok := false
			if tl <= 8 {
				v, ok = digits(w, tl)
			} else if tl <= 16 {
				hi, okHi := digits(w, 8)
				lo, okLo := digits(loadWord(text, ts+8), tl-8)
				v, ok = hi*pow10[tl-8]+lo, okHi && okLo
			}
			if ok && v <= st.max {
				switch st.kind {
				case KindInt64:
					*fieldAt[int64](rec, st.off) = int64(v)
				case KindPort:
					*fieldAt[uint16](rec, st.off) = uint16(v)
				case KindProtocol:
					*fieldAt[uint8](rec, st.off) = uint8(v)
				default:
					*fieldAt[int32](rec, st.off) = int32(v)
				}
				continue
			}
		case kindVersion:
			// One digit, 2 to 9, or two (version 11).
			if tl == 1 && byte(w)-'2' <= 7 {
				*fieldAt[int32](rec, st.off) = int32(byte(w) - '0')
				continue
			}
			if tl == 2 {
				if v, ok := digits(w, 2); ok && v >= 10 {
					*fieldAt[int32](rec, st.off) = int32(v)
					continue
				}
			}
		case KindAction:
			if tl == 6 {
				if w&(1<<48-1) == accept48 {
					rec.Action = ActionAccept
					continue
				}
				if w&(1<<48-1) == reject48 {
					rec.Action = ActionReject
					continue
				}
			}
		case KindLogStatus:
			// OK; NODATA and SKIPDATA are rare enough for parseSlow.
			if tl == 2 && uint16(w) == ok16 {
				rec.LogStatus = LogStatusOK
				continue
			}
		case KindAddr:
			// The address cache, by the token's last bytes and its words.
			if ent := r.addrs.ent; ent != nil {
				wl := lastWord(text, j, tl, w)
				if e := &ent[addrIndex(wl)]; e.tw.is(text, ts, tl, w, wl) {
					*fieldAt[netip.Addr](rec, st.off) = e.a
					continue
				}
			}
		}

		// Anything else (a cache miss, NODATA, a long integer, an unknown
		// column, a tab, an error) is parseSlow's, from this token on.
		return r.parseSlow(text, rec, stepIndex(r.plan, st), ts)
	}

	// Every field is read: only the space past the line may be left.
	if i <= n {
		return r.short(text[:n], rec)
	}
	return nil
}

// short handles a line with too few or too many fields: it may have tabs.
func (r *Reader) short(line []byte, rec *Record) error {
	if detab(line) {
		return r.parse(line, rec)
	}
	return r.countErr(line)
}

// parseSlow reads field k of text (see parse), whose token is at offset i,
// then goes back to parseFrom for the rest of the line (or, after maxHops,
// reads it itself). It takes cache misses, enums, unknown columns (their
// values go to r.extra), long integers, every error, and tabs: a tab is a separator too, but rare
// enough to look for only here. No fast path accepts a token with a tab in
// it, and no string with a tab is ever interned.
func (r *Reader) parseSlow(text []byte, rec *Record, k, i int) error {
	plan := r.plan
	n := len(text) - wordSlack
	for first := true; k < len(plan); k, first = k+1, false {
		if !first && r.hops < maxHops && plan[k].kind != kindSlow {
			r.hops++
			return r.parseFrom(text, rec, k, i)
		}
		if i >= n {
			return r.short(text[:n], rec)
		}
		for text[i] == ' ' { // a run of spaces; text[n] is a space
			i++
		}
		j := i + bytes.IndexByte(text[i:n+1], ' ')
		tok := text[i:j]
		i = j + 1
		if len(tok) == 1 && tok[0] == '-' {
			plan[k].unset(rec)
			continue
		}
		if bytes.IndexByte(tok, '\t') >= 0 && detab(text[:n]) {
			return r.parse(text[:n], rec)
		}
		st := &plan[k]
		if st.kind == kindSlow { // a column this package does not know
			r.addExtra(k, tok)
			continue
		}
		if st.kind == KindString {
			tw := wordsOf(tok)
			e := &st.tab[recentIndex(tw.last)]
			e.s, e.tw = r.in.get(st.f, tok), tw // tw.is refuses tokens too long for it
			*fieldAt[string](rec, st.off) = e.s
		} else if err := r.setField(rec, st.f, tok); err != nil {
			return r.fieldErr(st.f, k, tok, err)
		}
	}
	if i <= n {
		return r.short(text[:n], rec)
	}
	return nil
}

// addExtra adds the value tok of unknown column k to r.extra, after its
// name.
func (r *Reader) addExtra(k int, tok []byte) {
	if len(r.extra) > 0 {
		r.extra = append(r.extra, ' ')
	}
	r.extra = append(r.extra, r.format.names[k]...)
	r.extra = append(r.extra, ' ')
	r.extra = append(r.extra, tok...)
}

// detab replaces every tab in line with a space and reports whether there
// was any.
func detab(line []byte) bool {
	if bytes.IndexByte(line, '\t') < 0 {
		return false
	}
	for k, c := range line {
		if c == '\t' {
			line[k] = ' '
		}
	}
	return true
}

func (r *Reader) countErr(line []byte) error {
	got := 0
	for i := 0; i < len(line); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			break
		}
		got++
		for i < len(line) && line[i] != ' ' {
			i++
		}
	}
	return &ParseError{Line: r.recLn, Err: fmt.Errorf("%w: got %d, want %d", ErrFieldCount, got, len(r.fields))}
}

func (r *Reader) fieldErr(f Field, k int, tok []byte, err error) error {
	name := f.String()
	if f == FieldUnknown {
		name = r.format.names[k]
	}
	v := tok
	if len(v) > 64 {
		v = v[:64]
	}
	return &ParseError{Line: r.recLn, Column: k + 1, Field: name, Err: err, Value: string(v)}
}
