package autodiscover

import (
	"context"
	"strings"

	"github.com/coredns/coredns/plugin/transfer"
	"github.com/coredns/coredns/request"

	"github.com/miekg/dns"
)

// serialEpoch is 2026-01-01T00:00:00Z. A zone the plugin fronts is transferred with the
// backend's serial plus the seconds from here to the last change of the plugin's records
// in it, so that a secondary sees a higher serial when either changes (RFC 1982).
const serialEpoch = 1767225600

// Transfer implements the transfer.Transferer interface for a caller that does not say who
// asks: it transfers what an external client would see, never the internal horizon.
func (a *Autodiscover) Transfer(zone string, serial uint32) (<-chan []dns.RR, error) {
	return a.transfer(zone, serial, external)
}

// horizonTransfer is the Transferer for one transfer request: the requesting secondary's
// horizon, like every other query.
type horizonTransfer struct {
	a *Autodiscover
	h horizon
}

func (t horizonTransfer) Transfer(zone string, serial uint32) (<-chan []dns.RR, error) {
	return t.a.transfer(zone, serial, t.h)
}

// serveTransfer hands an AXFR or IXFR of a listed domain to the *transfer* plugin, which keeps
// its access control, TSIG and batching, with the plugin as the only source of the zone.
func (a *Autodiscover) serveTransfer(ctx context.Context, state request.Request) (int, error) {
	xfer := *a.xfer
	xfer.Transferers = []transfer.Transferer{horizonTransfer{a: a, h: a.horizonOf(state.W)}}
	return xfer.ServeDNS(ctx, state.W, state.Req)
}

// transfer returns the zone of listed domain zone as horizon h sees it: the backend's records
// without the hidden ones and with the plugin's, or the plugin's own zone.
func (a *Autodiscover) transfer(zone string, serial uint32, h horizon) (<-chan []dns.RR, error) {
	l := a.listed.Load()
	if _, ok := l.find(zone); !ok {
		return nil, transfer.ErrNotAuthoritative
	}
	records, err := a.backendZone(zone)
	if err != nil {
		return nil, err
	}

	var soa *dns.SOA
	var body []dns.RR
	if records == nil {
		soa = a.ownSOA(zone)
		body = a.nsRecords(zone)
	} else {
		soa = a.fronted(records[0].(*dns.SOA))
		wildcard := false
		for _, rr := range records[1:] {
			if rr.Header().Rrtype == dns.TypeSOA {
				continue // the closing SOA; this transfer sends its own
			}
			owner := strings.ToLower(rr.Header().Name)
			if d, c := a.classifyIn(l, owner); a.owns(d, c, coveredType(rr)) {
				continue
			}
			wildcard = wildcard || owner == "*."+zone
			body = append(body, rr)
		}
		if _, c := a.classifyIn(l, "autodiscover."+zone); wildcard && c == suppressed {
			body = append(body, wildcardGuard(zone, a.ttl))
		}
	}

	// IXFR (RFC 1995) of an up-to-date zone: the SOA alone. Otherwise the whole zone.
	ch := make(chan []dns.RR, 1)
	if serial != 0 && !newer(soa.Serial, serial) {
		ch <- []dns.RR{soa}
		close(ch)
		return ch, nil
	}
	srv := a.srv
	srv.Hdr.Name = "_autodiscover._tcp." + zone
	body = append(body, &srv)
	for host, d := range a.hosts {
		if d == zone {
			body = append(body, a.addresses(host, dns.TypeANY, h)...)
		}
	}
	ch <- append(append([]dns.RR{soa}, body...), soa)
	close(ch)
	return ch, nil
}

// wildcardGuard makes autodiscover.<zone> exist on a secondary, as an empty non-terminal,
// so that the zone's wildcard cannot answer for it there (RFC 4592 section 2.2). Zone data
// cannot say that a name under a wildcard does not exist: the secondary answers NODATA
// where this server answers NXDOMAIN, and Outlook gets no address from either.
func wildcardGuard(zone string, ttl uint32) dns.RR {
	return &dns.TXT{
		Hdr: dns.RR_Header{Name: "_wildcard-guard.autodiscover." + zone, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl},
		Txt: []string{"keeps *." + zone + " from answering for autodiscover." + zone},
	}
}

// backendZone collects the zone from the first plugin after this one that can transfer it,
// or returns nil when none can: then the plugin serves the domain alone.
func (a *Autodiscover) backendZone(zone string) ([]dns.RR, error) {
	for _, b := range a.backends {
		ch, err := b.Transfer(zone, 0)
		if err == transfer.ErrNotAuthoritative {
			continue
		}
		if err != nil {
			return nil, err
		}
		var records []dns.RR
		for rrs := range ch {
			records = append(records, rrs...)
		}
		if len(records) == 0 {
			continue
		}
		if _, ok := records[0].(*dns.SOA); !ok {
			continue
		}
		return records, nil
	}
	return nil, nil
}

// fronted returns soa, the SOA of a backend's zone, with the serial secondaries see. Only
// a listed domain's zone, and only when transfers are configured, differs from the backend.
func (a *Autodiscover) fronted(soa *dns.SOA) *dns.SOA {
	if a.xfer == nil {
		return soa
	}
	since, ok := a.listed.Load().since(strings.ToLower(soa.Hdr.Name))
	if !ok {
		return soa
	}
	cp := *soa
	cp.Serial += max(since, a.serial) - serialEpoch
	return &cp
}

// newer reports whether serial a is newer than b in RFC 1982 serial number arithmetic.
func newer(a, b uint32) bool { return a != b && int32(a-b) > 0 }

// coveredType is the type an RRSIG covers, or the record's own type.
func coveredType(rr dns.RR) uint16 {
	if sig, ok := rr.(*dns.RRSIG); ok {
		return sig.TypeCovered
	}
	return rr.Header().Rrtype
}

// notify tells the secondaries that the zones of these domains changed (RFC 1996).
func (a *Autodiscover) notify(zones []string) {
	if a.xfer == nil || len(zones) == 0 {
		return
	}
	go func() {
		for _, z := range zones {
			if err := a.xfer.Notify(z); err != nil {
				log.Warningf("Notify for %s: %v", z, err)
			}
		}
	}()
}
