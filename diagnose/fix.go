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

// suggestFix returns nil when nothing is wrong (no error or warning, and no warning or failure predicted) or
// when nothing is known: a nameserver that does not serve the domain says nothing a fix could start from.
func suggestFix(cfg Config, res Result) *Fix {
	needed := res.Prediction.Outcome == OutcomeWarning || res.Prediction.Outcome == OutcomeFailure
	for _, f := range res.Findings {
		needed = needed || f.Severity != SeverityInfo
	}
	if !needed || !served(res) {
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
			"or put %s on the certificate of the server they point to", hostname(d), hostname(d)))
	}
	if len(srv.srv) > 0 && strings.EqualFold(target, srv.Name) {
		fix.Notes = append(fix.Notes, targetNotes(res)...)
	}
	if has(IDEmptyNonTerminal) {
		fix.Notes = append(fix.Notes, fmt.Sprintf("_tcp.%s must answer NOERROR with no data, never NXDOMAIN (RFC 8020)", hostname(d)))
	}
	if has(IDNegativeNoSOA) {
		fix.Notes = append(fix.Notes, "negative answers must carry the zone's SOA in the authority section (RFC 2308)")
	}
	if has(IDNotAuthoritative) {
		fix.Notes = append(fix.Notes, fmt.Sprintf("query the server that publishes %s; it sets AA on its answers", hostname(d)))
	}
	fix.Corefile = Corefile([]*Fix{fix})
	return fix
}

// targetNotes say what the kept SRV target still lacks, so that the fix repairs the host instead of
// replacing a record that names the right one.
func targetNotes(res Result) []string {
	srv := res.Steps[3]
	t := hostname(srv.Name)
	switch srv.Status {
	case StatusNotResolved:
		return []string{fmt.Sprintf("give %s A/AAAA records in this horizon (%s), as in every other: the public "+
			"address for outside clients (external), the internal one for inside clients (internal, internal_networks)",
			t, res.Horizon)}
	case StatusConnectionFailed:
		return []string{fmt.Sprintf("make the server of %s accept HTTPS on port %d at %s, or point the SRV record "+
			"at a host that does", t, srv.Port, strings.Join(srv.Addresses, ", "))}
	case StatusCertificateBad:
		var notes []string
		for _, p := range srv.TLS.Problems {
			switch p {
			case ProblemNameMismatch:
				notes = append(notes, fmt.Sprintf("put %s on the certificate at %s, which names %s", t,
					srv.TLS.Address, strings.Join(srv.TLS.Names, ", ")))
			case ProblemUnknownAuthority:
				notes = append(notes, fmt.Sprintf("make the certificate of %s trusted: it is issued by %s, which the "+
					"clients do not trust; use a public CA, or deploy that root to every client", t, srv.TLS.Issuer))
			case ProblemExpired:
				notes = append(notes, fmt.Sprintf("renew the certificate of %s: it is not valid now (not after %s)",
					t, srv.TLS.NotAfter.UTC().Format("2006-01-02")))
			default:
				notes = append(notes, fmt.Sprintf("install a certificate for %s whose chain verifies", t))
			}
		}
		return notes
	}
	return nil
}

// chooseTarget picks the SRV target the fix publishes: -target; else the domain's own SRV target when it works,
// or when it is the one plausible record and only the host behind it needs repair; else the canonical name
// behind an aliased SRV target that its trusted certificate names; else a mail server's name (typically
// autodiscover.<the domain on the certificate>) on a certificate that Outlook accepted at some step. A
// certificate that produced a warning is never a source: it is the web host or leftover that caused it.
func chooseTarget(cfg Config, res Result) string {
	if cfg.Target != "" {
		return dns.CanonicalName(cfg.Target)
	}
	srv := res.Steps[3]
	alias := len(srv.srv) > 0 && srvTargetCNAME(srv) != ""
	switch {
	case len(srv.srv) == 0 || srv.Name == srv.DNS[0].Name:
	case !alias && (srv.TLS.valid() || (cfg.DNSOnly && srv.resolves())):
		return srv.Name
	case plausibleSRV(res):
		return srv.Name
	case alias && srv.TLS != nil && srv.TLS.Trusted:
		if end := chainEnd(srv.DNS[1:], srv.Name); certNames(srv.TLS.Names, end) && mailName(end) {
			return dns.CanonicalName(end)
		}
	}
	var names []string
	for _, s := range res.Steps {
		if s.Status != StatusCertificateValid {
			continue
		}
		for _, n := range s.TLS.Names {
			if !strings.HasPrefix(n, "*.") && !inDomain(dns.Fqdn(n), res.Domain) && mailName(n) {
				names = append(names, dns.CanonicalName(n))
			}
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, "autodiscover.") {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return TargetPlaceholder
}

// plausibleSRV reports the domain's one SRV record whose target could well be right, whatever its host lacks:
// port 443, a host name that is no alias (RFC 2782), and neither the bare domain nor autodiscover.DOMAIN, which
// the fix hides.
func plausibleSRV(res Result) bool {
	srv := res.Steps[3]
	if len(srv.srv) != 1 {
		return false
	}
	rr := srv.srv[0]
	return rr.Target != "." && rr.Port == defaultHTTPSPort && srvTargetCNAME(srv) == "" &&
		!strings.EqualFold(rr.Target, res.Domain) && !inDomain(rr.Target, "autodiscover."+res.Domain)
}

// srvTargetCNAME is the CNAME target of the SRV target, if it is an alias.
func srvTargetCNAME(srv Step) string {
	for _, q := range srv.DNS[1:] {
		if t := cnameAt(q.msg, srv.Name); t != "" {
			return t
		}
	}
	return ""
}

// chainEnd follows name's CNAMEs through the responses to the name that owns the addresses.
func chainEnd(qs []Query, name string) string {
	for range maxChase {
		next := ""
		for _, q := range qs {
			if next = cnameAt(q.msg, name); next != "" {
				break
			}
		}
		if next == "" {
			break
		}
		name = next
	}
	return name
}

// certNames reports whether a certificate with these DNS names is valid for host, wildcards included (RFC 6125:
// one label, the left-most).
func certNames(names []string, host string) bool {
	host = strings.ToLower(hostname(host))
	for _, n := range names {
		n = strings.ToLower(n)
		if n == host {
			return true
		}
		if rest, ok := strings.CutPrefix(n, "*."); ok {
			if _, parent, found := strings.Cut(host, "."); found && parent == rest {
				return true
			}
		}
	}
	return false
}

// mailName reports a host name that looks like a mail server's: autodiscover.*, or a first label such as mail,
// webmail, exchange, owa or outlook. A web site's name (www.*) is none.
func mailName(name string) bool {
	label, _, _ := strings.Cut(strings.ToLower(name), ".")
	return label == "autodiscover" || strings.Contains(label, "mail") || slices.Contains([]string{"exchange", "owa", "outlook"}, label)
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
