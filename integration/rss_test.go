package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/integration/stack"
	"github.com/flowlake/flowlake/shared/enrich/geodb"
	"github.com/flowlake/flowlake/shared/flowgen"
	"github.com/flowlake/flowlake/shared/pipeline"
)

// TestPeakRSS75MB streams a 75 MB gzip flow-log object (rich format, as
// AWS's largest delivery) through the ingest-s3 bootstrap configured as a
// 256 MB Lambda, with the GeoIP and ASN databases the stack ships, and
// checks the bootstrap's peak RSS (VmHWM) is at most 256 MiB. It logs the
// measurement; run it with -v to see it.
func TestPeakRSS75MB(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and ingests a 75 MB object; not in -short")
	}
	const target = 75 << 20
	s3 := stack.StartS3(t)
	s3.Bucket(t, rawBucket)
	lakeDir := s3.Bucket(t, lakeBucket)
	root := stack.NodeModules(t, geodb.ASNPackage)
	dbs, err := geodb.Cached(filepath.Join(root, "node_modules"), filepath.Join(root, ".cache", "geodb"))
	if err != nil {
		t.Fatal(err)
	}
	fn := stack.StartFunction(t, stack.Bootstrap(t, "./functions/ingest-s3"),
		append(s3.Env(), "FLOWLAKE_LAKE_BUCKET="+lakeBucket, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
			pipeline.EnvGeoIP+"="+dbs.GeoIP, pipeline.EnvASN+"="+dbs.ASN)...)

	// About 31 bytes of gzip per rich record: 2.55 M records ≈ 79 MB (75 MiB).
	t0 := time.Now()
	path := filepath.Join(t.TempDir(), "big.log.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	n, err := flowgen.Write(bw, flowgen.Config{Seed: 75, Records: 2_550_000, Format: flowgen.RichFormat(), Header: true, Gzip: true})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	if fi.Size() < target*95/100 {
		t.Fatalf("generated %d bytes; want about %d", fi.Size(), target)
	}
	f.Seek(0, 0)
	o := object{flowKey("777777777777", "eeee0001"), s3.Put(t, rawBucket, flowKey("777777777777", "eeee0001"), f)}
	f.Close()
	t.Logf("generated and uploaded %d records, %.1f MB of gzip, in %s", n, float64(fi.Size())/1e6, time.Since(t0).Round(time.Millisecond))

	t1 := time.Now()
	body := fn.Invoke(t, sqsEvent(t, rawBucket, o))
	el := time.Since(t1)
	if f := failures(t, body); len(f) != 0 {
		t.Fatalf("batchItemFailures %v", f)
	}
	pid := fn.BootstrapPID()
	if pid == 0 {
		t.Fatal("no bootstrap process under the emulator")
	}
	rss, err := stack.PeakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	var ingested struct {
		Records int64 `json:"records"`
	}
	for _, line := range splitLines(fn.Logs.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "ingested" {
			json.Unmarshal([]byte(line), &ingested)
		}
	}
	if ingested.Records != int64(n) {
		t.Errorf("ingested %d records; want %d", ingested.Records, n)
	}
	t.Logf("ingest-s3 bootstrap: %.1f MB gzip object, %d records in %s; peak RSS (VmHWM) %.1f MiB",
		float64(fi.Size())/1e6, ingested.Records, el.Round(time.Millisecond), float64(rss)/(1<<20))
	if rss > 256<<20 {
		t.Errorf("peak RSS %.1f MiB; want at most 256 MiB", float64(rss)/(1<<20))
	}
	if got := (&env{lakeDir: lakeDir}).count(t, "777777777777"); got != int64(n) {
		t.Errorf("lake rows = %d; want %d", got, n)
	}
}

func splitLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
