package autodiscover

import (
	"github.com/coredns/coredns/request"

	"github.com/miekg/dns"
)

// alone answers a query in mail domain d when no backend serves it: the domain then holds
// only its SOA and NS at the apex and the plugin's own names.
func (a *Autodiscover) alone(state request.Request, d string, c class) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(state.Req)
	m.Authoritative = true
	qname := state.QName()
	switch {
	case c == apex && (state.QType() == dns.TypeSOA || state.QType() == dns.TypeANY):
		soa := a.ownSOA(d)
		soa.Hdr.Name = qname
		m.Answer = []dns.RR{soa}
	case c == apex && state.QType() == dns.TypeNS:
		m.Answer = a.nsRecords(qname)
	case c == other:
		m.Rcode = dns.RcodeNameError
	}
	if len(m.Answer) == 0 {
		m.Ns = []dns.RR{negative(qname, a.ownSOA(d))} // the backend has no SOA, or it would have answered
	}
	return m
}

// nsRecords are the NS records of a domain served alone, owned by apex.
func (a *Autodiscover) nsRecords(apex string) []dns.RR {
	rrs := make([]dns.RR, len(a.ns))
	for i, ns := range a.ns {
		rrs[i] = &dns.NS{Hdr: dns.RR_Header{Name: apex, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: a.ttl}, Ns: ns}
	}
	return rrs
}
