package threatlist_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/flowlake/flowlake/shared/threatlist"
)

func ExampleParse() {
	text := `# made-up Tor exits
address,label
192.0.2.66,tor exit
192.0.2.128/25 tor relays
10.0.0.0/8 too wide
`
	l, bad, err := threatlist.Parse("tor-exits", "tor.csv", strings.NewReader(text))
	if err != nil {
		panic(err)
	}
	for _, e := range bad {
		fmt.Println(e)
	}
	for _, a := range []string{"192.0.2.66", "192.0.2.200", "192.0.2.1"} {
		label, ok := l.Lookup(netip.MustParseAddr(a))
		fmt.Printf("%s: %q %v\n", a, label, ok)
	}
	// Output:
	// tor.csv:5: address: IPv4 block shorter than /16 ("10.0.0.0/8")
	// 192.0.2.66: "tor exit" true
	// 192.0.2.200: "tor relays" true
	// 192.0.2.1: "" false
}
