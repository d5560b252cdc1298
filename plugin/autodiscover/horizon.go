package autodiscover

import (
	"net"
	"net/netip"

	"github.com/miekg/dns"
)

// horizon is the view of the zone a client gets, decided by its source address only:
// anything else a client sends (EDNS Client Subnet) can be forged.
type horizon int

const (
	external horizon = iota
	internal
)

func (h horizon) String() string {
	if h == internal {
		return "internal"
	}
	return "external"
}

// horizonOf returns internal only for a client whose address is in an internal network;
// an address that cannot be read is external, so an internal answer never leaks by mistake.
func (a *Autodiscover) horizonOf(w dns.ResponseWriter) horizon {
	if len(a.networks) == 0 {
		return external
	}
	var client netip.Addr
	switch addr := w.RemoteAddr().(type) {
	case *net.UDPAddr:
		client, _ = netip.AddrFromSlice(addr.IP)
	case *net.TCPAddr:
		client, _ = netip.AddrFromSlice(addr.IP)
	case nil:
		return external
	default:
		ap, err := netip.ParseAddrPort(addr.String())
		if err != nil {
			return external
		}
		client = ap.Addr()
	}
	return a.horizonOfAddr(client)
}

func (a *Autodiscover) horizonOfAddr(client netip.Addr) horizon {
	client = client.Unmap()
	for _, p := range a.networks {
		if p.Contains(client) {
			return internal
		}
	}
	return external
}

// horizons reports whether the two horizons get different answers.
func (a *Autodiscover) horizons() bool { return len(a.internal) > 0 }

// addressRecords returns the A and AAAA records of addrs with no owner; the owner is the
// name as the client spelled it, filled in per query.
func addressRecords(addrs []netip.Addr, ttl uint32) []dns.RR {
	rrs := make([]dns.RR, 0, len(addrs))
	for _, ip := range addrs {
		if ip.Is4() {
			rrs = append(rrs, &dns.A{Hdr: dns.RR_Header{Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: ip.AsSlice()})
			continue
		}
		rrs = append(rrs, &dns.AAAA{Hdr: dns.RR_Header{Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: ttl}, AAAA: ip.AsSlice()})
	}
	return rrs
}

// addresses returns the records of qtype (A, AAAA, or both for ANY) that horizon h gets for a host.
func (a *Autodiscover) addresses(owner string, qtype uint16, h horizon) []dns.RR {
	var rrs []dns.RR
	for _, rr := range a.addrs[h] {
		if qtype != dns.TypeANY && qtype != rr.Header().Rrtype {
			continue
		}
		// A shallow copy: the address bytes are shared and never written.
		switch rr := rr.(type) {
		case *dns.A:
			cp := *rr
			cp.Hdr.Name = owner
			rrs = append(rrs, &cp)
		case *dns.AAAA:
			cp := *rr
			cp.Hdr.Name = owner
			rrs = append(rrs, &cp)
		}
	}
	return rrs
}
