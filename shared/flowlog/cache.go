package flowlog

import (
	"encoding/binary"
	"net/netip"
)

// The reader's caches, so that reading a record allocates nothing once its
// values have been seen. In front of them each string field of the plan has
// a small table of recent values (step.tab), which the parse loop checks
// inline.

const (
	// maxIntern bounds the reader's table of interned strings, so hostile
	// input with unique values costs allocations but never unbounded memory.
	maxIntern   = 1 << 16
	internBits  = 12
	internSlots = 1 << internBits
	recentBits  = 8
	recentSlots = 1 << recentBits
	addrBits    = 10
	addrSlots   = 1 << addrBits
)

// recent is an entry of a string field's table of recent values: the
// value and its words, so that a hit reads no string memory.
type recent struct {
	s  string
	tw tokenWords
}

// recentIndex picks a token's slot in a field's table of recent values
// from its last word (ids end in random hex).
func recentIndex(wl uint64) uint64 {
	return (wl * 0x9E3779B97F4A7C15) >> (64 - recentBits)
}

// interner turns repeated byte strings into shared strings without
// allocating: a direct-mapped cache, then a bounded map.
type interner struct {
	slots [internSlots]string
	m     map[string]string
}

func (in *interner) get(f Field, b []byte) string {
	slot := &in.slots[hashBytes(b, uint64(f))>>(64-internBits)]
	s := *slot
	if s != string(b) { // no allocation: the compiler compares in place
		var ok bool
		s, ok = in.m[string(b)]
		if !ok {
			s = string(b)
			if in.m == nil {
				in.m = make(map[string]string, 256)
			}
			if len(in.m) < maxIntern {
				in.m[s] = s
			}
		}
		*slot = s
	}
	return s
}

// addrCache maps address tokens to parsed addresses in a direct-mapped
// table. Flow logs repeat addresses heavily: one end of every record is the
// interface's own address, and pkt-srcaddr/pkt-dstaddr mostly repeat
// srcaddr/dstaddr.
type addrCache struct {
	ent *[addrSlots]addrEntry
}

type addrEntry struct {
	tw tokenWords // of the token
	a  netip.Addr
}

// addrIndex picks a token's slot in the address cache from its last word.
func addrIndex(wl uint64) uint64 {
	return (wl * 0xC2B2AE3D27D4EB4F) >> (64 - addrBits)
}

func (c *addrCache) parse(tok []byte) (netip.Addr, error) {
	if c.ent == nil {
		c.ent = new([addrSlots]addrEntry)
	}
	tw := wordsOf(tok)
	e := &c.ent[addrIndex(tw.last)]
	if len(tok) <= maxWordsLen && e.tw == tw {
		return e.a, nil
	}
	a, err := parseAddr(tok)
	if err != nil || len(tok) > maxWordsLen {
		return a, err
	}
	e.tw, e.a = tw, a
	return a, nil
}

// hashBytes is a fast hash of short byte strings, seeded with seed. Ids
// and addresses differ most in their last bytes, so it mixes the last
// eight with the length; collisions only cost a miss, never a wrong value.
func hashBytes(b []byte, seed uint64) uint64 {
	h := uint64(len(b))<<56 ^ seed<<48
	if len(b) >= 8 {
		h ^= binary.LittleEndian.Uint64(b[len(b)-8:])
	} else {
		for _, c := range b {
			h = h<<8 | uint64(c)
		}
	}
	return h * 0x9E3779B97F4A7C15
}
