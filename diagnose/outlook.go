package diagnose

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// autodiscoverPath is the URL path Outlook requests at every step.
const autodiscoverPath = "/Autodiscover/Autodiscover.xml"

// What a step's check found.
const (
	StatusNotResolved      = "not-resolved"        // no address: Outlook moves on silently
	StatusNotChecked       = "not-checked"         // -dns-only: would be tried, certificate not checked
	StatusConnectionFailed = "connection-failed"   // refused or timed out: Outlook moves on
	StatusCertificateValid = "certificate-valid"   // trusted, in date, names the host
	StatusCertificateBad   = "certificate-warning" // Outlook shows the certificate warning
	StatusRedirect         = "redirect"            // step 3: an https redirect, Outlook asks the user
	StatusNoRedirect       = "no-redirect"         // step 3: answered, but nothing to follow
	StatusNotTried         = "not-tried"           // step 3: step 2 already answered over HTTPS
)

// defaultHTTPSPort is where Outlook connects in steps 1 and 2, and what the fix publishes in the SRV record.
const defaultHTTPSPort uint16 = 443

// Step is one of the four places an outside Outlook looks for Autodiscover, in its order.
type Step struct {
	Number int    `json:"step"`
	URL    string `json:"url"`
	// Name is the host Outlook connects to and expects on the certificate.
	Name      string      `json:"name"`
	Port      uint16      `json:"port"`
	DNS       []Query     `json:"dns"`
	Addresses []string    `json:"addresses,omitempty"`
	TLS       *TLSResult  `json:"tls,omitempty"`
	HTTP      *HTTPResult `json:"http,omitempty"`
	Status    string      `json:"status"`
	Note      string      `json:"note,omitempty"`

	srv []*dns.SRV
}

// resolves reports whether Outlook would connect anywhere in this step.
func (s Step) resolves() bool { return len(s.Addresses) > 0 }

// replay walks the four steps of an outside, non-domain-joined Outlook (the cached URL, the Microsoft 365
// probe and Active Directory's service connection point are not replayed: they do not depend on this DNS).
func replay(ctx context.Context, cfg Config, r *resolver, domain string) []Step {
	auto := "autodiscover." + domain

	root := Step{Number: 1, Name: domain, Port: defaultHTTPSPort, URL: "https://" + hostname(domain) + autodiscoverPath}
	root.DNS, root.Addresses = r.lookupAddresses(ctx, domain)
	httpsStep(ctx, cfg, &root)

	host := Step{Number: 2, Name: auto, Port: defaultHTTPSPort, URL: "https://" + hostname(auto) + autodiscoverPath}
	host.DNS, host.Addresses = r.lookupAddresses(ctx, auto)
	httpsStep(ctx, cfg, &host)

	// Step 3 asks the same name over plain HTTP; its DNS is step 2's.
	redirect := Step{Number: 3, Name: auto, Port: 80, URL: "http://" + hostname(auto) + autodiscoverPath,
		DNS: host.DNS, Addresses: host.Addresses}
	if host.TLS != nil && host.TLS.Connected {
		// Outlook only falls back to plain HTTP when the HTTPS connection fails.
		redirect.Status, redirect.Note = StatusNotTried, "not tried: step 2 answered over HTTPS"
	} else {
		httpStep(ctx, cfg, &redirect)
	}

	return []Step{root, host, redirect, srvStep(ctx, cfg, r, domain)}
}

func httpsStep(ctx context.Context, cfg Config, s *Step) {
	switch {
	case !s.resolves():
		s.Status, s.Note = StatusNotResolved, "no address, Outlook moves on"
	case cfg.DNSOnly:
		s.Status, s.Note = StatusNotChecked, "would be tried: certificate not checked"
	default:
		s.TLS = checkTLS(ctx, cfg, s.Name, s.Port, s.Addresses)
		switch {
		case !s.TLS.Connected:
			s.Status, s.Note = StatusConnectionFailed, "connection failed, Outlook moves on"
		case s.TLS.valid():
			s.Status, s.Note = StatusCertificateValid, "certificate valid for "+hostname(s.Name)
		default:
			s.Status, s.Note = StatusCertificateBad, "certificate warning: "+strings.Join(s.TLS.Problems, ", ")
		}
	}
}

func httpStep(ctx context.Context, cfg Config, s *Step) {
	switch {
	case !s.resolves():
		s.Status, s.Note = StatusNotResolved, "no address, Outlook moves on"
	case cfg.DNSOnly:
		s.Status, s.Note = StatusNotChecked, "would be tried: redirect not checked"
	default:
		s.HTTP = checkHTTP(ctx, cfg, s.Name, s.Addresses)
		switch {
		case !s.HTTP.Connected:
			s.Status, s.Note = StatusConnectionFailed, "connection failed, Outlook moves on"
		case s.HTTP.redirectHost() != "":
			s.Status, s.Note = StatusRedirect, "redirect to "+s.HTTP.Location+": Outlook asks the user before following it"
		default:
			s.Status, s.Note = StatusNoRedirect, fmt.Sprintf("HTTP %d without an https redirect, Outlook moves on", s.HTTP.StatusCode)
		}
	}
}

// srvStep looks up _autodiscover._tcp.DOMAIN and connects to the record a client would pick.
func srvStep(ctx context.Context, cfg Config, r *resolver, domain string) Step {
	owner := "_autodiscover._tcp." + domain
	s := Step{Number: 4, Name: owner}
	q := r.query(ctx, owner, dns.TypeSRV)
	s.DNS = []Query{q}
	if q.msg != nil {
		for _, rr := range q.msg.Answer {
			if srv, ok := rr.(*dns.SRV); ok && strings.EqualFold(srv.Hdr.Name, owner) {
				s.srv = append(s.srv, srv)
			}
		}
	}
	best := pickSRV(s.srv)
	switch {
	case best == nil:
		s.Status, s.Note = StatusNotResolved, "no SRV record"
		return s
	case best.Target == ".":
		// RFC 2782: a target of "." means the service is decidedly not available.
		s.Status, s.Note = StatusNotResolved, `SRV target "." (service not available)`
		return s
	}
	s.Name, s.Port = strings.ToLower(best.Target), best.Port
	s.URL = "https://" + hostname(s.Name) + autodiscoverPath
	if s.Port != defaultHTTPSPort {
		s.URL = "https://" + hostname(s.Name) + ":" + fmt.Sprint(s.Port) + autodiscoverPath
	}
	qs, addrs := r.lookupAddresses(ctx, s.Name)
	s.DNS = append(s.DNS, qs...)
	s.Addresses = addrs
	httpsStep(ctx, cfg, &s)
	if s.Status == StatusNotResolved {
		s.Note = "SRV target " + hostname(s.Name) + " has no address"
	}
	return s
}

// pickSRV chooses like RFC 2782 minus the randomness: lowest priority, then highest weight. Clients differ
// on everything past that, which is why one record should be published.
func pickSRV(rrs []*dns.SRV) *dns.SRV {
	var best *dns.SRV
	for _, rr := range rrs {
		if best == nil || rr.Priority < best.Priority || (rr.Priority == best.Priority && rr.Weight > best.Weight) {
			best = rr
		}
	}
	return best
}
