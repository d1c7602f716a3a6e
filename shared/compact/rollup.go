package compact

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/flowlake/flowlake/shared/enrich"
)

// RollupPrefix is the data prefix of the rollups: a partition-hour
// flows/P/ has its rollup at rollups/P/rollup.pq (for the root prefix "",
// rollups/P/rollup.pq).
const RollupPrefix = "rollups" // lake.RollupPrefix, without its slash

// RollupName is the name of a partition-hour's rollup object: Parquet,
// but not named *.parquet, so that a local lake's flows view
// (shared/lakesql, every *.parquet under the lake's folder) never reads
// it, whichever folder it is given. Athena reads a table's location
// whatever the names.
const RollupName = "rollup.pq"

// EphemeralFrom is where the ephemeral source ports of the connections our
// instances open start (Linux: 32768; Windows: 49152): a flow from such a
// port to a port below it is a connection we opened, and its destination
// port is the service we used.
const EphemeralFrom = 32768

// RollupRow is one row of a partition-hour's rollup: the flows that one
// network interface sent to the internet in the hour, by protocol and
// destination port. The baseline rules of detection read 14 days of
// rollups instead of 14 days of flows: a few rows per interface-hour.
//
// A flow counts when it is outbound (flow_direction egress, or without it
// from one of our addresses) to an address that is not ours
// (enrich.Internal with the Compactor's InternalPrefixes, as detection
// judges it). DstPort is the destination port of a TCP or UDP connection
// we opened (source port at or above EphemeralFrom, destination port
// below it) and -1 for everything else (replies from our servers, ICMP),
// which still count in Bytes.
type RollupRow struct {
	InterfaceID string `parquet:"interface_id,dict"`
	Protocol    int32  `parquet:"protocol"`
	DstPort     int32  `parquet:"dstport"`
	Flows       int64  `parquet:"flows"`
	Packets     int64  `parquet:"packets"`
	Bytes       int64  `parquet:"bytes"`
}

// RollupKey returns the key of the rollup of the partition-hour folder dir
// (ending in '/') under the data prefix.
func RollupKey(prefix, dir string) string {
	prefix = strings.Trim(prefix, "/")
	rel := dir
	if prefix != "" {
		rel = strings.TrimPrefix(dir, prefix+"/")
	}
	return RollupPrefix + "/" + rel + RollupName
}

type rollupKey struct {
	eni             string
	protocol, dport int32
}

// rollup adds up the rows a generation writes, as they pass to its
// objects.
type rollup struct {
	cols     map[int]string // leaf column index → name, for the columns it reads
	prefixes []netip.Prefix
	ours     map[string]bool // address text → enrich.Internal
	sums     map[rollupKey]*RollupRow
}

func newRollup(schema *parquet.Schema, prefixes []netip.Prefix) *rollup {
	r := &rollup{cols: map[int]string{}, prefixes: prefixes, ours: map[string]bool{}, sums: map[rollupKey]*RollupRow{}}
	for _, name := range []string{"interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes", "flow_direction"} {
		if leaf, ok := schema.Lookup(name); ok {
			r.cols[leaf.ColumnIndex] = name
		}
	}
	return r
}

func (r *rollup) internal(b []byte) (valid, ours bool) {
	if v, ok := r.ours[string(b)]; ok {
		return true, v
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil {
		return false, false
	}
	v := enrich.Internal(a, r.prefixes)
	r.ours[string(b)] = v
	return true, v
}

// add adds one row of the table.
func (r *rollup) add(row parquet.Row) {
	var eni, src, dst, dir []byte
	var sport, dport, proto, packets, bytes int64 = -1, -1, -1, 0, 0
	for _, v := range row {
		name, ok := r.cols[v.Column()]
		if !ok || v.IsNull() {
			continue
		}
		switch name {
		case "interface_id":
			eni = v.ByteArray()
		case "srcaddr":
			src = v.ByteArray()
		case "dstaddr":
			dst = v.ByteArray()
		case "flow_direction":
			dir = v.ByteArray()
		case "srcport":
			sport = v.Int64()
		case "dstport":
			dport = v.Int64()
		case "protocol":
			proto = v.Int64()
		case "packets":
			packets = v.Int64()
		case "bytes":
			bytes = v.Int64()
		}
	}
	if dst == nil || eni == nil {
		return
	}
	dstOK, dstOurs := r.internal(dst)
	if !dstOK || dstOurs {
		return
	}
	switch string(dir) {
	case "egress":
	case "":
		if src == nil {
			return
		}
		if ok, ours := r.internal(src); !ok || !ours {
			return
		}
	default:
		return
	}
	k := rollupKey{protocol: int32(proto), dport: -1}
	if (proto == 6 || proto == 17) && sport >= EphemeralFrom && dport >= 0 && dport < EphemeralFrom {
		k.dport = int32(dport)
	}
	s := r.sums[rollupKey{eni: string(eni), protocol: k.protocol, dport: k.dport}]
	if s == nil {
		k.eni = string(eni)
		s = &RollupRow{InterfaceID: k.eni, Protocol: k.protocol, DstPort: k.dport}
		r.sums[k] = s
	}
	s.Flows++
	s.Packets += packets
	s.Bytes += bytes
}

// rows returns the rollup's rows, sorted.
func (r *rollup) rows() []RollupRow {
	out := make([]RollupRow, 0, len(r.sums))
	for _, s := range r.sums {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b RollupRow) int {
		if c := strings.Compare(a.InterfaceID, b.InterfaceID); c != 0 {
			return c
		}
		if a.Protocol != b.Protocol {
			return int(a.Protocol - b.Protocol)
		}
		return int(a.DstPort - b.DstPort)
	})
	return out
}

// tapRows passes rows through, adding each to a rollup.
type tapRows struct {
	r  parquet.RowReader
	ru *rollup
}

func (t *tapRows) ReadRows(rows []parquet.Row) (int, error) {
	n, err := t.r.ReadRows(rows)
	for _, row := range rows[:n] {
		t.ru.add(row)
	}
	return n, err
}

// writeRollup writes the rollup of a partition-hour, replacing the one it
// had. It is written before the generation's manifest is committed: a
// run that stops between the two leaves the rollup of the rows the next
// run commits (the same inputs, or more), never of fewer.
func (c *Compactor) writeRollup(ctx context.Context, dir string, ru *rollup) error {
	key := RollupKey(c.Prefix, dir)
	obj, err := c.Bucket.Create(ctx, key)
	if err != nil {
		return fmt.Errorf("rollup %s: %w", key, err)
	}
	w := parquet.NewGenericWriter[RollupRow](obj, parquet.Compression(&zstd.Codec{}))
	if _, err := w.Write(ru.rows()); err != nil {
		obj.Abort()
		return fmt.Errorf("rollup %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		obj.Abort()
		return fmt.Errorf("rollup %s: %w", key, err)
	}
	if err := obj.Commit(); err != nil {
		return fmt.Errorf("rollup %s: %w", key, err)
	}
	return nil
}
