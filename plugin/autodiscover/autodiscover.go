// Package autodiscover is a CoreDNS plugin that publishes the SRV record Outlook uses to find
// its Autodiscover service for many mail domains at once, hides the names that would send
// Outlook to a host whose certificate does not carry them, and answers the certificate's
// host names per horizon.
package autodiscover

import (
	"context"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/metrics"
	"github.com/coredns/coredns/plugin/pkg/nonwriter"
	"github.com/coredns/coredns/plugin/transfer"
	"github.com/coredns/coredns/request"

	"github.com/miekg/dns"
)

// Autodiscover is the plugin's handler; its answers are prepared when the configuration loads.
type Autodiscover struct {
	Next plugin.Handler

	zones    []string                // the server block's zones, for the metrics' zone label
	inline   map[string]struct{}     // mail domains listed in the Corefile
	file     string                  // the domains file, "" for none
	reload   time.Duration           // how often to look for a new domains file; 0 for never
	listed   atomic.Pointer[listing] // every listed mail domain, the Corefile's and the file's
	lastErr  string                  // the domains file's last error, logged once
	stop     chan struct{}           // closed to stop watching the domains file
	xfer     *transfer.Transfer      // the server block's *transfer*, nil without one
	backends []transfer.Transferer   // the plugins after this one that can transfer a zone
	hosts    map[string]string       // certificate host -> its mail domain
	ents     map[string]struct{}     // empty non-terminals above the hosts
	target   string                  // SRV target
	port     uint16                  // SRV port
	priority uint16                  // SRV priority
	weight   uint16                  // SRV weight
	ttl      uint32                  // TTL of every record the plugin makes
	ns       []string                // NS of the domains served alone; the first is the SOA MNAME
	external []netip.Addr            // the hosts' public addresses
	internal []netip.Addr            // the hosts' addresses for internal clients
	networks []netip.Prefix          // where internal clients are
	hideApex bool                    // hide the address records of mail domains' apexes
	apexes   map[string]struct{}     // the apexes hide_apex is limited to; nil for all
	serial   uint32                  // SOA serial of the domains served alone
	changed  bool                    // the configuration differs from the previous instance's
	srv      dns.SRV                 // the SRV record, without owner
	addrs    [2][]dns.RR             // A and AAAA records per horizon, without owner
	line     int                     // the directive's Corefile line, for errors found at start-up
	soaCache soaCache                // the backends' SOA records, for negative answers
	loaded   atomic.Bool             // set once the configuration serves
}

// ServeDNS implements the plugin.Handler interface.
func (a *Autodiscover) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if r.Opcode != dns.OpcodeQuery || len(r.Question) != 1 || r.Question[0].Qclass != dns.ClassINET {
		return plugin.NextOrFailure(a.Name(), a.Next, ctx, w, r)
	}
	state := request.Request{W: w, Req: r}
	qtype := state.QType()
	d, c := a.classify(state.Name())
	if c == none {
		rc, err := plugin.NextOrFailure(a.Name(), a.Next, ctx, w, r)
		if declined(rc, err) {
			return dns.RcodeRefused, nil // nobody here is authoritative for it
		}
		return rc, err
	}
	if qtype == dns.TypeAXFR || qtype == dns.TypeIXFR {
		if c == apex && a.xfer != nil {
			return a.serveTransfer(ctx, state)
		}
		return plugin.NextOrFailure(a.Name(), a.Next, ctx, w, r)
	}
	if !a.owns(d, c, qtype) {
		return a.passThrough(ctx, state, d, c)
	}

	h := a.horizonOf(w)
	qname := state.QName()
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	kind := a.synthesize(m, qname, qtype, c, h)
	if len(m.Answer) == 0 {
		m.Ns = []dns.RR{a.zoneSOA(ctx, w, qname, d)}
	}
	w.WriteMsg(m)
	a.count(ctx, state.Name(), kind, h)
	return dns.RcodeSuccess, nil
}

// synthesize fills in the plugin's answer for owner, a name it owns at qtype, and
// returns the kind of answer for the metrics.
func (a *Autodiscover) synthesize(m *dns.Msg, owner string, qtype uint16, c class, h horizon) string {
	switch c {
	case srvName:
		// RFC 8482 lets an ANY answer hold one RRset; the SRV is the one worth having.
		if qtype == dns.TypeSRV || qtype == dns.TypeANY {
			srv := a.srv
			srv.Hdr.Name = owner
			m.Answer = append(m.Answer, &srv)
			return kindSRV
		}
		return kindNoData
	case srvBelow, suppressed:
		m.Rcode = dns.RcodeNameError
		return kindSuppressed
	case tcpName:
		if qtype == dns.TypeANY {
			m.Answer = append(m.Answer, a.hinfo(owner))
		}
		return kindNoData
	case apex:
		return kindSuppressed
	case host:
		if qtype == dns.TypeCNAME {
			return kindNoData // a name with addresses is no alias (RFC 1034 section 3.6.2)
		}
		m.Answer = append(m.Answer, a.addresses(owner, qtype, h)...)
		return kindAddress
	}
	return kindNoData
}

// passThrough lets the backend answer a name the plugin does not own at this type, then
// takes the plugin's records out of what it says. A mail domain without a backend is
// answered from the plugin's own SOA and NS.
func (a *Autodiscover) passThrough(ctx context.Context, state request.Request, d string, c class) (int, error) {
	nw := nonwriter.New(state.W)
	rc, err := plugin.NextOrFailure(a.Name(), a.Next, ctx, nw, state.Req)
	m := nw.Msg
	if m == nil {
		if !declined(rc, err) {
			return rc, err // the backend's own failure, such as an expired secondary, stands
		}
		m = a.alone(state, d, c)
		state.W.WriteMsg(m)
		a.count(ctx, state.Name(), kindAlone, a.horizonOf(state.W))
		return dns.RcodeSuccess, nil
	}
	a.filter(ctx, state, m, c)
	state.W.WriteMsg(m)
	return dns.RcodeSuccess, err
}

// declined reports whether no plugin after this one had anything to say about a query it
// wrote no reply to: the chain ran out (plugin.NextOrFailure's error), or the last plugin
// is not authoritative for the name (*file* returns REFUSED then).
func declined(rc int, err error) bool {
	return rc == dns.RcodeRefused ||
		rc == dns.RcodeServerFailure && err != nil && strings.HasSuffix(err.Error(), "no next plugin found")
}

// hinfo is RFC 8482's answer to ANY at a name that exists: it ends the ANY query without
// listing the name's records.
func (a *Autodiscover) hinfo(owner string) dns.RR {
	return &dns.HINFO{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: a.ttl}, Cpu: "RFC8482"}
}

func (a *Autodiscover) count(ctx context.Context, qname, kind string, h horizon) {
	answerCount.WithLabelValues(metrics.WithServer(ctx), metrics.WithView(ctx), a.zoneOf(qname), kind, h.String()).Inc()
}

// zoneOf returns the longest server block zone qname is in; unlike plugin.Zones.Matches,
// it does not allocate.
func (a *Autodiscover) zoneOf(qname string) string {
	zone := ""
	for _, z := range a.zones {
		n := len(qname) - len(z)
		if len(z) > len(zone) && n >= 0 && strings.EqualFold(qname[n:], z) && (n == 0 || z == "." || qname[n-1] == '.') {
			zone = z
		}
	}
	return zone
}

// Name implements the plugin.Handler interface.
func (a *Autodiscover) Name() string { return name }

const (
	kindSRV        = "srv"        // the synthesized SRV record
	kindSuppressed = "suppressed" // a hidden name or record
	kindAddress    = "address"    // a certificate host's addresses for the client's horizon
	kindNoData     = "nodata"     // an empty non-terminal or another type at the plugin's names
	kindAlone      = "alone"      // SOA, NS or a negative answer for a domain without a backend
)
