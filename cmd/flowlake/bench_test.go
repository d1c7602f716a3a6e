package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestBenchCloudWatch runs the CloudWatch row once: the batch holds about
// 1 MiB of messages and every one lands.
func TestBenchCloudWatch(t *testing.T) {
	r, payload, err := benchCloudWatch(context.Background(), t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.rows < 3000 || r.rows > 6000 || payload <= 0 || payload > 1<<20 || r.elapsed <= 0 || r.out <= 0 {
		t.Errorf("benchCloudWatch = %+v, payload %d; want a 1 MiB batch of 3000 to 6000 records", r, payload)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{1.3, 1.1, 1.2}, 1.2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v; want %v", tc.in, got, tc.want)
		}
	}
}

// TestCostModel: the model's arithmetic, on round numbers: 1 µs a record
// of 1 KiB is 1,048,576 records a GiB, 1.048576 CPU-s, at 2 GB.
func TestCostModel(t *testing.T) {
	m := costModel{LambdaGBSecond: 0.00001, MemoryMB: 2048}
	if got, want := m.perGB(1e-6, 1024), 1.048576*2*0.00001; got < want*0.999999 || got > want*1.000001 {
		t.Errorf("perGB = %v; want %v", got, want)
	}
}

// TestWorkDir: --dir names a folder that need not exist (bench makes it
// and keeps it); without it, a temporary folder is made and removed.
func TestWorkDir(t *testing.T) {
	want := filepath.Join(t.TempDir(), "new", "bench")
	dir, done, err := workDir(want, "flowlake-bench-test-")
	if err != nil {
		t.Fatal(err)
	}
	done()
	if st, err := os.Stat(dir); dir != want || err != nil || !st.IsDir() {
		t.Fatalf("workDir(%q) = %q (%v); want the folder made and kept", want, dir, err)
	}
	tmp, done, err := workDir("", "flowlake-bench-test-")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("temporary folder %q: %v", tmp, err)
	}
	done()
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("temporary folder %q left after done: %v", tmp, err)
	}
	if _, _, err := workDir(filepath.Join(want, "\x00"), ""); err == nil {
		t.Fatal("workDir of an invalid path: no error")
	}
}
