package pqvalue

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

func TestString(t *testing.T) {
	for _, s := range []string{"", "a", "eni-0123456789abcdef0", strings.Repeat("x", 1<<16)} {
		v := String(s)
		if v.Kind() != parquet.ByteArray || v.IsNull() || string(v.ByteArray()) != s {
			t.Errorf("String(%.20q) = %v (kind %v, null %v); want the byte array of the string", s, v, v.Kind(), v.IsNull())
		}
		if v.RepetitionLevel() != 0 || v.DefinitionLevel() != 0 {
			t.Errorf("String(%.20q) has levels %d, %d; want 0, 0", s, v.RepetitionLevel(), v.DefinitionLevel())
		}
		if b := v.ByteArray(); len(s) > 0 && unsafe.SliceData(b) != unsafe.StringData(s) {
			t.Errorf("String(%.20q) copied the string", s)
		}
		if !parquet.Equal(v, parquet.ByteArrayValue([]byte(s))) {
			t.Errorf("String(%.20q) differs from ByteArrayValue of its bytes", s)
		}
	}
	s := strings.Repeat("y", 100)
	if n := testing.AllocsPerRun(100, func() { _ = String(s) }); n != 0 {
		t.Errorf("String allocates %v times; want 0", n)
	}
}
