package enrichtest

import (
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/flowlake/flowlake/shared/enrich"
)

// RandomFields returns n enrichments in which every column is set, or not,
// at random (seeded), with values of every shape: empty and non-empty
// lists and maps, an empty but set string, IPv4 and IPv6 peers, many more
// distinct peers than a cache of recent ones holds, and repeats. It is for
// tests of columnar readers and writers of enrich.Fields.
func RandomFields(seed uint64, n int) []enrich.Fields {
	rng := rand.New(rand.NewPCG(seed, 1))
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	out := make([]enrich.Fields, n)
	for i := range out {
		f := &out[i]
		for _, c := range enrich.Columns() {
			if rng.IntN(4) != 0 {
				f.Set = f.Set.With(c)
			}
		}
		f.ProtocolName = pick("tcp", "udp", "icmp", "ipv6-icmp", "")
		f.TCPFlagNames = [][]string{{}, {"syn"}, {"syn", "ack"}, {"fin", "syn", "rst", "psh", "ack"}}[rng.IntN(4)]
		f.SrcIPClass = enrich.IPClass(rng.IntN(int(enrich.IPClassUnspecified) + 1))
		f.DstIPClass = enrich.IPClass(rng.IntN(int(enrich.IPClassUnspecified) + 1))
		f.Direction = enrich.Direction(rng.IntN(3))
		f.SrcService, f.DstService = pick("ssh", "https", "postgresql", ""), pick("dns", "rdp", "")
		switch rng.IntN(3) {
		case 0:
			f.PeerAddr = netip.AddrFrom4([4]byte{52, byte(i >> 8), byte(i), byte(rng.IntN(4))})
		case 1:
			f.PeerAddr = netip.AddrFrom16([16]byte{0x26, 0x00, 14: byte(i >> 8), 15: byte(i)})
		default:
			f.PeerAddr = netip.MustParseAddr(pick("10.0.0.1", "10.0.0.2", "2600:1f18::1"))
		}
		f.SrcAWSService, f.SrcAWSRegion = pick("S3", "EC2", "AMAZON"), pick("us-east-1", "GLOBAL")
		f.DstAWSService, f.DstAWSRegion = pick("CLOUDFRONT", "AMAZON"), pick("eu-west-1", "GLOBAL")
		f.SrcCountry, f.DstCountry = pick("US", "DE", "JP"), pick("FR", "BR")
		f.SrcASN, f.DstASN = int64(rng.IntN(70000)), int64(rng.IntN(70000))
		f.SrcASOrg, f.DstASOrg = pick("AMAZON-02", "GOOGLE"), pick("CLOUDFLARENET", "")
		f.ENIInstanceID = fmt.Sprintf("i-%017x", rng.IntN(8))
		f.ENIType = pick("interface", "natGateway", "lambda")
		f.ENIVPCID, f.ENISubnetID = pick("vpc-1", "vpc-2"), pick("subnet-1", "subnet-2", "subnet-3")
		f.ENISecurityGroupIDs = [][]string{{}, {"sg-1"}, {"sg-1", "sg-2", "sg-3"}}[rng.IntN(3)]
		f.ENIDescription = pick("web", "database", "")
		f.ENITags = []map[string]string{{}, {"Name": "web"}, {"team": "data", "Name": "db", "env": "prod"}}[rng.IntN(3)]
	}
	return out
}
