// Package threatlist reads threat lists: plain text or CSV files of
// addresses and CIDR blocks, each with an optional label, such as the Tor
// exit nodes or a vendor's blocklist, and answers whether an address is on
// one (List.Lookup, allocation-free, for the batch engine at ingest).
//
// A list is one entry a line: an address or a CIDR block, then, after
// whitespace or a comma (CSV "address,label"), an optional label. Blank
// lines and lines starting with '#' are skipped, and so is a header line
// ("address,label", "ip", "cidr"…) before the first entry. A line that
// cannot be read is a *ParseError naming the list, the line and the field;
// the reader goes on, so a bad line never loses the good ones.
//
// Entries must be what both detection engines can match: the lake engine
// joins the list as a table (Rows) on the address text, so an IPv4 block
// may be no shorter than /16 (it is written as the /24 blocks it covers),
// and IPv6 entries are single addresses.
//
// It imports only the standard library: a list is plain values, and the
// Parquet table of lists is written by package lake (lake.WriteThreatList).
package threatlist
