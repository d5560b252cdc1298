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
		soa = a.ownSOA(d)
	} else {
		soa = a.fronted(soa)
	}
	cp := *soa
	cp.Hdr.Name = spelled(qname, soa.Hdr.Name)
	// RFC 2308 section 3: the TTL of the SOA is the lesser of its TTL and MINIMUM.
	cp.Hdr.Ttl = min(cp.Hdr.Ttl, cp.Minttl)
	return &cp
}

// backendSOA asks the rest of the chain for the SOA of d's zone, which is in the answer
// when d is the zone's apex and in the authority section when d lies deeper in the zone.
func (a *Autodiscover) backendSOA(ctx context.Context, w dns.ResponseWriter, d string) *dns.SOA {
	if a.Next == nil {
		return nil
	}
	probe := new(dns.Msg)
	probe.SetQuestion(d, dns.TypeSOA)
	nw := nonwriter.New(w)
	a.Next.ServeDNS(ctx, nw, probe) // the result is in nw.Msg, or nowhere
	if nw.Msg == nil || nw.Msg.Rcode != dns.RcodeSuccess {
		return nil
	}
	for _, section := range [][]dns.RR{nw.Msg.Answer, nw.Msg.Ns} {
		for _, rr := range section {
			if soa, ok := rr.(*dns.SOA); ok && dns.IsSubDomain(soa.Hdr.Name, d) {
				return soa
			}
		}
	}
	return nil
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
	m map[string][2]uint64 // server block keys -> {content hash, serial}
}{m: map[string][2]uint64{}}

// serialFor returns the SOA serial for a configuration: the time it was first seen, or
// one more than the previous serial when the clock has not moved past it (RFC 1982). It also
// says whether the configuration differs from the one the server block had before.
func serialFor(block string, content uint64) (uint32, bool) {
	serials.Lock()
	defer serials.Unlock()
	prev, seen := serials.m[block]
	if seen && prev[0] == content {
		return uint32(prev[1]), false
	}
	serial := uint32(time.Now().Unix())
	if seen && int32(serial-uint32(prev[1])) <= 0 {
		serial = uint32(prev[1]) + 1
	}
	serials.m[block] = [2]uint64{content, uint64(serial)}
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
