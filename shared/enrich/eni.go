package enrich

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ENI is the metadata of one network interface, as EC2 describes it.
// It is shared by every record of the interface and must not be modified.
type ENI struct {
	ID               string
	InstanceID       string
	Type             string // EC2's interfaceType: interface, natGateway, lambda, vpc_endpoint, ...
	VPCID            string
	SubnetID         string
	Description      string
	SecurityGroupIDs []string
	Tags             map[string]string
	// Addrs are the interface's own addresses: private IPv4s, IPv6s and
	// associated public IPv4s.
	Addrs []netip.Addr
}

// HasAddr reports whether a is one of the interface's own addresses.
func (n *ENI) HasAddr(a netip.Addr) bool {
	for _, x := range n.Addrs {
		if x == a {
			return true
		}
	}
	return false
}

// DescribeNetworkInterfacesAPI is the EC2 method the Enricher uses;
// *ec2.Client implements it.
type DescribeNetworkInterfacesAPI interface {
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
}

// WithThrottleRetries is an ec2 option for clients given to the Enricher:
// the SDK's standard retryer (which retries RequestLimitExceeded and 5xx
// with jittered backoff) with more attempts, so bursts of throttling are
// absorbed rather than turned into NULL metadata.
func WithThrottleRetries(o *ec2.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 6
		so.MaxBackoff = 5 * time.Second
	})
}

// eniChunk is the most ENI ids put in one request's network-interface-id
// filter; EC2 accepts up to 200 values per filter.
const eniChunk = 200

// eniCache caches ENI metadata with a TTL. Unknown ids of one call are
// fetched together; concurrent callers asking for the same ids wait for
// the call already in flight.
type eniCache struct {
	api    DescribeNetworkInterfacesAPI
	now    func() time.Time
	ttl    time.Duration // found ENIs
	negTTL time.Duration // ids EC2 did not return
	errTTL time.Duration // ids whose lookup failed

	mu      sync.Mutex
	m       map[string]*eniEntry
	pruneAt int // prune expired entries when m grows to this size
}

// minPrune is the smallest cache size at which expired entries are pruned.
const minPrune = 4096

// eniEntry is one cached id. An entry is immutable once ready is closed;
// a refresh replaces the entry in the map.
type eniEntry struct {
	eni     *ENI // nil: not found, or the lookup failed
	failed  bool // the lookup failed (EC2 unavailable)
	expires time.Time
	ready   chan struct{}
	done    bool // guarded by eniCache.mu; ready is closed
}

// eniStats counts what one resolve did.
type eniStats struct {
	calls    int // DescribeNetworkInterfaces requests (pages)
	errors   int // failed fetches
	notFound int // ids EC2 did not return
}

// resolve fills out[i] with the ready cache entry of ids[i]; out[i] stays
// nil only when ctx ended while another call was fetching it.
func (c *eniCache) resolve(ctx context.Context, ids []string, out []*eniEntry) (st eniStats, err error) {
	now := c.now()
	var mine []int       // indexes of ids this call fetches
	var wait []*eniEntry // entries another call is fetching, by index in waitIdx
	var waitIdx []int
	ents := out
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]*eniEntry)
	}
	if len(c.m) >= max(c.pruneAt, minPrune) {
		c.pruneLocked(now)
	}
	for i, id := range ids {
		en := c.m[id]
		switch {
		case en != nil && !en.done:
			wait, waitIdx = append(wait, en), append(waitIdx, i)
			continue
		case en != nil && now.Before(en.expires):
			out[i] = en
			continue
		default:
			nen := &eniEntry{ready: make(chan struct{})}
			if en != nil {
				nen.eni = en.eni // served stale if the refresh fails
			}
			c.m[id] = nen
			en = nen
			mine = append(mine, i)
			ents[i] = en
		}
	}
	c.mu.Unlock()

	if len(mine) > 0 {
		want := make([]string, len(mine))
		for k, i := range mine {
			want[k] = ids[i]
		}
		found, calls, ferr := c.fetch(ctx, want)
		st.calls = calls
		if ferr != nil {
			st.errors++
			err = ferr
		}
		exp := now.Add(c.ttl)
		c.mu.Lock()
		for _, i := range mine {
			en := ents[i]
			switch n, ok := found[ids[i]]; {
			case ok:
				en.eni, en.expires = n, exp
			case ferr != nil:
				en.failed, en.expires = true, now.Add(c.errTTL)
			default:
				en.eni, en.expires = nil, now.Add(c.negTTL)
				st.notFound++
			}
			en.done = true
			close(en.ready)
		}
		c.mu.Unlock()
	}
	for k, en := range wait {
		select {
		case <-en.ready:
			out[waitIdx[k]] = en
		case <-ctx.Done():
			return st, fmt.Errorf("wait for network interfaces: %w", ctx.Err())
		}
	}
	return st, err
}

// pruneLocked drops entries that expired and are not being fetched, and
// sets the size for the next pruning to twice what is left, so the cost
// is amortized over the insertions.
func (c *eniCache) pruneLocked(now time.Time) {
	for id, en := range c.m {
		if en.done && !now.Before(en.expires) {
			delete(c.m, id)
		}
	}
	c.pruneAt = 2 * len(c.m)
}

// fetch describes ids, in chunks of eniChunk, following NextToken. It
// returns what it found even when a later page fails.
func (c *eniCache) fetch(ctx context.Context, ids []string) (map[string]*ENI, int, error) {
	found := make(map[string]*ENI, len(ids))
	calls := 0
	for chunk := range slices.Chunk(ids, eniChunk) {
		in := &ec2.DescribeNetworkInterfacesInput{
			Filters:    []types.Filter{{Name: aws.String("network-interface-id"), Values: chunk}},
			MaxResults: aws.Int32(1000),
		}
		p := ec2.NewDescribeNetworkInterfacesPaginator(c.api, in)
		for p.HasMorePages() {
			calls++
			page, err := p.NextPage(ctx)
			if err != nil {
				return found, calls, fmt.Errorf("describe %d network interfaces: %w", len(chunk), err)
			}
			for i := range page.NetworkInterfaces {
				n := eniFromEC2(&page.NetworkInterfaces[i])
				if n.ID != "" {
					found[n.ID] = n
				}
			}
		}
	}
	return found, calls, nil
}

func eniFromEC2(ni *types.NetworkInterface) *ENI {
	n := &ENI{
		ID:          aws.ToString(ni.NetworkInterfaceId),
		Type:        string(ni.InterfaceType),
		VPCID:       aws.ToString(ni.VpcId),
		SubnetID:    aws.ToString(ni.SubnetId),
		Description: aws.ToString(ni.Description),
	}
	if ni.Attachment != nil {
		n.InstanceID = aws.ToString(ni.Attachment.InstanceId)
	}
	for _, g := range ni.Groups {
		if g.GroupId != nil {
			n.SecurityGroupIDs = append(n.SecurityGroupIDs, *g.GroupId)
		}
	}
	if len(ni.TagSet) > 0 {
		n.Tags = make(map[string]string, len(ni.TagSet))
		for _, t := range ni.TagSet {
			n.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	addAddr := func(s *string) {
		if s == nil {
			return
		}
		if a, err := netip.ParseAddr(*s); err == nil && !slices.Contains(n.Addrs, a) {
			n.Addrs = append(n.Addrs, a)
		}
	}
	addAddr(ni.PrivateIpAddress)
	if ni.Association != nil {
		addAddr(ni.Association.PublicIp)
	}
	for _, p := range ni.PrivateIpAddresses {
		addAddr(p.PrivateIpAddress)
		if p.Association != nil {
			addAddr(p.Association.PublicIp)
		}
	}
	for _, p := range ni.Ipv6Addresses {
		addAddr(p.Ipv6Address)
	}
	addAddr(ni.Ipv6Address)
	return n
}
