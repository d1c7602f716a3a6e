package flowlog

import (
	"encoding/binary"
	"net/netip"
	"reflect"
	"testing"
)

// loadWord reads the word binary.LittleEndian reads, at every offset:
// aligned or not, up to the last eight bytes.
func TestLoadWord(t *testing.T) {
	b := make([]byte, 64)
	for k := range b {
		b[k] = byte(k*37 + 1)
	}
	for i := 0; i+8 <= len(b); i++ {
		want := binary.LittleEndian.Uint64(b[i:])
		if got := loadWord(b, i); got != want {
			t.Errorf("loadWord(b, %d) = %#x; want %#x", i, got, want)
		}
	}
	// A subslice: offsets count from its start, and the word may end at its
	// last byte.
	sub := b[5:21]
	if got, want := loadWord(sub, 8), binary.LittleEndian.Uint64(b[13:]); got != want {
		t.Errorf("loadWord(b[5:21], 8) = %#x; want %#x", got, want)
	}
}

// fieldAt of every Field's fieldOffset is a pointer to its struct field,
// of its Go type, and a value stored through it reads back from the record.
func TestFieldAt(t *testing.T) {
	var rec Record
	rv := reflect.ValueOf(&rec).Elem()
	byOffset := map[uintptr]any{}
	for i := range rv.NumField() {
		byOffset[rv.Type().Field(i).Offset] = rv.Field(i).Addr().Interface()
	}
	addr := netip.MustParseAddr("2001:db8::1")
	for _, f := range Fields() {
		off := fieldOffset[f]
		var p any
		var want string
		switch f.Kind() {
		case KindString:
			p, want = fieldAt[string](&rec, off), "x-"+f.String()
			*fieldAt[string](&rec, off) = want
		case KindAddr:
			p, want = fieldAt[netip.Addr](&rec, off), addr.String()
			*fieldAt[netip.Addr](&rec, off) = addr
		case KindInt64:
			p, want = fieldAt[int64](&rec, off), "1099511627776"
			*fieldAt[int64](&rec, off) = 1 << 40
		case KindInt32:
			p, want = fieldAt[int32](&rec, off), "1048576"
			*fieldAt[int32](&rec, off) = 1 << 20
		case KindPort:
			p, want = fieldAt[uint16](&rec, off), "65000"
			*fieldAt[uint16](&rec, off) = 65000
		case KindProtocol:
			p, want = fieldAt[uint8](&rec, off), "200"
			*fieldAt[uint8](&rec, off) = 200
		case KindAction:
			p, want = fieldAt[Action](&rec, off), "REJECT"
			*fieldAt[uint8](&rec, off) = uint8(ActionReject) // as parse stores it
		case KindLogStatus:
			p, want = fieldAt[LogStatus](&rec, off), "SKIPDATA"
			*fieldAt[uint8](&rec, off) = uint8(LogStatusSkipData)
		}
		if p != byOffset[off] {
			t.Errorf("%v: fieldAt(rec, %d) = %T %v; want the struct field, %T %v", f, off, p, p, byOffset[off], byOffset[off])
		}
		rec.Set = rec.Set.With(f)
		if got := rec.String(f); got != want {
			t.Errorf("%v: stored through fieldAt, String = %q; want %q", f, got, want)
		}
	}
}

// stepAt, nextStep and stepIndex walk a plan as indexing does, up to its
// kindEnd step.
func TestSteps(t *testing.T) {
	plan := compile(MustParseFormat(DefaultFormat).Fields())
	full := plan[:len(plan)+1]
	if full[len(plan)].kind != kindEnd {
		t.Fatalf("plan's last step = %+v; want kindEnd", full[len(plan)])
	}
	for k := range full {
		st := stepAt(plan, k)
		if st != &full[k] {
			t.Errorf("stepAt(plan, %d) = %p; want %p", k, st, &full[k])
		}
		if got := stepIndex(plan, st); got != k {
			t.Errorf("stepIndex(plan, stepAt(plan, %d)) = %d", k, got)
		}
		if k < len(plan) {
			if next := nextStep(st); next != &full[k+1] {
				t.Errorf("nextStep(&plan[%d]) = %p; want %p", k, next, &full[k+1])
			}
		}
	}
}

// bytesString has b's bytes, and shares b's memory.
func TestBytesString(t *testing.T) {
	b := []byte("2001:db8::1")
	s := bytesString(b)
	if s != "2001:db8::1" {
		t.Errorf("bytesString = %q", s)
	}
	b[0] = '3'
	if s != "3001:db8::1" {
		t.Errorf("bytesString = %q after b changed; want it to share b", s)
	}
	if bytesString(nil) != "" || bytesString(b[:0]) != "" {
		t.Errorf("bytesString of an empty slice is not empty")
	}
}
