package enrich

// TCP flag bits as flow logs report them: FIN=1, SYN=2, RST=4, and SYN-ACK
// as 18. Transit gateway flow logs also set PSH=8, ACK=16 and URG=32; ECE
// and CWR complete the byte.
const (
	flagFIN = 1 << iota
	flagSYN
	flagRST
	flagPSH
	flagACK
	flagURG
	flagECE
	flagCWR
)

// tcpFlagNames[v] is the decoded list for tcp-flags value v, built once.
var tcpFlagNames = func() (t [256][]string) {
	for v := range t {
		names := []string{}
		if v&flagFIN != 0 {
			names = append(names, "fin")
		}
		switch {
		case v&flagSYN != 0 && v&flagACK != 0:
			names = append(names, "syn-ack")
		case v&flagSYN != 0:
			names = append(names, "syn")
		}
		if v&flagRST != 0 {
			names = append(names, "rst")
		}
		if v&flagPSH != 0 {
			names = append(names, "psh")
		}
		if v&flagACK != 0 && v&flagSYN == 0 {
			names = append(names, "ack")
		}
		if v&flagURG != 0 {
			names = append(names, "urg")
		}
		if v&flagECE != 0 {
			names = append(names, "ece")
		}
		if v&flagCWR != 0 {
			names = append(names, "cwr")
		}
		t[v] = names[:len(names):len(names)]
	}
	return t
}()

// TCPFlagNames decodes an OR-ed tcp-flags value into flag names in bit
// order: "fin", "syn" or "syn-ack" (SYN together with ACK, as SYN-ACK=18),
// "rst", "psh", "ack" (ACK without SYN), "urg", "ece", "cwr". 0 gives an
// empty, non-nil list; a value outside 0–255 gives nil. The returned slice
// is shared and must not be modified.
func TCPFlagNames(v int32) []string {
	if v < 0 || v > 255 {
		return nil
	}
	return tcpFlagNames[v]
}
