package flowlog

import (
	"bytes"
	"net/netip"
)

// setField parses tok as field f into rec. "-" is null for every field.
func (r *Reader) setField(rec *Record, f Field, tok []byte) error {
	if f == FieldUnknown {
		return nil
	}
	off := fieldOffset[f]
	switch fields[f].kind {
	case KindString:
		*fieldAt[string](rec, off) = r.in.get(f, tok)
	case KindAddr:
		a, err := r.addrs.parse(tok)
		if err != nil {
			return err
		}
		*fieldAt[netip.Addr](rec, off) = a
	case KindInt64:
		v, err := parseUint(tok, 1<<63-1)
		if err != nil {
			return err
		}
		*fieldAt[int64](rec, off) = int64(v)
	case KindPort:
		v, err := parseUint(tok, 65535)
		if err != nil {
			return err
		}
		*fieldAt[uint16](rec, off) = uint16(v)
	case KindProtocol:
		v, err := parseUint(tok, 255)
		if err != nil {
			return err
		}
		*fieldAt[uint8](rec, off) = uint8(v)
	case KindInt32:
		v, err := parseUint(tok, 1<<31-1)
		if err != nil {
			return err
		}
		if f == FieldVersion && v < 2 {
			return ErrVersion
		}
		*fieldAt[int32](rec, off) = int32(v)
	case KindAction:
		switch string(tok) {
		case "ACCEPT":
			rec.Action = ActionAccept
		case "REJECT":
			rec.Action = ActionReject
		default:
			return ErrAction
		}
	case KindLogStatus:
		switch string(tok) {
		case "OK":
			rec.LogStatus = LogStatusOK
		case "NODATA":
			rec.LogStatus = LogStatusNoData
		case "SKIPDATA":
			rec.LogStatus = LogStatusSkipData
		default:
			return ErrLogStatus
		}
	}
	rec.Set = rec.Set.With(f)
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

// parseUint parses decimal digits into a value no greater than max.
func parseUint(b []byte, max uint64) (uint64, error) {
	if len(b) == 0 {
		return 0, ErrSyntax
	}
	for len(b) > 1 && b[0] == '0' {
		b = b[1:]
	}
	if len(b) > 19 {
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, ErrSyntax
			}
		}
		return 0, ErrRange
	}
	var v uint64
	for _, c := range b {
		c -= '0'
		if c > 9 {
			return 0, ErrSyntax
		}
		v = v*10 + uint64(c)
	}
	if v > max {
		return 0, ErrRange
	}
	return v, nil
}

// parseAddr parses an IPv4 address on a fast path and anything else with
// netip. Zones are refused: flow logs never carry them.
func parseAddr(b []byte) (netip.Addr, error) {
	if a, ok := parseIPv4(b); ok {
		return a, nil
	}
	if len(b) == 0 || bytes.IndexByte(b, ':') < 0 || bytes.IndexByte(b, '%') >= 0 {
		return netip.Addr{}, ErrAddr
	}
	// The string shares b: without a zone the address keeps none of it,
	// and the error that would is dropped.
	a, err := netip.ParseAddr(bytesString(b))
	if err != nil {
		return netip.Addr{}, ErrAddr
	}
	return a, nil
}

// parseIPv4 parses dotted-quad IPv4 with netip's rules (no leading zeros).
func parseIPv4(b []byte) (netip.Addr, bool) {
	if len(b) < 7 || len(b) > 15 {
		return netip.Addr{}, false
	}
	var ip, v uint32
	digits, dots := 0, 0
	for _, c := range b {
		if c == '.' {
			if digits == 0 || v > 255 {
				return netip.Addr{}, false
			}
			ip, v, digits = ip<<8|v, 0, 0
			dots++
			continue
		}
		d := uint32(c - '0')
		if d > 9 || (digits > 0 && v == 0) {
			return netip.Addr{}, false
		}
		v = v*10 + d
		digits++
	}
	if dots != 3 || digits == 0 || v > 255 {
		return netip.Addr{}, false
	}
	ip = ip<<8 | v
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), true
}
