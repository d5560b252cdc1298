package autodiscover

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coredns/coredns/plugin/pkg/nonwriter"

	"github.com/miekg/dns"
)

// zoneSOA returns the SOA to put in the authority section of a negative answer for a name
// in mail domain d, owned by the zone apex as the client spelled it. A backend serving
// the domain has the real one; a domain served alone gets the plugin's own.
func (a *Autodiscover) zoneSOA(ctx context.Context, w dns.ResponseWriter, qname, d string) dns.RR {
	soa := a.backendSOA(ctx, w, d)
	if soa == nil {
		return negative(qname, a.ownSOA(d))
	}
	return negative(qname, a.fronted(soa))
}

// negative returns soa as the authority of a negative answer to qname: owned by the apex as
// the client spelled it, with the TTL RFC 2308 section 3 asks for, the lesser of its TTL
// and MINIMUM.
func negative(qname string, soa *dns.SOA) dns.RR {
	cp := *soa
	cp.Hdr.Name = spelled(qname, soa.Hdr.Name)
	cp.Hdr.Ttl = min(cp.Hdr.Ttl, cp.Minttl)
	return &cp
}

// backendSOA asks the rest of the chain for the SOA of d's zone, which is in the answer
// when d is the zone's apex and in the authority section when d lies deeper in the zone.
// The answer is remembered for a second: negative answers come in bursts, and asking the
// backend twice per query would halve its speed.
func (a *Autodiscover) backendSOA(ctx context.Context, w dns.ResponseWriter, d string) *dns.SOA {
	if a.Next == nil {
		return nil
	}
	now := time.Now()
	if soa, ok := a.soaCache.get(d, now); ok {
		return soa
	}
	probe := new(dns.Msg)
	probe.SetQuestion(d, dns.TypeSOA)
	nw := nonwriter.New(w)
	a.Next.ServeDNS(ctx, nw, probe) // the result is in nw.Msg, or nowhere
	var soa *dns.SOA
	if nw.Msg != nil && nw.Msg.Rcode == dns.RcodeSuccess {
		soa = findSOA(d, nw.Msg.Answer, nw.Msg.Ns)
	}
	a.soaCache.put(d, soa, now)
	return soa
}

func findSOA(d string, sections ...[]dns.RR) *dns.SOA {
	for _, section := range sections {
		for _, rr := range section {
			if soa, ok := rr.(*dns.SOA); ok && dns.IsSubDomain(soa.Hdr.Name, d) {
				return soa
			}
		}
	}
	return nil
}

// soaCache holds the backends' SOA records, or their absence, per mail domain for a second.
type soaCache struct {
	mu sync.Mutex
	m  map[string]cachedSOA
}

type cachedSOA struct {
	soa   *dns.SOA // nil: no backend has the domain
	until time.Time
}

// soaCacheSize bounds the cache; when it is full it starts again, which costs one backend
// query per domain in the next second.
const soaCacheSize = 10000

func (c *soaCache) get(d string, now time.Time) (*dns.SOA, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[d]
	if !ok || now.After(e.until) {
		return nil, false
	}
	return e.soa, true
}

func (c *soaCache) put(d string, soa *dns.SOA, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= soaCacheSize {
		c.m = make(map[string]cachedSOA)
	}
	c.m[d] = cachedSOA{soa: soa, until: now.Add(time.Second)}
}

// ownSOA is the SOA of a mail domain the plugin serves alone.
func (a *Autodiscover) ownSOA(d string) *dns.SOA {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: d, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: a.ttl},
		Ns:      a.ns[0],
		Mbox:    "hostmaster." + d,
		Serial:  a.serial,
		Refresh: 7200,
		Retry:   1800,
		Expire:  1209600,
		Minttl:  a.ttl,
	}
}

// spelled returns canonical, a suffix of qname apart from case, as the client spelled it (0x20).
func spelled(qname, canonical string) string {
	if n := len(qname) - len(canonical); n >= 0 && strings.EqualFold(qname[n:], canonical) {
		return qname[n:]
	}
	return canonical
}

// serials remembers, per server block, the last configuration and its serial, so that a
// reload that changes nothing keeps the serial and one that changes anything raises it.
var serials = struct {
	sync.Mutex
	m map[string]blockSerial // server block keys -> the last configuration
}{m: map[string]blockSerial{}}

type blockSerial struct {
	content uint64 // fingerprint of the configuration
	serial  uint32
}

// serialFor returns the SOA serial for a configuration: the time it was first seen, or
// one more than the previous serial when the clock has not moved past it (RFC 1982). It also
// says whether the configuration differs from the one the server block had before.
func serialFor(block string, content uint64) (uint32, bool) {
	serials.Lock()
	defer serials.Unlock()
	prev, seen := serials.m[block]
	if seen && prev.content == content {
		return prev.serial, false
	}
	serial := uint32(time.Now().Unix())
	if seen && !newer(serial, prev.serial) {
		serial = prev.serial + 1
	}
	serials.m[block] = blockSerial{content: content, serial: serial}
	return serial, seen
}

// fingerprint hashes everything that ends up in an answer.
func (a *Autodiscover) fingerprint() uint64 {
	h := fnv.New64a()
	domains := slices.Sorted(maps.Keys(a.inline))
	hosts := slices.Sorted(maps.Keys(a.hosts))
	apexes := slices.Sorted(maps.Keys(a.apexes))
	for _, part := range [][]string{domains, hosts, apexes, a.ns, {a.target}} {
		for _, s := range part {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
	}
	for _, ips := range [][]netip.Addr{a.external, a.internal} {
		for _, ip := range ips {
			h.Write(ip.AsSlice())
		}
		h.Write([]byte{0})
	}
	for _, p := range a.networks {
		b, _ := p.MarshalBinary()
		h.Write(b)
	}
	var b [13]byte
	binary.BigEndian.PutUint16(b[0:], a.port)
	binary.BigEndian.PutUint16(b[2:], a.priority)
	binary.BigEndian.PutUint16(b[4:], a.weight)
	binary.BigEndian.PutUint32(b[6:], a.ttl)
	if a.hideApex {
		b[12] = 1
	}
	h.Write(b[:])
	return h.Sum64()
}
