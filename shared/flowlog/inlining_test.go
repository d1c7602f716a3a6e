package flowlog

import (
	"os/exec"
	"regexp"
	"runtime"
	"testing"
)

// TestInlining fails when the compiler stops inlining a function whose
// speed depends on it, as net/netip's inlining_test.go does: the parse loop
// keeps its values in registers only while every helper it calls inlines,
// and the helpers of unsafe.go cost what the expression in place would only
// if inlined.
func TestInlining(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	args := []string{"build", "-gcflags=-m"}
	if !unalignedLE {
		args = append(args, "-tags=purego") // as this test was built, if by the tag
	}
	out, err := exec.Command(gotool, append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	got := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m): can inline (\S+)`).FindAllSubmatch(out, -1) {
		got[string(m[1])] = true
	}
	want := []string{
		// unsafe.go
		"loadWord",
		"fieldAt[string]",
		"fieldAt[int64]",
		"fieldAt[int32]",
		"fieldAt[uint16]",
		"fieldAt[uint8]",
		"fieldAt[net/netip.Addr]",
		"stepAt",
		"nextStep",
		"stepIndex",
		"bytesString",
		// word.go, into parseFrom's loop
		"spaceBits",
		"digits",
		// parse.go, into parseFrom's loop
		"(*step).unset",
		// cache.go, into parseFrom's loop
		"recentIndex",
		"addrIndex",
		// into ReadInto, once a line
		"trimSpace",
	}
	switch runtime.GOARCH {
	case "386", "amd64", "arm64", "loong64", "ppc64", "ppc64le", "s390x":
		// Where the compiler loads unaligned words, binary.LittleEndian
		// (loadWord's portable form, wordsOf and hashBytes) is cheap enough
		// for these to inline too. On CPUs that need aligned loads it reads
		// byte by byte, and they do not.
		want = append(want,
			"tokenEnd",
			"lastWord",
			"(*tokenWords).is",
			"wordsOf",
			"hashBytes",
		)
	}
	for _, name := range want {
		if !got[name] {
			t.Errorf("%s is no longer inlinable", name)
		}
	}
}
