package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// TargetPlaceholder stands for the SRV target when no certificate seen names a usable host.
const TargetPlaceholder = "<host on your certificate>"

// fixTTL is the autodiscover plugin's default ttl.
const fixTTL = 3600

// Fix is what to publish, what to remove, and the Corefile that publishes it.
type Fix struct {
	Domain   string   `json:"domain"`
	Target   string   `json:"target"`
	Publish  []string `json:"publish"`
	Remove   []string `json:"remove,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	HideApex bool     `json:"hide_apex"`
	Corefile string   `json:"corefile"`
}

// suggestFix returns nil when nothing is wrong: no error or warning, and no warning or failure predicted.
func suggestFix(cfg Config, res Result) *Fix {
	needed := res.Prediction.Outcome == OutcomeWarning || res.Prediction.Outcome == OutcomeFailure
	for _, f := range res.Findings {
		needed = needed || f.Severity != SeverityInfo
	}
	if !needed {
		return nil
	}
	root, host, srv := res.Steps[0], res.Steps[1], res.Steps[3]
	d := res.Domain
	fix := &Fix{Domain: d, Target: chooseTarget(cfg, res)}
	target := fix.Target
	if target != TargetPlaceholder {
		target = dns.Fqdn(target)
	}
	fix.Publish = []string{fmt.Sprintf("_autodiscover._tcp.%s %d IN SRV 0 0 443 %s", d, fixTTL, target)}

	has := func(id string) bool {
		return slices.ContainsFunc(res.Findings, func(f Finding) bool { return f.ID == id && f.Severity != SeverityInfo })
	}
	if has(IDAutodiscoverRecord) || has(IDAutodiscoverCNAME) {
		fix.Remove = append(fix.Remove, ownedBy(host.DNS, host.Name)...)
	}
	if has(IDWildcard) {
		wild := findQuery(res.Checks, func(q Query) bool { return strings.HasPrefix(q.Name, "adcheck-") })
		for _, rr := range ownedBy([]Query{wild}, wild.Name) {
			fix.Remove = append(fix.Remove, "*."+d+strings.TrimPrefix(rr, wild.Name))
		}
	}
	for _, rr := range srv.srv {
		if rr.Priority != 0 || rr.Weight != 0 || rr.Port != 443 || !strings.EqualFold(rr.Target, target) {
			fix.Remove = append(fix.Remove, strings.ReplaceAll(rr.String(), "\t", " "))
		}
	}
	if root.resolves() && root.Status != StatusCertificateValid {
		fix.HideApex = true
		fix.Notes = append(fix.Notes, fmt.Sprintf("hide the A/AAAA records of %s from these clients (hide_apex), "+
			"or put %s on the certificate of the server they point to", d, hostname(d)))
	}
	if has(IDSRVTargetNoAddress) {
		fix.Notes = append(fix.Notes, fmt.Sprintf("give %s A/AAAA records in every horizon: the public address "+
			"outside (external), the internal one inside (internal, internal_networks)", target))
	}
	if has(IDEmptyNonTerminal) {
		fix.Notes = append(fix.Notes, fmt.Sprintf("_tcp.%s must answer NOERROR with no data, never NXDOMAIN (RFC 8020)", d))
	}
	if has(IDNegativeNoSOA) {
		fix.Notes = append(fix.Notes, "negative answers must carry the zone's SOA in the authority section (RFC 2308)")
	}
	if has(IDNotAuthoritative) {
		fix.Notes = append(fix.Notes, fmt.Sprintf("query the server that publishes %s; it sets AA on its answers", d))
	}
	fix.Corefile = Corefile([]*Fix{fix})
	return fix
}

// chooseTarget prefers -target, then a working SRV target, then a name on a trusted certificate seen on the
// way (the Exchange server's own name, typically autodiscover.<the domain on the certificate>).
func chooseTarget(cfg Config, res Result) string {
	if cfg.Target != "" {
		return dns.CanonicalName(cfg.Target)
	}
	srv := res.Steps[3]
	if srv.TLS.valid() || (cfg.DNSOnly && srv.resolves()) {
		return srv.Name
	}
	var names []string
	for _, s := range res.Steps {
		if s.TLS != nil && s.TLS.Trusted {
			for _, n := range s.TLS.Names {
				if !strings.HasPrefix(n, "*.") && !inDomain(dns.Fqdn(n), res.Domain) {
					names = append(names, n)
				}
			}
		}
	}
	for _, n := range names {
		if strings.HasPrefix(strings.ToLower(n), "autodiscover.") {
			return dns.CanonicalName(n)
		}
	}
	if len(names) > 0 {
		return dns.CanonicalName(names[0])
	}
	return TargetPlaceholder
}

// ownedBy lists the answer records owned by name, once each.
func ownedBy(qs []Query, name string) []string {
	var out []string
	for _, q := range qs {
		if q.msg == nil {
			continue
		}
		for _, rr := range q.msg.Answer {
			s := strings.ReplaceAll(rr.String(), "\t", " ")
			if strings.EqualFold(rr.Header().Name, name) && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// Corefile writes the server blocks that publish the fixes: one block per target and hide_apex choice, so a
// provider's many domains share one autodiscover declaration.
func Corefile(fixes []*Fix) string {
	type key struct {
		target   string
		hideApex bool
	}
	var order []key
	groups := map[key][]string{}
	for _, f := range fixes {
		if f == nil {
			continue
		}
		k := key{hostname(f.Target), f.HideApex}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], hostname(f.Domain))
	}
	var b strings.Builder
	for i, k := range order {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s {\n    autodiscover {\n        target %s\n", strings.Join(groups[k], " "), k.target)
		if k.hideApex {
			b.WriteString("        hide_apex\n")
		}
		b.WriteString("    }\n")
		for _, d := range groups[k] {
			fmt.Fprintf(&b, "    file db.%s %s\n", d, d)
		}
		b.WriteString("}\n")
	}
	return b.String()
}
