package enrichtest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/flowlake/flowlake/shared/enrich"
)

// EC2Server is a loopback HTTP server that answers EC2's query API for
// Action=DescribeNetworkInterfaces (form-encoded POST) with XML of the
// shape EC2 returns: networkInterfaceSet/item with attachment, groupSet,
// tagSet, privateIpAddressesSet, ipv6AddressesSet, and nextToken
// pagination. It supports the network-interface-id filter and
// NetworkInterfaceId.N, counts requests, and can fail on demand.
type EC2Server struct {
	*httptest.Server

	mu       sync.Mutex
	enis     map[string]enrich.ENI
	calls    int
	fails    []failure
	pageSize int
	delay    time.Duration
	asked    [][]string
}

type failure struct {
	status int
	code   string
}

// NewEC2Server starts a server that knows enis. Close it when done.
func NewEC2Server(enis ...enrich.ENI) *EC2Server {
	s := &EC2Server{enis: map[string]enrich.ENI{}, pageSize: 1000}
	for _, n := range enis {
		s.enis[n.ID] = n
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Calls returns the number of requests the server has seen, failed ones
// included.
func (s *EC2Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Asked returns the ENI ids of every request, in order.
func (s *EC2Server) Asked() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.asked)
}

// SetPageSize sets the most interfaces per response page (as if the
// caller's MaxResults were smaller).
func (s *EC2Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// SetDelay makes every response wait d first.
func (s *EC2Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// FailNext makes the next n requests fail with HTTP status and EC2 error
// code, such as 503 RequestLimitExceeded or 500 InternalError.
func (s *EC2Server) FailNext(n, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fails = append(s.fails, failure{status, code})
	}
}

// Client returns an SDK client for the server: static credentials, the
// standard retryer without backoff or client-side rate limit, so retries
// are immediate.
func (s *EC2Server) Client() *ec2.Client {
	return ec2.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				o.RateLimiter = ratelimit.None
			})
		},
	}, func(o *ec2.Options) {
		o.BaseEndpoint = aws.String(s.URL)
		o.HTTPClient = &http.Client{Transport: bufferedBody{http.DefaultTransport.(*http.Transport).Clone()}}
	})
}

// bufferedBody sends a copy of each request body. The SDK closes its body
// as soon as RoundTrip returns, which can race net/http's final read of it
// and tear the connection down mid-response; the SDK then retries, which is
// harmless in production but would make the server's call counts flaky.
type bufferedBody struct{ rt http.RoundTripper }

func (b bufferedBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return b.rt.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("buffer request body: %w", err)
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r2.ContentLength = int64(len(body))
	return b.rt.RoundTrip(r2)
}

func (s *EC2Server) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		writeError(w, http.StatusBadRequest, "MalformedQueryString", "bad request")
		return
	}
	s.mu.Lock()
	s.calls++
	delay := s.delay
	var fail *failure
	if len(s.fails) > 0 {
		fail = &s.fails[0]
		s.fails = s.fails[1:]
	}
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if fail != nil {
		writeError(w, fail.status, fail.code, "injected failure")
		return
	}
	if a := r.PostForm.Get("Action"); a != "DescribeNetworkInterfaces" {
		writeError(w, http.StatusBadRequest, "InvalidAction", "unsupported action "+a)
		return
	}
	ids, filtered := requestedIDs(r.PostForm)
	s.mu.Lock()
	s.asked = append(s.asked, ids)
	var match []enrich.ENI
	for _, n := range s.enis {
		if !filtered || slices.Contains(ids, n.ID) {
			match = append(match, n)
		}
	}
	pageSize := s.pageSize
	s.mu.Unlock()
	sort.Slice(match, func(i, j int) bool { return match[i].ID < match[j].ID })
	if mr, err := strconv.Atoi(r.PostForm.Get("MaxResults")); err == nil && mr > 0 && mr < pageSize {
		pageSize = mr
	}
	start := 0
	if t := r.PostForm.Get("NextToken"); t != "" {
		start, _ = strconv.Atoi(strings.TrimPrefix(t, "tok-"))
	}
	start = min(start, len(match))
	end := min(start+pageSize, len(match))
	resp := describeResponse{Xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/", RequestID: "req-" + strconv.Itoa(start)}
	for _, n := range match[start:end] {
		resp.Items = append(resp.Items, itemOf(n))
	}
	if end < len(match) {
		resp.NextToken = "tok-" + strconv.Itoa(end)
	}
	body, err := xml.Marshal(resp)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	body = append([]byte(xml.Header), body...)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// requestedIDs returns the ids of the network-interface-id filters and
// NetworkInterfaceId.N parameters, and whether there were any.
func requestedIDs(form url.Values) ([]string, bool) {
	var ids []string
	filtered := false
	for k, v := range form {
		if strings.HasPrefix(k, "NetworkInterfaceId.") {
			ids, filtered = append(ids, v...), true
		}
	}
	for i := 1; ; i++ {
		name := form.Get(fmt.Sprintf("Filter.%d.Name", i))
		if name == "" {
			break
		}
		if name != "network-interface-id" {
			continue
		}
		filtered = true
		for j := 1; ; j++ {
			v := form.Get(fmt.Sprintf("Filter.%d.Value.%d", i, j))
			if v == "" {
				break
			}
			ids = append(ids, v)
		}
	}
	sort.Strings(ids)
	return ids, filtered
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>req-err</RequestID></Response>`, code, msg)
}

type describeResponse struct {
	XMLName   xml.Name `xml:"DescribeNetworkInterfacesResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	Items     []niItem `xml:"networkInterfaceSet>item"`
	NextToken string   `xml:"nextToken,omitempty"`
}

type niItem struct {
	ID               string      `xml:"networkInterfaceId"`
	SubnetID         string      `xml:"subnetId,omitempty"`
	VPCID            string      `xml:"vpcId,omitempty"`
	AZ               string      `xml:"availabilityZone"`
	Description      string      `xml:"description"`
	OwnerID          string      `xml:"ownerId"`
	RequesterManaged bool        `xml:"requesterManaged"`
	Status           string      `xml:"status"`
	PrivateIP        string      `xml:"privateIpAddress,omitempty"`
	Groups           []niGroup   `xml:"groupSet>item"`
	Attachment       *niAttach   `xml:"attachment,omitempty"`
	Association      *niAssoc    `xml:"association,omitempty"`
	Tags             []niTag     `xml:"tagSet>item"`
	PrivateIPs       []niPrivate `xml:"privateIpAddressesSet>item"`
	IPv6s            []niIPv6    `xml:"ipv6AddressesSet>item"`
	InterfaceType    string      `xml:"interfaceType,omitempty"`
}

type niGroup struct {
	ID   string `xml:"groupId"`
	Name string `xml:"groupName"`
}

type niAttach struct {
	ID         string `xml:"attachmentId"`
	InstanceID string `xml:"instanceId,omitempty"`
	Device     int    `xml:"deviceIndex"`
	Status     string `xml:"status"`
}

type niAssoc struct {
	PublicIP string `xml:"publicIp"`
	IPOwner  string `xml:"ipOwnerId"`
}

type niTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type niPrivate struct {
	IP          string   `xml:"privateIpAddress"`
	Primary     bool     `xml:"primary"`
	Association *niAssoc `xml:"association,omitempty"`
}

type niIPv6 struct {
	IP string `xml:"ipv6Address"`
}

// itemOf renders n as EC2 would. The first IPv4 address in n.Addrs is the
// primary private address; a public IPv4 is its association; other IPv4s
// are secondary private addresses; IPv6s go to ipv6AddressesSet.
func itemOf(n enrich.ENI) niItem {
	it := niItem{
		ID: n.ID, SubnetID: n.SubnetID, VPCID: n.VPCID, AZ: "us-east-1a",
		Description: n.Description, OwnerID: "123456789012", Status: "in-use",
		InterfaceType: n.Type,
	}
	if n.InstanceID != "" {
		it.Attachment = &niAttach{ID: "eni-attach-" + strings.TrimPrefix(n.ID, "eni-"), InstanceID: n.InstanceID, Status: "attached"}
	}
	for i, g := range n.SecurityGroupIDs {
		it.Groups = append(it.Groups, niGroup{g, "sg-name-" + strconv.Itoa(i)})
	}
	keys := make([]string, 0, len(n.Tags))
	for k := range n.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		it.Tags = append(it.Tags, niTag{k, n.Tags[k]})
	}
	for _, a := range n.Addrs {
		switch {
		case a.Is6():
			it.IPv6s = append(it.IPv6s, niIPv6{a.String()})
		case it.PrivateIP == "":
			it.PrivateIP = a.String()
			it.PrivateIPs = append(it.PrivateIPs, niPrivate{IP: a.String(), Primary: true})
		case enrich.ClassifyIP(a) == enrich.IPClassPublic && it.Association == nil:
			it.Association = &niAssoc{PublicIP: a.String(), IPOwner: "amazon"}
			it.PrivateIPs[0].Association = it.Association
		default:
			it.PrivateIPs = append(it.PrivateIPs, niPrivate{IP: a.String()})
		}
	}
	return it
}
