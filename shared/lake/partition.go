package lake

import (
	"strings"
	"time"
)

// Partition is one Hive partition of the lake: the flow log's account and
// region, and the UTC hour of the records' start.
type Partition struct {
	Account string // aws_account
	Region  string // aws_region
	Hour    int64  // Unix hours: Unix seconds / 3600
}

// Unknown is the partition value used when neither the source nor the
// record gives the account or the region.
const Unknown = "unknown"

// Day returns the day partition value, yyyy-MM-dd.
func (p Partition) Day() string { return time.Unix(p.Hour*3600, 0).UTC().Format(time.DateOnly) }

// HourOfDay returns the hour partition value, "00" to "23".
func (p Partition) HourOfDay() string { return time.Unix(p.Hour*3600, 0).UTC().Format("15") }

// Path returns the partition's folder, relative to the lake's root:
// aws_account=…/aws_region=…/day=yyyy-MM-dd/hour=HH.
func (p Partition) Path() string {
	var b strings.Builder
	b.WriteString(KeyAccount + "=")
	b.WriteString(escapeValue(p.Account))
	b.WriteString("/" + KeyRegion + "=")
	b.WriteString(escapeValue(p.Region))
	b.WriteString("/" + KeyDay + "=")
	b.WriteString(p.Day())
	b.WriteString("/" + KeyHour + "=")
	b.WriteString(p.HourOfDay())
	return b.String()
}

// escapeValue keeps a partition value safe in a path: letters, digits, '-',
// '_' and '.' stay, anything else becomes %XX as Hive escapes it.
func escapeValue(v string) string {
	if v == "" {
		return Unknown
	}
	safe := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	ok := v != "." && v != ".."
	for i := 0; ok && i < len(v); i++ {
		ok = safe(v[i])
	}
	if ok {
		return v
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; safe(c) && c != '.' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
