package diagnose

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestFix(t *testing.T) {
	t.Parallel()
	withTarget := func(c *Config) { c.Target = "Mail.CompanyA.example" }
	tests := []struct {
		name     string
		scenario string
		tweak    func(*Config)
		target   string   // "" when no fix is expected
		remove   []string // exactly these removals
		hideApex bool
		note     string // a note must contain this; "" for no note at all
	}{
		{name: "nothing to fix", scenario: "fixed"},
		// The server hides autodiscover.companyb.example from the wildcard: nothing for Outlook to fix.
		{name: "wildcard the server hides", scenario: "wildcard-hidden"},
		// A server that does not serve the domain says nothing to start a fix from.
		{name: "zone not served", scenario: "not-served"},
		{name: "target from the SRV record, not the CNAME", scenario: "autodiscover-cname", target: "autodiscover.companya.example.",
			remove: []string{"autodiscover.companyb.example. 3600 IN CNAME autodiscover.companya.example."}},
		{name: "leftover A", scenario: "autodiscover-a", target: "autodiscover.companya.example.",
			remove: []string{"autodiscover.companyb.example. 3600 IN A 127.0.0.10"}},
		{name: "wildcard", scenario: "wildcard", target: "autodiscover.companya.example.",
			remove: []string{"*.companyb.example. 3600 IN A 127.0.0.30"}},
		{name: "bare domain", scenario: "apex-web", target: "autodiscover.companya.example.", hideApex: true,
			note: "hide the A/AAAA records of companyb.example from these clients (hide_apex), or put companyb.example on"},
		{name: "extra SRV record", scenario: "two-srv", target: "autodiscover.companya.example.",
			remove: []string{"_autodiscover._tcp.companyb.example. 3600 IN SRV 10 0 443 webmail.companya.example."}},
		{name: "SRV port", scenario: "port-8443", target: "autodiscover.companya.example.",
			remove: []string{"_autodiscover._tcp.companyb.example. 3600 IN SRV 0 0 8443 autodiscover.companya.example."}},
		// An alias is no SRV target (RFC 2782): the name it leads to, which the trusted certificate names, is.
		{name: "SRV target is an alias", scenario: "target-cname", target: "autodiscover.companya.example.",
			remove: []string{"_autodiscover._tcp.companyb.example. 3600 IN SRV 0 0 443 mail.companyb.example."}},
		// The one SRV record names the right host: the fix repairs the host and keeps the record.
		{name: "SRV target without an outside address", scenario: "target-internal-only", target: "autodiscover.companya.example.",
			note: "give autodiscover.companya.example A/AAAA records in this horizon (external)"},
		{name: "SRV target with an untrusted certificate", scenario: "untrusted", target: "autodiscover.companya.example.",
			note: "make the certificate of autodiscover.companya.example trusted: it is issued by CN=Rogue Test CA"},
		{name: "SRV target with an expired certificate", scenario: "expired", target: "autodiscover.companya.example.",
			note: "renew the certificate of autodiscover.companya.example"},
		{name: "SRV target not on the certificate", scenario: "target-not-on-certificate", target: "mail.companyb.example.",
			note: "put mail.companyb.example on the certificate at 127.0.0.10:443, which names autodiscover.companya.example, webmail.companya.example"},
		{name: "SRV target refuses connections", scenario: "target-closed", target: "autodiscover.companya.example.",
			note: "make the server of autodiscover.companya.example accept HTTPS on port 443 at 127.0.0.41"},
		{name: "SRV target in dns-only", scenario: "target-internal-only", tweak: dnsOnly, target: "autodiscover.companya.example.",
			note: "give autodiscover.companya.example A/AAAA records"},
		// The certificates that caused the warning are never the target: the web host's, nor the mail
		// server's behind a leftover CNAME.
		{name: "web host at steps 1 and 2", scenario: "web-host", target: TargetPlaceholder, hideApex: true,
			remove: []string{"autodiscover.companyb.example. 3600 IN A 127.0.0.22"}, note: "hide_apex"},
		{name: "mail server behind the leftover CNAME", scenario: "autodiscover-cname-no-srv", target: TargetPlaceholder,
			remove: []string{"autodiscover.companyb.example. 3600 IN CNAME autodiscover.companya.example."}},
		{name: "no certificate seen", scenario: "nothing", target: TargetPlaceholder},
		{name: "-target", scenario: "nothing", tweak: withTarget, target: "mail.companya.example."},
		{name: "-target replaces the SRV record", scenario: "target-internal-only", tweak: withTarget, target: "mail.companya.example.",
			remove: []string{"_autodiscover._tcp.companyb.example. 3600 IN SRV 0 0 443 autodiscover.companya.example."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := checkScenario(t, tc.scenario, "user@companyb.example", tc.tweak)
			fix := res.Fix
			if tc.target == "" {
				if fix != nil {
					t.Fatalf("unexpected fix %+v\n%s", fix, describe(res))
				}
				return
			}
			if fix == nil {
				t.Fatalf("no fix\n%s", describe(res))
			}
			if fix.Target != tc.target {
				t.Errorf("target %q, want %q\n%s", fix.Target, tc.target, describe(res))
			}
			want := "_autodiscover._tcp.companyb.example. 3600 IN SRV 0 0 443 " + tc.target
			if len(fix.Publish) != 1 || fix.Publish[0] != want {
				t.Errorf("publish %q, want %q", fix.Publish, want)
			}
			if !slices.Equal(fix.Remove, tc.remove) {
				t.Errorf("remove %q, want %q", fix.Remove, tc.remove)
			}
			if fix.HideApex != tc.hideApex || strings.Contains(fix.Corefile, "hide_apex") != tc.hideApex {
				t.Errorf("hide_apex %t in\n%s, want %t", fix.HideApex, fix.Corefile, tc.hideApex)
			}
			if !strings.Contains(fix.Corefile, "target "+hostname(tc.target)+"\n") {
				t.Errorf("Corefile does not publish the target:\n%s", fix.Corefile)
			}
			switch {
			case tc.note == "":
				if len(fix.Notes) > 0 {
					t.Errorf("notes %q, want none", fix.Notes)
				}
			case !slices.ContainsFunc(fix.Notes, func(n string) bool { return strings.Contains(n, tc.note) }):
				t.Errorf("no note containing %q in %q", tc.note, fix.Notes)
			}
			for _, n := range fix.Notes {
				if strings.Contains(n, TargetPlaceholder) {
					t.Errorf("note about the placeholder: %q", n)
				}
			}
		})
	}
}

func TestFixNotes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scenario string
		note     string
	}{
		{"ent-nxdomain", "_tcp.companyb.example must answer NOERROR"},
		{"no-soa", "RFC 2308"},
		{"no-aa", "query the server that publishes companyb.example;"},
		{"target-internal-only", "as in every other"},
		{"apex-web", "hide_apex"},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			res := checkScenario(t, tc.scenario, "companyb.example", nil)
			if res.Fix == nil || !slices.ContainsFunc(res.Fix.Notes, func(n string) bool { return strings.Contains(n, tc.note) }) {
				t.Fatalf("no note containing %q in %+v", tc.note, res.Fix)
			}
		})
	}
}

// chooseTarget on results made by hand: which certificates and records may name the SRV target.
func TestChooseTarget(t *testing.T) {
	t.Parallel()
	const owner = "_autodiscover._tcp.companyb.example."
	mail := []string{"autodiscover.companya.example", "webmail.companya.example"}
	web := []string{"www.webhost.example"}
	cert := func(trusted bool, names ...string) *TLSResult {
		return &TLSResult{Connected: true, Trusted: trusted, Names: names}
	}
	answer := func(name string, rrs ...string) Query {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		m.Answer = zone(t, rrs...)
		return Query{Name: name, Type: "A", Rcode: "NOERROR", msg: m}
	}
	// srv is step 4 for the SRV records given, at the status given; extra are the target's address queries.
	srv := func(status string, tls *TLSResult, records []string, extra ...Query) Step {
		s := Step{Number: 4, Name: owner, DNS: []Query{answer(owner, records...)}, Status: status, TLS: tls}
		for _, rr := range zone(t, records...) {
			s.srv = append(s.srv, rr.(*dns.SRV))
		}
		if best := pickSRV(s.srv); best != nil && best.Target != "." {
			s.Name, s.Port = best.Target, best.Port
			s.DNS = append(s.DNS, extra...)
			if status != StatusNotResolved {
				s.Addresses = []string{"127.0.0.10"}
			}
		}
		return s
	}
	noSRV := srv(StatusNotResolved, nil, nil)
	step := func(n int, status string, tls *TLSResult) Step { return Step{Number: n, Status: status, TLS: tls} }
	none := Step{Status: StatusNotResolved}
	good := owner + " SRV 0 0 443 autodiscover.companya.example."
	mailA := answer("autodiscover.companya.example.", "autodiscover.companya.example. A 127.0.0.10")
	tests := []struct {
		name  string
		cfg   Config
		steps []Step
		want  string
	}{
		{"-target first", Config{Target: "Mail.CompanyA.example"},
			[]Step{none, none, none, srv(StatusCertificateValid, cert(true, mail...), []string{good}, mailA)}, "mail.companya.example."},
		{"the working SRV target", Config{},
			[]Step{none, none, none, srv(StatusCertificateValid, cert(true, mail...), []string{good}, mailA)}, "autodiscover.companya.example."},
		{"the working SRV target of two", Config{},
			[]Step{none, none, none, srv(StatusCertificateValid, cert(true, mail...),
				[]string{good, owner + " SRV 10 0 443 webmail.companya.example."}, mailA)}, "autodiscover.companya.example."},
		{"the SRV target, dns-only", Config{DNSOnly: true},
			[]Step{none, none, none, srv(StatusNotChecked, nil, []string{good}, mailA)}, "autodiscover.companya.example."},
		{"the one SRV target, untrusted", Config{},
			[]Step{none, none, none, srv(StatusCertificateBad, cert(false, mail...), []string{good}, mailA)}, "autodiscover.companya.example."},
		{"the one SRV target, without an address", Config{},
			[]Step{none, none, none, srv(StatusNotResolved, nil, []string{good}, answer("autodiscover.companya.example."))},
			"autodiscover.companya.example."},
		{"the one SRV target, not on the certificate", Config{},
			[]Step{none, none, none, srv(StatusCertificateBad, cert(true, mail...),
				[]string{owner + " SRV 0 0 443 mail.companyb.example."},
				answer("mail.companyb.example.", "mail.companyb.example. A 127.0.0.10"))}, "mail.companyb.example."},
		{"the one SRV target, not on the certificate, without an address, dns-only", Config{DNSOnly: true},
			[]Step{none, none, none, srv(StatusNotResolved, nil, []string{owner + " SRV 0 0 443 mail.companyb.example."},
				answer("mail.companyb.example."))}, "mail.companyb.example."},
		{"not one of two broken SRV targets", Config{},
			[]Step{none, none, none, srv(StatusCertificateBad, cert(false, mail...),
				[]string{good, owner + " SRV 10 0 443 webmail.companya.example."}, mailA)}, TargetPlaceholder},
		{"not a broken SRV target on another port", Config{},
			[]Step{none, none, none, srv(StatusCertificateBad, cert(false, mail...),
				[]string{owner + " SRV 0 0 8443 autodiscover.companya.example."}, mailA)}, TargetPlaceholder},
		{"not a broken autodiscover.DOMAIN, which the fix hides", Config{},
			[]Step{none, none, none, srv(StatusCertificateBad, cert(true, mail...),
				[]string{owner + " SRV 0 0 443 autodiscover.companyb.example."},
				answer("autodiscover.companyb.example.", "autodiscover.companyb.example. A 127.0.0.10"))}, TargetPlaceholder},
		{"the name behind an aliased SRV target", Config{},
			[]Step{none, none, none, srv(StatusCertificateBad, cert(true, mail...),
				[]string{owner + " SRV 0 0 443 mail.companyb.example."},
				answer("mail.companyb.example.", "mail.companyb.example. CNAME autodiscover.companya.example.",
					"autodiscover.companya.example. A 127.0.0.10"))}, "autodiscover.companya.example."},
		{"not the name behind an alias on an untrusted certificate", Config{},
			[]Step{none, none, none, srv(StatusCertificateBad, cert(false, mail...),
				[]string{owner + " SRV 0 0 443 mail.companyb.example."},
				answer("mail.companyb.example.", "mail.companyb.example. CNAME autodiscover.companya.example.",
					"autodiscover.companya.example. A 127.0.0.10"))}, TargetPlaceholder},
		{"not the web host that warns at steps 1 and 2", Config{},
			[]Step{step(1, StatusCertificateBad, cert(true, web...)), step(2, StatusCertificateBad, cert(true, web...)), none, noSRV},
			TargetPlaceholder},
		{"not the mail server that warns at step 2", Config{},
			[]Step{none, step(2, StatusCertificateBad, cert(true, mail...)), none, noSRV}, TargetPlaceholder},
		{"autodiscover.* on a certificate accepted at step 1", Config{},
			[]Step{step(1, StatusCertificateValid, cert(true, "*.companya.example", "webmail.companya.example", "companyb.example",
				"Autodiscover.CompanyA.example")), none, none, noSRV}, "autodiscover.companya.example."},
		{"a mail name on a certificate accepted at step 1", Config{},
			[]Step{step(1, StatusCertificateValid, cert(true, "companyb.example", "www.webhost.example", "webmail.companya.example")),
				none, none, noSRV}, "webmail.companya.example."},
		{"no web name on a certificate accepted at step 1", Config{},
			[]Step{step(1, StatusCertificateValid, cert(true, "companyb.example", "www.webhost.example")), none, none, noSRV},
			TargetPlaceholder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := slices.Clone(tc.steps)
			for i := range steps {
				steps[i].Number = i + 1
			}
			res := Result{Domain: "companyb.example.", Steps: steps}
			if got := chooseTarget(tc.cfg, res); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// One autodiscover declaration serves every domain with the same target, as a provider would write it.
func TestCorefile(t *testing.T) {
	fixes := []*Fix{
		{Domain: "companyb.example.", Target: "autodiscover.companya.example."},
		{Domain: "companyc.example.", Target: "autodiscover.companya.example."},
		{Domain: "companyd.example.", Target: "autodiscover.companya.example.", HideApex: true},
	}
	want := `companyb.example companyc.example {
    autodiscover {
        target autodiscover.companya.example
    }
    file db.companyb.example companyb.example
    file db.companyc.example companyc.example
}

companyd.example {
    autodiscover {
        target autodiscover.companya.example
        hide_apex
    }
    file db.companyd.example companyd.example
}
`
	if got := Corefile(fixes); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
