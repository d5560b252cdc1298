package diagnose

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// probes asks the two questions that are no step of Outlook's but explain one: a random name, to find a
// wildcard, and the empty non-terminal between the zone and the SRV owner.
func probes(ctx context.Context, r *resolver, domain string) []Query {
	return []Query{
		r.query(ctx, wildcardProbe(domain), dns.TypeA),
		// RFC 9156 resolvers minimise to QTYPE A on the way down.
		r.query(ctx, "_tcp."+domain, dns.TypeA),
	}
}

// wildcardProbe is a name nobody publishes, so only a wildcard (RFC 4592) can answer it.
func wildcardProbe(domain string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "adcheck-" + hex.EncodeToString(b) + "." + domain
}

// findings judges the DNS data and certificates behind the steps. Severities follow the prediction:
// what makes Outlook show a dialog is an error, what is fragile is a warning.
func findings(cfg Config, res Result) []Finding {
	var fs []Finding
	add := func(id string, sev Severity, step int, reason, format string, args ...any) {
		fs = append(fs, Finding{ID: id, Severity: sev, Step: step, Message: fmt.Sprintf(format, args...), Reason: reason})
	}
	root, host, redirect, srv := res.Steps[0], res.Steps[1], res.Steps[2], res.Steps[3]
	d := hostname(res.Domain)
	queries := allQueries(res)

	if !served(res) {
		// Nothing below is known, so nothing below can be judged: this is the one finding.
		if refused(res) {
			add(IDNoAnswer, SeverityError, 0,
				"a nameserver answers REFUSED for a zone it does not serve (RFC 1035 section 4.1.1): ask the one that does, "+
					"or add the domain to this one",
				"the nameserver %s does not serve %s: it answers REFUSED", res.Server, d)
		} else {
			add(IDNoAnswer, SeverityError, 0,
				"without NOERROR or NXDOMAIN the data is unknown: is this the nameserver that serves the zone?",
				"the nameserver %s gave no usable answer for any name in %s: %s", res.Server, d, strings.Join(silentQueries(queries), ", "))
		}
		return fs
	}
	if silent := silentQueries(queries); len(silent) > 0 {
		add(IDNoAnswer, SeverityError, 0,
			"without NOERROR or NXDOMAIN the data is unknown: is this the nameserver that serves the zone?",
			"the nameserver %s gave no usable answer: %s", res.Server, strings.Join(silent, ", "))
	}

	// Step 1: the bare domain.
	if root.resolves() {
		add(IDApexResolves, stepSeverity(root, SeverityWarning), 1,
			"Outlook tries https://DOMAIN/ first (the root-domain probe); hide the apex address records for these "+
				"clients (hide_apex) or put the bare domain on that server's certificate",
			"%s resolves to %s: %s", d, strings.Join(root.Addresses, ", "), stepOutcome(root))
	}

	// Step 2: autodiscover.DOMAIN, own records or synthesised by a wildcard.
	wild := findQuery(res.Checks, func(q Query) bool { return strings.HasPrefix(q.Name, "adcheck-") })
	wildAddrs, _ := addressesAt(wild.msg, wild.Name, dns.TypeA)
	synthesised := len(wildAddrs) > 0 && cnameAt(firstMsg(host.DNS), host.Name) == "" && sameSet(wildAddrs, aRecords(host))
	switch {
	case len(wildAddrs) > 0 && host.resolves():
		add(IDWildcard, stepSeverity(host, SeverityError), 2,
			"RFC 4592: a wildcard answers every name that does not exist, autodiscover.DOMAIN included, and Outlook "+
				"tries that name before the SRV record",
			"*.%s answers for any name (%s -> %s), and autodiscover.%s resolves: %s", d, hostname(wild.Name),
			strings.Join(wildAddrs, ", "), d, stepOutcome(host))
	case len(wildAddrs) > 0:
		// The server keeps autodiscover.DOMAIN from the wildcard (the autodiscover plugin answers NXDOMAIN
		// there), so Outlook never meets it; the wildcard stays the operator's business.
		add(IDWildcard, SeverityInfo, 2,
			"RFC 4592: a wildcard answers every name that does not exist; this server answers autodiscover.DOMAIN "+
				"without it, so Outlook moves on",
			"*.%s answers for any name (%s -> %s), but not for autodiscover.%s", d, hostname(wild.Name),
			strings.Join(wildAddrs, ", "), d)
	}
	if host.resolves() && !synthesised {
		if target := cnameAt(firstMsg(host.DNS), host.Name); target != "" {
			add(IDAutodiscoverCNAME, stepSeverity(host, SeverityError), 2,
				"Outlook checks the certificate against the name it asked for, not the CNAME target; "+
					"autodiscover.DOMAIN must not exist unless its certificate names it",
				"autodiscover.%s is a CNAME to %s (%s): %s", d, hostname(target), strings.Join(host.Addresses, ", "), stepOutcome(host))
		} else {
			add(IDAutodiscoverRecord, stepSeverity(host, SeverityError), 2,
				"Outlook tries https://autodiscover.DOMAIN/ before the SRV record; the name must not exist "+
					"unless its certificate names it",
				"autodiscover.%s has address records (%s): %s", d, strings.Join(host.Addresses, ", "), stepOutcome(host))
		}
	}
	for _, s := range []Step{root, host, redirect} {
		if s.Status == StatusConnectionFailed {
			add(IDConnectionFailed, SeverityInfo, s.Number, "Outlook skips a step whose server does not accept the connection",
				"%s: connection to port %d failed, Outlook moves on", s.URL, s.Port)
		}
	}
	if redirect.Status == StatusRedirect {
		add(IDHTTPRedirect, SeverityWarning, 3,
			"Outlook asks the user before following an HTTP redirect (step 3); the SRV record does the same job",
			"%s redirects to %s", redirect.URL, redirect.HTTP.Location)
	}

	// Step 4: the SRV record and its target.
	srvQuery := srv.DNS[0]
	switch {
	case srvQuery.definite() && len(srv.srv) == 0:
		sev := SeverityInfo
		if res.Prediction.Outcome == OutcomeWarning || res.Prediction.Outcome == OutcomeFailure {
			sev = SeverityError
		}
		add(IDSRVMissing, sev, 4, "the SRV record is how a hosted domain points Outlook at a name on the certificate",
			"no SRV record at _autodiscover._tcp.%s (%s)", d, srvQuery.Rcode)
	case pickSRV(srv.srv) != nil && pickSRV(srv.srv).Target == ".":
		add(IDSRVTargetNone, SeverityError, 4, `RFC 2782: a target of "." means the service is not available`,
			"_autodiscover._tcp.%s has target \".\"", d)
	}
	if len(srv.srv) > 1 {
		add(IDSRVMultiple, SeverityWarning, 4,
			"RFC 2782 orders by priority then weighted random choice, but clients differ (some take the first "+
				"record): publish one",
			"%d SRV records at _autodiscover._tcp.%s", len(srv.srv), d)
	}
	if len(srv.srv) > 0 && srv.Name != srvQuery.Name {
		if srv.Port != defaultHTTPSPort {
			add(IDSRVPort, SeverityWarning, 4,
				"Autodiscover is HTTPS on 443; outbound firewalls and proxies often block other ports and not every "+
					"client honours the SRV port",
				"SRV port %d for %s", srv.Port, hostname(srv.Name))
		}
		if target := cnameAt(firstMsg(srv.DNS[1:]), srv.Name); target != "" {
			add(IDSRVTargetCNAME, SeverityWarning, 4, "RFC 2782: the target must have address records and must not be an alias",
				"SRV target %s is a CNAME to %s", hostname(srv.Name), hostname(target))
		}
		if !srv.resolves() {
			add(IDSRVTargetNoAddress, SeverityError, 4,
				"a target without A/AAAA records in this horizon leaves Outlook nowhere to connect",
				"SRV target %s has no address for a client at %s (%s horizon)", hostname(srv.Name), sourceName(res), res.Horizon)
		}
		if srv.Status == StatusConnectionFailed {
			add(IDConnectionFailed, SeverityError, 4, "step 4 is the last one: Outlook has nowhere else to go",
				"%s: connection to %s failed", srv.URL, strings.Join(srv.Addresses, ", "))
		}
	}
	if srv.Status == StatusCertificateBad {
		sev := SeverityWarning
		if res.Prediction.Outcome == OutcomeWarning && res.Prediction.Step == 4 {
			sev = SeverityError
		}
		for _, p := range srv.TLS.Problems {
			switch p {
			case ProblemNameMismatch:
				add(IDSRVTargetNotOnCert, sev, 4, "Outlook expects the SRV target's name on the certificate it connects to",
					"the certificate at %s names %s, not %s", srv.TLS.Address, strings.Join(srv.TLS.Names, ", "), hostname(srv.Name))
			case ProblemUnknownAuthority:
				add(IDCertificateUntrusted, sev, 4, "the chain must lead to a root the clients trust",
					"the certificate for %s is issued by %s, which is not trusted", hostname(srv.Name), srv.TLS.Issuer)
			case ProblemExpired:
				add(IDCertificateExpired, sev, 4, "clients reject certificates outside their validity period",
					"the certificate for %s is not valid now (not after %s)", hostname(srv.Name), srv.TLS.NotAfter.UTC().Format("2006-01-02"))
			default:
				add(IDCertificateInvalid, sev, 4, "the chain must verify", "the certificate chain for %s does not verify", hostname(srv.Name))
			}
		}
	}
	if res.Prediction.Outcome == OutcomeRedirect {
		add(IDRedirectPrompt, SeverityInfo, res.Prediction.Step,
			"Outlook asks before it uses a server in another domain; a RedirectServers value pre-approves the host",
			"Outlook asks \"allow this website to configure server settings?\" for %s; pre-approve it with a "+
				"value named %s under %s", res.Prediction.RedirectServer, res.Prediction.RedirectServer, RedirectServersKey)
	}

	// Server behaviour.
	ent := findQuery(res.Checks, func(q Query) bool { return q.Name == "_tcp."+res.Domain })
	if len(srv.srv) > 0 && ent.msg != nil && ent.msg.Rcode == dns.RcodeNameError {
		add(IDEmptyNonTerminal, SeverityError, 4,
			"RFC 8020: NXDOMAIN means nothing exists below the name, so resolvers that minimise query names "+
				"(RFC 9156) stop at _tcp and never ask for the SRV record; an empty non-terminal answers NOERROR",
			"_tcp.%s answers NXDOMAIN although _autodiscover._tcp.%s exists", d, d)
	}
	var noSOA, noAA []string
	for _, q := range queries {
		if !q.definite() {
			continue
		}
		if q.negative() && !q.SOA {
			noSOA = append(noSOA, fmt.Sprintf("%s %s %s", hostname(q.Name), q.Type, q.Rcode))
		}
		if !q.Authoritative {
			noAA = append(noAA, hostname(q.Name)+" "+q.Type)
		}
	}
	if len(noSOA) > 0 {
		add(IDNegativeNoSOA, SeverityWarning, 0,
			"RFC 2308 section 3: negative answers carry the zone's SOA so resolvers can cache them; without it "+
				"they ask again on every lookup",
			"negative answers without SOA in the authority section: %s", strings.Join(noSOA, ", "))
	}
	if cfg.Authoritative && len(noAA) > 0 {
		add(IDNotAuthoritative, SeverityWarning, 0,
			"RFC 1035 section 4.1.1: an authoritative server sets AA on answers from its zones; without it "+
				"this is a cache or forwarder, not the server that publishes the zone",
			"answers without the AA flag from %s: %s", res.Server, strings.Join(noAA, ", "))
	}
	return fs
}

// served reports whether the nameserver said anything definite (NOERROR or NXDOMAIN) about a name in the
// domain; when it did not, it does not serve the domain (or is broken) and nothing about the domain is known.
func served(res Result) bool {
	for _, q := range allQueries(res) {
		if q.definite() && inDomain(q.Name, res.Domain) {
			return true
		}
	}
	return false
}

// refused reports a server that answered REFUSED for every question about the domain that it answered.
func refused(res Result) bool {
	seen := false
	for _, q := range allQueries(res) {
		if q.answered() && inDomain(q.Name, res.Domain) {
			if q.msg.Rcode != dns.RcodeRefused {
				return false
			}
			seen = true
		}
	}
	return seen
}

// silentQueries lists the questions without a definite answer, and why.
func silentQueries(queries []Query) []string {
	var silent []string
	for _, q := range queries {
		switch {
		case !q.answered():
			silent = append(silent, hostname(q.Name)+" "+q.Type+" (no response)")
		case !q.definite():
			silent = append(silent, hostname(q.Name)+" "+q.Type+" ("+q.Rcode+")")
		}
	}
	return silent
}

// stepSeverity ranks a step 1 or 2 that resolves by what happens when Outlook gets there; unchecked is
// the given severity.
func stepSeverity(s Step, unchecked Severity) Severity {
	switch s.Status {
	case StatusCertificateBad:
		return SeverityError
	case StatusCertificateValid:
		return SeverityInfo
	case StatusConnectionFailed:
		return SeverityWarning
	}
	return unchecked
}

func stepOutcome(s Step) string {
	switch s.Status {
	case StatusCertificateBad:
		return s.Note
	case StatusCertificateValid:
		return "its certificate names it, no warning"
	case StatusConnectionFailed:
		return "connection failed now, but a server answering there later brings the warning"
	}
	return s.Note
}

func sourceName(res Result) string {
	if res.Source == "" {
		return "this host"
	}
	return res.Source
}

// allQueries lists each question once: steps 2 and 3 share theirs.
func allQueries(res Result) []Query {
	var out []Query
	seen := map[string]bool{}
	for _, s := range res.Steps {
		for _, q := range s.DNS {
			key := strings.ToLower(q.Name) + "/" + q.Type
			if !seen[key] {
				seen[key] = true
				out = append(out, q)
			}
		}
	}
	return append(out, res.Checks...)
}

func findQuery(qs []Query, match func(Query) bool) Query {
	for _, q := range qs {
		if match(q) {
			return q
		}
	}
	return Query{}
}

func firstMsg(qs []Query) *dns.Msg {
	if len(qs) == 0 {
		return nil
	}
	return qs[0].msg
}

// aRecords are the IPv4 addresses of a step, the only ones the A probe can be compared with.
func aRecords(s Step) []string {
	var out []string
	for _, a := range s.Addresses {
		if !strings.Contains(a, ":") {
			out = append(out, a)
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
