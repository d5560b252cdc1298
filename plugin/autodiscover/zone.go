package autodiscover

import (
	"strings"

	"github.com/miekg/dns"
)

// class is what the plugin makes of a name inside a listed mail domain.
type class int

const (
	none       class = iota // outside every listed mail domain
	other                   // the backend's, passed through with the plugin's names filtered out
	apex                    // the mail domain itself: address records hidden with hide_apex
	srvName                 // _autodiscover._tcp.<domain>: the synthesized SRV
	srvBelow                // below the SRV owner: nothing exists there
	tcpName                 // _tcp.<domain>: the empty non-terminal above the SRV owner
	suppressed              // autodiscover.<domain> and below: hidden whatever a backend has
	host                    // a name on the certificate: addresses per horizon
	hostENT                 // between a certificate host and its domain: an empty non-terminal
)

// domainOf returns the longest listed mail domain that is name or one of its ancestors, or "".
func (a *Autodiscover) domainOf(name string) string { return a.listed.Load().domainOf(name) }

// classify says which mail domain name, lower case and fully qualified, belongs to and what it is there.
func (a *Autodiscover) classify(name string) (string, class) {
	return a.classifyIn(a.listed.Load(), name)
}

func (a *Autodiscover) classifyIn(l *listing, name string) (string, class) {
	d := l.domainOf(name)
	if d == "" {
		return "", none
	}
	if _, ok := a.hosts[name]; ok {
		return d, host
	}
	if _, ok := a.ents[name]; ok {
		return d, hostENT
	}
	switch prefix := name[:len(name)-len(d)]; {
	case prefix == "":
		return d, apex
	case prefix == "_autodiscover._tcp.":
		return d, srvName
	case prefix == "_tcp.":
		return d, tcpName
	case strings.HasSuffix(prefix, "._autodiscover._tcp."):
		return d, srvBelow
	case prefix == "autodiscover." || strings.HasSuffix(prefix, ".autodiscover."):
		// Outlook's second probe; a wildcard or leftover record here points Outlook at a host
		// whose certificate does not carry the name. The subtree goes too, so the NXDOMAIN
		// stays true for everything below it (RFC 8020).
		return d, suppressed
	}
	return d, other
}

// owns reports whether the plugin answers qtype at a name of class c itself, so that
// a backend's records of that name and type must never reach the client.
func (a *Autodiscover) owns(d string, c class, qtype uint16) bool {
	switch {
	case c.whole():
		return true
	case c == apex:
		return a.hidesApex(d) && apexAddress(qtype)
	case c == host:
		return qtype == dns.TypeA || qtype == dns.TypeAAAA || qtype == dns.TypeCNAME || qtype == dns.TypeANY
	}
	return false
}

// whole reports whether the plugin owns a name of class c at every type, so that nothing of
// a backend's there is seen, and it cannot be a host with addresses.
func (c class) whole() bool { return c == srvName || c == srvBelow || c == tcpName || c == suppressed }

func (a *Autodiscover) hidesApex(d string) bool {
	if !a.hideApex {
		return false
	}
	if a.apexes == nil {
		return true
	}
	_, ok := a.apexes[d]
	return ok
}

// apexAddress lists the types that send a client to the bare domain's web server: Outlook's
// first probe is https://<domain>/, and HTTPS/SVCB records (RFC 9460) can carry addresses too.
func apexAddress(qtype uint16) bool {
	switch qtype {
	case dns.TypeA, dns.TypeAAAA, dns.TypeHTTPS, dns.TypeSVCB:
		return true
	}
	return false
}

// hides reports whether a backend's record rr must be removed from an answer.
func (a *Autodiscover) hides(rr dns.RR) bool {
	d, c := a.classify(strings.ToLower(rr.Header().Name))
	return a.owns(d, c, coveredType(rr))
}
