package autodiscover

import (
	"context"
	"strings"

	"github.com/coredns/coredns/request"

	"github.com/miekg/dns"
)

// filter takes the plugin's names out of a backend's reply m to a query of class c, and
// answers in their place where the reply led to them through a CNAME.
func (a *Autodiscover) filter(ctx context.Context, state request.Request, m *dns.Msg, c class) {
	// The certificate hosts and the names above them exist here even where the backend
	// has no record of them.
	if m.Rcode == dns.RcodeNameError && (c == host || c == hostENT) {
		m.Rcode = dns.RcodeSuccess
	}

	var hidden bool
	m.Answer, hidden = a.strip(m.Answer)
	m.Extra, _ = a.strip(m.Extra)
	if hidden {
		h := a.horizonOf(state.W)
		a.count(ctx, state.Name(), kindSuppressed, h)
		a.chase(ctx, state, m, h)
	}

	// Backends such as *file* answer ANY with no records at all; RFC 8482 section 4.2 wants
	// an RRset, or the client takes the name for empty.
	if state.QType() == dns.TypeANY && m.Rcode == dns.RcodeSuccess && len(m.Answer) == 0 {
		m.Answer = []dns.RR{a.hinfo(state.QName())}
		m.Ns = nil
	}
	spell(m, state.QName())
	a.soas(m)
}

// chase completes an answer that strip emptied or cut short. When a CNAME in the backend's
// zone led to one of the plugin's names, whose records the backend added, it answers for
// that name as a query for it would be answered.
func (a *Autodiscover) chase(ctx context.Context, state request.Request, m *dns.Msg, h horizon) {
	target := chainEnd(m.Answer)
	if target == "" {
		if len(m.Answer) == 0 {
			m.Ns = []dns.RR{a.zoneSOA(ctx, state.W, state.QName(), a.domainOf(state.Name()))}
		}
		return
	}
	d, c := a.classify(strings.ToLower(target))
	if !a.owns(d, c, state.QType()) {
		return
	}
	before := len(m.Answer)
	a.synthesize(m, target, state.QType(), c, h)
	if len(m.Answer) == before {
		m.Ns = []dns.RR{a.zoneSOA(ctx, state.W, target, d)}
	}
}

// strip returns rrs without the records the plugin owns. It never writes to rrs, which
// may be a backend's own data.
func (a *Autodiscover) strip(rrs []dns.RR) ([]dns.RR, bool) {
	for i, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT || !a.hides(rr) {
			continue
		}
		kept := append(make([]dns.RR, 0, len(rrs)-1), rrs[:i]...)
		for _, rr := range rrs[i+1:] {
			if rr.Header().Rrtype == dns.TypeOPT || !a.hides(rr) {
				kept = append(kept, rr)
			}
		}
		return kept, true
	}
	return rrs, false
}

// soas gives the backend's SOA records the serial secondaries see (see fronted) and, in a
// negative answer, the TTL that RFC 2308 section 3 asks for, as the plugin's own answers do.
func (a *Autodiscover) soas(m *dns.Msg) {
	negative := len(m.Answer) == 0 || m.Rcode != dns.RcodeSuccess
	fix := func(capTTL bool) func(dns.RR) dns.RR {
		return func(rr dns.RR) dns.RR {
			soa, ok := rr.(*dns.SOA)
			if !ok {
				return nil
			}
			cp := *a.fronted(soa)
			if capTTL {
				cp.Hdr.Ttl = min(cp.Hdr.Ttl, cp.Minttl)
			}
			if cp == *soa {
				return nil
			}
			return &cp
		}
	}
	m.Answer = rewrite(m.Answer, fix(false))
	m.Ns = rewrite(m.Ns, fix(negative))
}

// spell gives the backend's records owned by the query name the client's spelling of it
// (0x20); backends answer with the spelling of their zone.
func spell(m *dns.Msg, qname string) {
	m.Answer = rewrite(m.Answer, func(rr dns.RR) dns.RR {
		if owner := rr.Header().Name; owner != qname && strings.EqualFold(owner, qname) {
			cp := dns.Copy(rr)
			cp.Header().Name = qname
			return cp
		}
		return nil
	})
}

// rewrite replaces the records for which change returns a new one. The backend's slice
// and records may be its own data and are never written to.
func rewrite(rrs []dns.RR, change func(dns.RR) dns.RR) []dns.RR {
	var out []dns.RR
	for i, rr := range rrs {
		if cp := change(rr); cp != nil {
			if out == nil {
				out = append([]dns.RR(nil), rrs...)
			}
			out[i] = cp
		}
	}
	if out == nil {
		return rrs
	}
	return out
}

// chainEnd returns the target of the last CNAME of an answer when nothing follows it.
func chainEnd(answer []dns.RR) string {
	if len(answer) == 0 {
		return ""
	}
	if cname, ok := answer[len(answer)-1].(*dns.CNAME); ok {
		return cname.Target
	}
	return ""
}
