// Package diagnose replays the Autodiscover lookup of an outside, non-domain-joined Outlook against one
// nameserver and predicts what the user sees: silent success, a certificate warning, a redirect prompt, or
// failure. It also checks the DNS data behind each step and prints the records that fix what it finds.
//
// The nameserver decides the horizon (split DNS) from the client's source address, so the answers this
// package sees are the ones a client at Config.Source would see; nothing else marks a query as "internal".
package diagnose

import (
	"context"
	"crypto/x509"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Config says where and how to look.
type Config struct {
	// Server is the nameserver as host:port.
	Server string
	// Source is the local address of the DNS, TLS and HTTP sockets; the zero value lets the OS choose.
	Source netip.Addr
	// Internal labels the report as the internal horizon; it changes no query (see the package comment).
	Internal bool
	// Authoritative is set when the operator named the server: its answers should then carry AA.
	Authoritative bool
	// Roots verify the certificate chain; nil means the system roots.
	Roots *x509.CertPool
	// Timeout bounds every DNS query, TCP connect and TLS handshake.
	Timeout time.Duration
	// DNSOnly predicts from DNS alone: no TLS or HTTP connection is opened.
	DNSOnly bool
	// Target is the SRV target the fix suggests; empty derives it from the certificates seen.
	Target string

	// remap rewrites the destination of TLS and HTTP connections; tests point port 443 and 80 of the
	// addresses in their zones at listeners on high loopback ports. nil in the command: real ports.
	remap func(netip.AddrPort) netip.AddrPort
}

// Result is everything learned about one input.
type Result struct {
	Input      string     `json:"input"`
	Domain     string     `json:"domain"`
	Server     string     `json:"server"`
	Source     string     `json:"source,omitempty"`
	Horizon    string     `json:"horizon"`
	DNSOnly    bool       `json:"dns_only"`
	Steps      []Step     `json:"steps"`
	Checks     []Query    `json:"checks"`
	Findings   []Finding  `json:"findings"`
	Prediction Prediction `json:"prediction"`
	Fix        *Fix       `json:"fix,omitempty"`
}

// Check replays Outlook's lookup for one input (an e-mail address or a domain) and judges it.
func Check(ctx context.Context, cfg Config, input string) (Result, error) {
	domain, err := ParseInput(input)
	if err != nil {
		return Result{}, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	res := Result{Input: input, Domain: domain, Server: cfg.Server, Horizon: "external", DNSOnly: cfg.DNSOnly}
	if cfg.Source.IsValid() {
		res.Source = cfg.Source.String()
	}
	if cfg.Internal {
		res.Horizon = "internal"
	}
	r := newResolver(cfg)
	res.Steps = replay(ctx, cfg, r, domain)
	res.Checks = probes(ctx, r, domain)
	res.Prediction = predict(res.Steps, cfg.DNSOnly)
	res.Findings = findings(cfg, res)
	res.Fix = suggestFix(cfg, res)
	return res, nil
}

// Failed reports whether this result should make the command exit 1: the prediction is a warning or
// failure, or a finding predicts one.
func (r Result) Failed() bool {
	if r.Prediction.Outcome == OutcomeWarning || r.Prediction.Outcome == OutcomeFailure {
		return true
	}
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// hostname is name without the root dot, as it appears in URLs, SNI and certificates.
func hostname(name string) string { return strings.TrimSuffix(name, ".") }

// inDomain reports whether host is domain or below it.
func inDomain(host, domain string) bool { return dns.IsSubDomain(domain, host) }
