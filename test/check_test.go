package test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/autodiscover-dns/autodiscover/internal/testpki"

	"github.com/miekg/dns"
)

// The autodiscover-check tests run the built command against the built server on loopback. The
// command opens TLS connections to port 443 of the addresses DNS returns, so each test has a lab: a
// random 127.X.Y.0/24 block of its own with HTTPS servers on port 443 (which needs root), certificates
// from a CA made for the test, and the zone files of testdata/check with 127.0.0.10-19 moved into the
// block. Every address in those zones is on loopback, so nothing leaves the machine.

// Hosts of the lab, by the address the zone files give them.
const (
	mailOutside = "127.0.0.10" // the mail server for outside clients: autodiscover and webmail.companya.example
	webHost     = "127.0.0.11" // a web host whose certificate names none of the mail names
	mailInside  = "127.0.0.12" // the mail server for inside clients
	httpOnly    = "127.0.0.14" // port 443 closed, port 80 redirects to the mail server
	inside      = "127.0.0.2"  // the source address the server counts as internal
)

// target is the mail server's name the fix points the SRV record at; placeholder stands for it when
// the command has seen no certificate that names it.
const (
	target      = "autodiscover.companya.example"
	placeholder = "<host on your certificate>"
)

// redirectServers is the .reg text that pre-approves the mail server, as the command prints it.
const redirectServers = `[HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\AutoDiscover\RedirectServers]` + "\n" +
	`"autodiscover.companya.example"=hex:`

// goodCorefile is the fix: companyb.example keeps its zone file with the web site on the bare domain and
// the leftover autodiscover record, and the plugin keeps both from Outlook.
const goodCorefile = `companya.example companyb.example {
    autodiscover {
        target autodiscover.companya.example
        hosts webmail.companya.example
        external 127.0.0.10
        internal 127.0.0.12
        internal_networks 127.0.0.2/32
        hide_apex companyb.example
    }
    file test/testdata/check/db.companya.example companya.example
    file test/testdata/check/db.companyb.example companyb.example
}
`

// broken is every zone of testdata/check with one thing wrong, served as plain zone files.
var broken = []string{"wildcard.example", "leftover.example", "apex.example", "twosrv.example", "srvcname.example",
	"nothing.example", "closed.example", "redirect.example"}

// fileBlock serves domains from their zone files, without the autodiscover plugin.
func fileBlock(domains ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s {\n", strings.Join(domains, " "))
	for _, d := range domains {
		fmt.Fprintf(&b, "    file test/testdata/check/db.%s %s\n", d, d)
	}
	b.WriteString("}\n")
	return b.String()
}

// without returns corefile with line taken out, and fails when it is not there.
func without(t *testing.T, corefile, line string) string {
	t.Helper()
	if !strings.Contains(corefile, line+"\n") {
		t.Fatalf("no line %q in\n%s", line, corefile)
	}
	return strings.Replace(corefile, line+"\n", "", 1)
}

// checkResult is one element of -json's array, with the fields these tests read.
type checkResult struct {
	Input      string         `json:"input"`
	Domain     string         `json:"domain"`
	Server     string         `json:"server"`
	Source     string         `json:"source"`
	Horizon    string         `json:"horizon"`
	DNSOnly    bool           `json:"dns_only"`
	Steps      []checkStep    `json:"steps"`
	Findings   []checkFinding `json:"findings"`
	Prediction struct {
		Outcome        string   `json:"outcome"`
		Step           int      `json:"step"`
		Problems       []string `json:"problems"`
		Summary        string   `json:"summary"`
		RedirectServer string   `json:"redirect_server"`
		Registry       string   `json:"registry"`
	} `json:"prediction"`
	Fix *struct {
		Domain   string   `json:"domain"`
		Target   string   `json:"target"`
		Publish  []string `json:"publish"`
		Remove   []string `json:"remove"`
		Notes    []string `json:"notes"`
		HideApex bool     `json:"hide_apex"`
		Corefile string   `json:"corefile"`
	} `json:"fix"`
}

type checkFinding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Step     int    `json:"step"`
	Message  string `json:"message"`
	Reason   string `json:"reason"`
}

type checkStep struct {
	Step      int      `json:"step"`
	Note      string   `json:"note"`
	Addresses []string `json:"addresses"`
	TLS       *struct {
		Address string `json:"address"`
	} `json:"tls"`
	HTTP *struct {
		Address string `json:"address"`
	} `json:"http"`
}

// dotted is a host name of the zones with the root dot, which a message for a person never has (records do).
var dotted = regexp.MustCompile(`[a-z0-9]\.example\.([^a-z0-9_*-]|$)`)

// texts is everything of r written for a person: step notes, the summary, findings and fix notes.
func (r checkResult) texts() []string {
	out := []string{r.Prediction.Summary}
	for _, s := range r.Steps {
		out = append(out, s.Note)
	}
	for _, f := range r.Findings {
		out = append(out, f.Message, f.Reason)
	}
	if r.Fix != nil {
		out = append(out, r.Fix.Notes...)
	}
	return out
}

// findingList is "id:severity" for every finding, sorted.
func (r checkResult) findingList() []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.ID+":"+f.Severity)
	}
	slices.Sort(out)
	return out
}

// TestCheckOutcomes runs the command for every outcome it predicts, against the fix, against
// Corefiles that leave one thing wrong, and from both horizons.
func TestCheckOutcomes(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	servers := map[string]*server{
		// The fix for companyb.example, next to zones that each leave one thing wrong.
		"good+broken": l.start(t, goodCorefile+fileBlock(broken...)),
		// companyb.example as the operator found it: no plugin.
		"before": l.start(t, fileBlock("companya.example", "companyb.example")),
		// The fix without hide_apex: the bare domain still points at the web site.
		"no-hide-apex": l.start(t, without(t, goodCorefile, "        hide_apex companyb.example")),
		// Split horizon gone wrong: the target only has an internal address.
		"internal-only": l.start(t, without(t, goodCorefile, "        external 127.0.0.10")),
		// wildcard.example keeps its wildcard, and the plugin keeps it from autodiscover.wildcard.example.
		"hidden wildcard": l.start(t, goodCorefile+`wildcard.example {
    autodiscover {
        target autodiscover.companya.example
    }
    file test/testdata/check/db.wildcard.example wildcard.example
}
`),
		// The SRV target is webmail, so autodiscover.companya.example does not exist.
		"webmail-target": l.start(t, `companya.example {
    autodiscover {
        target webmail.companya.example
        external 127.0.0.10
    }
    file test/testdata/check/db.companya.example companya.example
}
`),
	}

	type fixWant struct {
		target   string   // the SRV target it publishes; "" for the mail server
		remove   []string // records it says to remove
		hideApex bool
		note     string // a note contains this, with testdata's addresses
	}
	for _, tc := range []struct {
		name, server string
		args         []string // flags; -server, -ca and -timeout come first
		otherCA      bool     // trust a CA that signed none of the certificates
		input        string
		outcome      string
		step         int
		problems     []string
		addresses    []string // the addresses of the predicted step
		findings     []string // every finding, as "id:severity"
		fix          *fixWant // nil: the report has no fix
		message      string   // a finding's message contains this
		exit         int
	}{
		// The fix at work: a hosted domain gets a redirect prompt for the mail server, which the
		// registry value pre-approves; from inside, the internal address.
		{name: "good hosted domain", server: "good+broken", input: "user@companyb.example",
			outcome: "redirect-prompt", step: 4, addresses: []string{mailOutside},
			findings: []string{"redirect-prompt:info"}},
		{name: "good hosted domain inside", server: "good+broken", args: []string{"-source", inside, "-internal"},
			input: "user@companyb.example", outcome: "redirect-prompt", step: 4, addresses: []string{mailInside},
			findings: []string{"redirect-prompt:info"}},
		// The certificate's own domain: silent success at autodiscover.companya.example.
		{name: "good own domain", server: "good+broken", input: "user@companya.example",
			outcome: "success", step: 2, addresses: []string{mailOutside}, findings: []string{"autodiscover-record:info"}},
		{name: "good own domain inside", server: "good+broken", args: []string{"-source", inside, "-internal"},
			input: "user@companya.example", outcome: "success", step: 2, addresses: []string{mailInside},
			findings: []string{"autodiscover-record:info"}},
		// ... and at step 4 when the target is webmail, in the same domain.
		{name: "SRV target in the domain", server: "webmail-target", input: "user@companya.example",
			outcome: "success", step: 4, addresses: []string{mailOutside}},
		// -dns-only stops where Outlook would connect.
		{name: "good dns-only", server: "good+broken", args: []string{"-dns-only"}, input: "companyb.example",
			outcome: "unverified", step: 4, addresses: []string{mailOutside}},
		// A certificate from a CA the clients do not trust.
		{name: "unknown authority", server: "good+broken", otherCA: true, input: "user@companyb.example",
			outcome: "warning", step: 4, problems: []string{"unknown-authority"}, addresses: []string{mailOutside},
			findings: []string{"certificate-unknown-authority:error"},
			// The SRV record names the right host: the fix keeps it and says what the host lacks.
			fix:  &fixWant{note: "make the certificate of autodiscover.companya.example trusted: it is issued by CN=Autodiscover Test CA"},
			exit: 1},

		// Each thing the fix takes away, left in.
		{name: "wildcard", server: "good+broken", input: "user@wildcard.example",
			outcome: "warning", step: 2, problems: []string{"name-mismatch"}, addresses: []string{webHost},
			findings: []string{"wildcard-record:error"},
			fix:      &fixWant{remove: []string{"*.wildcard.example. 3600 IN A " + webHost}}, exit: 1},
		// The server answers NXDOMAIN for autodiscover.wildcard.example: the wildcard is no concern of Outlook's.
		{name: "wildcard the server hides", server: "hidden wildcard", input: "user@wildcard.example",
			outcome: "redirect-prompt", step: 4, addresses: []string{mailOutside},
			findings: []string{"redirect-prompt:info", "wildcard-record:info"},
			message:  "but not for autodiscover.wildcard.example"},
		{name: "autodiscover record", server: "good+broken", input: "user@leftover.example",
			outcome: "warning", step: 2, problems: []string{"name-mismatch"}, addresses: []string{webHost},
			findings: []string{"autodiscover-record:error"},
			fix:      &fixWant{remove: []string{"autodiscover.leftover.example. 3600 IN A " + webHost}}, exit: 1},
		{name: "bare domain", server: "good+broken", input: "user@apex.example",
			outcome: "warning", step: 1, problems: []string{"name-mismatch"}, addresses: []string{webHost},
			findings: []string{"apex-resolves:error"},
			fix:      &fixWant{hideApex: true, note: "hide the A/AAAA records of apex.example from these clients (hide_apex)"}, exit: 1},
		{name: "bare domain without hide_apex", server: "no-hide-apex", input: "user@companyb.example",
			outcome: "warning", step: 1, problems: []string{"name-mismatch"}, addresses: []string{webHost},
			findings: []string{"apex-resolves:error"},
			fix:      &fixWant{hideApex: true, note: "hide the A/AAAA records of companyb.example from these clients (hide_apex)"}, exit: 1},
		{name: "two SRV records", server: "good+broken", input: "user@twosrv.example",
			outcome: "redirect-prompt", step: 4, addresses: []string{mailOutside},
			findings: []string{"redirect-prompt:info", "srv-multiple:warning"},
			fix:      &fixWant{remove: []string{"_autodiscover._tcp.twosrv.example. 3600 IN SRV 10 0 443 webmail.companya.example."}}},
		{name: "SRV target is a CNAME", server: "good+broken", input: "user@srvcname.example",
			outcome: "warning", step: 4, problems: []string{"name-mismatch"}, addresses: []string{mailOutside},
			findings: []string{"srv-target-cname:warning", "srv-target-not-on-certificate:error"},
			fix:      &fixWant{remove: []string{"_autodiscover._tcp.srvcname.example. 3600 IN SRV 0 0 443 mail.srvcname.example."}}, exit: 1},
		{name: "as found", server: "before", args: []string{"-target", target}, input: "user@companyb.example",
			outcome: "warning", step: 1, problems: []string{"name-mismatch"}, addresses: []string{webHost},
			findings: []string{"apex-resolves:error", "autodiscover-record:error", "srv-missing:error"},
			fix: &fixWant{remove: []string{"autodiscover.companyb.example. 3600 IN A " + webHost}, hideApex: true,
				note: "hide the A/AAAA records of companyb.example from these clients (hide_apex)"}, exit: 1},
		// Without -target: the web host's certificate (www.webhost.example) caused the warning, so it is no
		// SRV target, and no other certificate was seen.
		{name: "as found, no -target", server: "before", input: "user@companyb.example",
			outcome: "warning", step: 1, problems: []string{"name-mismatch"}, addresses: []string{webHost},
			findings: []string{"apex-resolves:error", "autodiscover-record:error", "srv-missing:error"},
			fix: &fixWant{target: placeholder, remove: []string{"autodiscover.companyb.example. 3600 IN A " + webHost}, hideApex: true,
				note: "hide the A/AAAA records of companyb.example from these clients"}, exit: 1},
		{name: "step 3 redirect", server: "good+broken", input: "user@redirect.example",
			outcome: "redirect-prompt", step: 3, addresses: []string{httpOnly},
			findings: []string{"autodiscover-record:warning", "connection-failed:info", "http-redirect:warning", "redirect-prompt:info", "srv-missing:info"},
			fix:      &fixWant{target: placeholder, remove: []string{"autodiscover.redirect.example. 3600 IN A " + httpOnly}}},
		{name: "leftover dns-only", server: "good+broken", args: []string{"-dns-only"}, input: "leftover.example",
			outcome: "unverified", step: 2, addresses: []string{webHost},
			findings: []string{"autodiscover-record:error"},
			fix:      &fixWant{remove: []string{"autodiscover.leftover.example. 3600 IN A " + webHost}}, exit: 1},
		{name: "bare domain dns-only", server: "good+broken", args: []string{"-dns-only"}, input: "apex.example",
			outcome: "unverified", step: 1, addresses: []string{webHost},
			findings: []string{"apex-resolves:warning"},
			fix:      &fixWant{hideApex: true, note: "hide the A/AAAA records of apex.example from these clients (hide_apex)"}},

		// Nothing to connect to.
		{name: "nothing", server: "good+broken", input: "user@nothing.example", outcome: "failure",
			findings: []string{"srv-missing:error"}, fix: &fixWant{target: placeholder}, exit: 1},
		{name: "nothing dns-only", server: "good+broken", args: []string{"-dns-only"}, input: "nothing.example", outcome: "failure",
			findings: []string{"srv-missing:error"}, fix: &fixWant{target: placeholder}, exit: 1},
		// The one SRV record is plausible: the fix keeps it and says what its host lacks.
		{name: "port 443 closed", server: "good+broken", input: "user@closed.example", outcome: "failure",
			findings: []string{"connection-failed:error"},
			fix:      &fixWant{target: "mail.closed.example.", note: "make the server of mail.closed.example accept HTTPS on port 443 at 127.0.0.13"},
			exit:     1},
		{name: "target without an outside address", server: "internal-only", input: "user@companyb.example", outcome: "failure",
			findings: []string{"srv-target-no-address:error"},
			fix:      &fixWant{note: "give autodiscover.companya.example A/AAAA records in this horizon (external)"},
			message:  "SRV target autodiscover.companya.example has no address for a client at this host (external horizon)", exit: 1},
		{name: "target without an outside address, inside", server: "internal-only", args: []string{"-source", inside, "-internal"},
			input: "user@companyb.example", outcome: "redirect-prompt", step: 4, addresses: []string{mailInside},
			findings: []string{"redirect-prompt:info"}},
		// Nothing is known about a zone the server does not serve: no fix, only that finding.
		{name: "zone not served", server: "before", input: "user@unknown.example", outcome: "failure",
			findings: []string{"dns-no-answer:error"}, message: "does not serve unknown.example: it answers REFUSED", exit: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := slices.Clone(tc.args)
			if tc.otherCA {
				args = append(args, "-ca", l.otherCA)
			}
			s := servers[tc.server]
			results, exit := l.checkJSON(t, s, append(args, tc.input)...)
			if len(results) != 1 {
				t.Fatalf("%d results, want 1", len(results))
			}
			r := results[0]
			domain := dns.Fqdn(tc.input[strings.LastIndex(tc.input, "@")+1:])
			if r.Input != tc.input || r.Domain != domain || r.Server != fmt.Sprintf("127.0.0.1:%d", s.port) {
				t.Errorf("input %q domain %q server %q", r.Input, r.Domain, r.Server)
			}
			if exit != tc.exit {
				t.Errorf("exit status %d, want %d", exit, tc.exit)
			}
			p := r.Prediction
			if p.Outcome != tc.outcome || p.Step != tc.step || !slices.Equal(p.Problems, tc.problems) {
				t.Errorf("prediction %s at step %d %v, want %s at step %d %v: %s",
					p.Outcome, p.Step, p.Problems, tc.outcome, tc.step, tc.problems, p.Summary)
			}
			if tc.step != 0 {
				if got, want := r.Steps[tc.step-1].Addresses, l.hosts(tc.addresses); !slices.Equal(got, want) {
					t.Errorf("step %d addresses %v, want %v", tc.step, got, want)
				}
			}
			if got := r.findingList(); !slices.Equal(got, tc.findings) {
				t.Errorf("findings %v, want %v\n%+v", got, tc.findings, r.Findings)
			}
			if tc.message != "" && !slices.ContainsFunc(r.Findings, func(f checkFinding) bool { return strings.Contains(f.Message, tc.message) }) {
				t.Errorf("no finding says %q: %+v", tc.message, r.Findings)
			}
			for _, text := range r.texts() {
				if dotted.MatchString(text) {
					t.Errorf("a host name with the root dot in %q", text)
				}
			}

			wantSource, wantHorizon := "", "external"
			if slices.Contains(tc.args, "-internal") {
				wantSource, wantHorizon = inside, "internal"
			}
			if r.Source != wantSource || r.Horizon != wantHorizon || r.DNSOnly != slices.Contains(tc.args, "-dns-only") {
				t.Errorf("source %q horizon %q dns_only %t", r.Source, r.Horizon, r.DNSOnly)
			}

			if p.Outcome == "redirect-prompt" {
				if p.RedirectServer != target || p.Registry != redirectServers {
					t.Errorf("redirect server %q, registry\n%s\nwant %s and\n%s", p.RedirectServer, p.Registry, target, redirectServers)
				}
			} else if p.RedirectServer != "" || p.Registry != "" {
				t.Errorf("a %s with a redirect server %q", p.Outcome, p.RedirectServer)
			}

			switch {
			case tc.fix == nil && r.Fix != nil:
				t.Errorf("a fix for a domain that needs none: %+v", r.Fix)
			case tc.fix == nil:
			case r.Fix == nil:
				t.Errorf("no fix")
			default:
				if r.Fix.Domain != domain {
					t.Errorf("fix for %q", r.Fix.Domain)
				}
				want := tc.fix.target
				if want == "" {
					want = target + "."
				}
				srv := fmt.Sprintf("_autodiscover._tcp.%s 3600 IN SRV 0 0 443 %s", domain, want)
				if r.Fix.Target != want || !slices.Equal(r.Fix.Publish, []string{srv}) {
					t.Errorf("fix target %q publishes %q, want %s", r.Fix.Target, r.Fix.Publish, srv)
				}
				if want := l.hosts(tc.fix.remove); !slices.Equal(r.Fix.Remove, want) {
					t.Errorf("fix removes %q, want %q", r.Fix.Remove, want)
				}
				if r.Fix.HideApex != tc.fix.hideApex || strings.Contains(r.Fix.Corefile, "hide_apex") != tc.fix.hideApex {
					t.Errorf("fix hide_apex %t, want %t:\n%s", r.Fix.HideApex, tc.fix.hideApex, r.Fix.Corefile)
				}
				switch note := l.local(tc.fix.note); {
				case note == "":
					if len(r.Fix.Notes) > 0 {
						t.Errorf("fix notes %q, want none", r.Fix.Notes)
					}
				case !slices.ContainsFunc(r.Fix.Notes, func(n string) bool { return strings.Contains(n, note) }):
					t.Errorf("no fix note says %q: %q", note, r.Fix.Notes)
				}
				for _, n := range r.Fix.Notes {
					if strings.Contains(n, placeholder) {
						t.Errorf("a fix note about the placeholder: %q", n)
					}
				}
				d := strings.TrimSuffix(domain, ".")
				for _, want := range []string{d + " {\n", "    autodiscover {\n", "        target " + strings.TrimSuffix(r.Fix.Target, ".") + "\n",
					"    file db." + d + " " + d + "\n"} {
					if !strings.Contains(r.Fix.Corefile, want) {
						t.Errorf("fix Corefile lacks %q:\n%s", want, r.Fix.Corefile)
					}
				}
			}
		})
	}
}

// TestCheckText reads the report as an operator does, and the exit statuses of a shell script.
func TestCheckText(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	s := l.start(t, goodCorefile+fileBlock(broken...))
	via := fmt.Sprintf("via 127.0.0.1:%d", s.port)

	out, errs, exit := l.check(t, s, "user@companyb.example", "leftover.example")
	if exit != 1 {
		t.Errorf("exit status %d for a broken domain, want 1", exit)
	}
	for _, want := range []string{
		"user@companyb.example (companyb.example) " + via + ", external horizon\n",
		"  step 1  https://companyb.example/Autodiscover/Autodiscover.xml\n",
		"          companyb.example. A NOERROR [aa soa]\n",
		"          autodiscover.companyb.example. A NXDOMAIN [aa soa]\n",
		"  step 4  SRV _autodiscover._tcp.companyb.example. -> https://autodiscover.companya.example/Autodiscover/Autodiscover.xml\n",
		"          _autodiscover._tcp.companyb.example. SRV NOERROR [aa]: _autodiscover._tcp.companyb.example. 3600 IN SRV 0 0 443 autodiscover.companya.example.\n",
		"          tls " + l.host(mailOutside) + ":443: names autodiscover.companya.example, webmail.companya.example; issuer CN=Autodiscover Test CA; trusted true\n",
		"  prediction: REDIRECT-PROMPT redirect prompt at step 4: SRV target autodiscover.companya.example is outside companyb.example; the certificate is valid\n",
		"  pre-approve the redirect (.reg):\n    " + strings.ReplaceAll(redirectServers, "\n", "\n    ") + "\n",
		"    INFO    redirect-prompt (step 4): ",

		"leftover.example (leftover.example) " + via + ", external horizon\n",
		"          tls " + l.host(webHost) + ":443: names www.webhost.example; issuer CN=Autodiscover Test CA; trusted true\n",
		"  prediction: WARNING certificate warning at step 2 (https://autodiscover.leftover.example/Autodiscover/Autodiscover.xml): " +
			"name mismatch: the certificate names www.webhost.example, not autodiscover.leftover.example\n",
		"    ERROR   autodiscover-record (step 2): autodiscover.leftover.example has address records (" + l.host(webHost) + ")",
		"  fix:\n" +
			"    publish _autodiscover._tcp.leftover.example. 3600 IN SRV 0 0 443 autodiscover.companya.example.\n" +
			"    remove  autodiscover.leftover.example. 3600 IN A " + l.host(webHost) + "\n" +
			"    Corefile:\n" +
			"      leftover.example {\n" +
			"          autodiscover {\n" +
			"              target autodiscover.companya.example\n" +
			"          }\n" +
			"          file db.leftover.example leftover.example\n" +
			"      }\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks\n%s", want)
		}
	}
	// The fixed domain has nothing to fix; the report is for a file or a pipe, without colour.
	if n := strings.Count(out, "  fix:\n"); n != 1 {
		t.Errorf("%d fixes for one broken domain", n)
	}
	if strings.Contains(out, "\x1b[") || errs != "" {
		t.Errorf("colour in a report that is not on a terminal, or progress on stderr:\n%s", errs)
	}
	if t.Failed() {
		t.Logf("report:\n%s", out)
	}

	// From inside, inputs from a file.
	list := filepath.Join(t.TempDir(), "domains")
	if err := os.WriteFile(list, []byte("# hosted here\nuser@companyb.example\n\ncompanya.example # ours\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, exit = l.check(t, s, "-source", inside, "-internal", "-f", list)
	if exit != 0 {
		t.Errorf("exit status %d inside, want 0:\n%s", exit, out)
	}
	for _, want := range []string{
		"user@companyb.example (companyb.example) " + via + ", internal horizon, source " + inside + "\n",
		"companya.example (companya.example) " + via + ", internal horizon, source " + inside + "\n",
		"          tls " + l.host(mailInside) + ":443: names autodiscover.companya.example, webmail.companya.example",
		"  prediction: SUCCESS silent success at step 2 (https://autodiscover.companya.example/Autodiscover/Autodiscover.xml)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the internal report lacks\n%s\n%s", want, out)
		}
	}
	if strings.Contains(out, l.host(mailOutside)) || strings.Contains(out, "fix:") {
		t.Errorf("the internal report has the outside address or a fix:\n%s", out)
	}

	// An input that is no address or domain is a usage error.
	if out, errs, exit := l.check(t, s, "https://companyb.example/"); exit != 2 || out != "" ||
		!strings.Contains(errs, `"https://companyb.example/": not an e-mail address or domain`) {
		t.Errorf("exit status %d for a bad input, want 2 and a message on stderr:\n%s%s", exit, out, errs)
	}
}

// TestCheckFixWorks applies the Corefile the command prints for broken zones and checks them again:
// the warnings are gone, which proves the printed fix is one.
func TestCheckFixWorks(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	domains := []string{"wildcard.example", "leftover.example", "apex.example", "twosrv.example", "srvcname.example"}
	before := l.start(t, fileBlock("companya.example")+fileBlock(domains...))

	out, _, exit := l.check(t, before, domains...)
	if exit != 1 {
		t.Errorf("exit status %d before the fix, want 1", exit)
	}
	head := fmt.Sprintf("\nCorefile for all %d domains:\n", len(domains))
	i := strings.Index(out, head)
	if i < 0 {
		t.Fatalf("no Corefile for all domains in\n%s", out)
	}
	printed := strings.ReplaceAll(strings.TrimPrefix(out[i+len(head):], "  "), "\n  ", "\n")
	t.Logf("the printed Corefile:\n%s", printed)
	for _, d := range domains {
		if !strings.Contains(printed, "    file db."+d+" "+d+"\n") {
			t.Errorf("the printed Corefile does not serve %s", d)
		}
	}
	if n := strings.Count(printed, "    autodiscover {\n        target "+target+"\n"); n != 2 {
		t.Errorf("%d autodiscover blocks with target %s, want 2: with hide_apex (apex.example) and without", n, target)
	}

	// The printed server blocks, with the zone files where they are here, next to the target's zone.
	fixed := strings.ReplaceAll(printed, "    file db.", "    file test/testdata/check/db.")
	after := l.start(t, fileBlock("companya.example")+fixed)
	results, exit := l.checkJSON(t, after, domains...)
	if len(results) != len(domains) {
		t.Fatalf("%d results for %d domains", len(results), len(domains))
	}
	if exit != 0 {
		t.Errorf("exit status %d after the fix, want 0", exit)
	}
	for _, r := range results {
		p := r.Prediction
		if p.Outcome != "redirect-prompt" || p.Step != 4 || p.RedirectServer != target || p.Registry != redirectServers {
			t.Errorf("%s after the fix: %s", r.Input, p.Summary)
		}
		want := []string{"redirect-prompt:info"}
		if r.Input == "wildcard.example" {
			// The wildcard still answers other names, but no longer autodiscover.wildcard.example.
			want = []string{"redirect-prompt:info", "wildcard-record:info"}
		}
		if got := r.findingList(); !slices.Equal(got, want) {
			t.Errorf("%s after the fix: findings %v, want %v\n%+v", r.Input, got, want, r.Findings)
		}
		if r.Fix != nil {
			t.Errorf("%s after the fix: another fix %+v", r.Input, r.Fix)
		}
	}

	// A fixed domain gets no fix section at all in the report.
	out, _, exit = l.check(t, after, domains...)
	if exit != 0 || strings.Contains(out, "fix:") || strings.Contains(out, "Corefile") {
		t.Errorf("exit status %d after the fix, want 0 and no fix:\n%s", exit, out)
	}
}

// lab is one test's loopback block, with its HTTPS servers, CA and zone files.
type lab struct {
	prefix  string // "127.X.Y."
	dir     string // the zone files with the lab's addresses, and the CAs
	ca      string // PEM of the CA that signed the servers' certificates
	otherCA string // PEM of a CA that signed nothing
}

// labHost is an address of testdata/check that check_test.go moves into the lab's block.
var labHost = regexp.MustCompile(`\b127\.0\.0\.(1[0-9])\b`)

func newLab(t *testing.T) *lab {
	t.Helper()
	l := &lab{dir: t.TempDir()}
	ca, other := testpki.NewCA("Autodiscover Test CA"), testpki.NewCA("Other Test CA")
	l.ca, l.otherCA = writeCA(t, l.dir, ca), writeCA(t, l.dir, other)
	mail := ca.Issue(time.Now(), "autodiscover.companya.example", "webmail.companya.example")
	web := ca.Issue(time.Now(), "www.webhost.example")

	for attempt := 0; ; attempt++ {
		// 127.0.0.0/24 is left to the clients (127.0.0.1, 127.0.0.2) and the system.
		l.prefix = fmt.Sprintf("127.%d.%d.", 1+mathrand.IntN(254), mathrand.IntN(256))
		err := l.listen(t, map[string]tls.Certificate{mailOutside: mail, mailInside: mail, webHost: web})
		if err == nil {
			break
		}
		if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			t.Fatalf("%v: the autodiscover-check tests run HTTPS servers on port 443 of loopback addresses, "+
				"which needs root (or CAP_NET_BIND_SERVICE); run them as root", err)
		}
		if !errors.Is(err, syscall.EADDRINUSE) || attempt == 20 {
			t.Fatal(err)
		}
	}

	zones, err := filepath.Glob(filepath.Join(root, "test", "testdata", "check", "db.*"))
	if err != nil || len(zones) == 0 {
		t.Fatalf("no zone files in testdata/check: %v", err)
	}
	for _, path := range zones {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := l.local(string(data))
		onlyLoopback(t, path, text)
		if err := os.WriteFile(filepath.Join(l.dir, filepath.Base(path)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// listen starts the HTTPS servers on port 443 and the plain HTTP redirect on port 80, all or none.
func (l *lab) listen(t *testing.T, certs map[string]tls.Certificate) error {
	var opened []net.Listener
	bind := func(addr string) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			opened = append(opened, ln)
		}
		return ln, err
	}
	for host, cert := range certs {
		ln, err := bind(net.JoinHostPort(l.host(host), "443"))
		if err != nil {
			closeAll(opened)
			return err
		}
		go testpki.Serve(ln, cert)
	}
	ln, err := bind(net.JoinHostPort(l.host(httpOnly), "80"))
	if err != nil {
		closeAll(opened)
		return err
	}
	redirect := &http.Server{
		Handler:     http.RedirectHandler("https://"+target+"/Autodiscover/Autodiscover.xml", http.StatusFound),
		ReadTimeout: 5 * time.Second,
	}
	go redirect.Serve(ln)
	t.Cleanup(func() {
		redirect.Close()
		closeAll(opened)
	})
	return nil
}

func closeAll(ls []net.Listener) {
	for _, ln := range ls {
		ln.Close()
	}
}

// host is the lab's address for an address of testdata/check.
func (l *lab) host(addr string) string { return l.local(addr) }

func (l *lab) hosts(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		out = append(out, l.local(a))
	}
	return out
}

// local moves the addresses of testdata/check into the lab's block and its zone files into the lab.
func (l *lab) local(s string) string {
	s = labHost.ReplaceAllString(s, l.prefix+"$1")
	return strings.ReplaceAll(s, "test/testdata/check/", l.dir+string(filepath.Separator))
}

// onlyLoopback fails the test before the command can connect anywhere else.
func onlyLoopback(t *testing.T, path, zone string) {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(zone), "", path)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		var ip net.IP
		switch v := rr.(type) {
		case *dns.A:
			ip = v.A
		case *dns.AAAA:
			ip = v.AAAA
		default:
			continue
		}
		if !ip.IsLoopback() {
			t.Fatalf("%s: %s: autodiscover-check would connect off this machine", path, rr)
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
}

func (l *lab) start(t *testing.T, corefile string) *server {
	t.Helper()
	return startConfig(t, l.local(corefile))
}

// checkBinary builds autodiscover-check once, next to the server the harness built.
var checkBinary = sync.OnceValues(func() (string, error) {
	path := filepath.Join(filepath.Dir(binary), "autodiscover-check")
	build := exec.Command("go", "build", "-o", path, "./cmd/autodiscover-check")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building autodiscover-check: %v\n%s", err, out)
	}
	return path, nil
})

// check runs autodiscover-check against s, trusting the lab's CA, and returns what it wrote and its
// exit status.
func (l *lab) check(t *testing.T, s *server, args ...string) (stdout, stderr string, exit int) {
	t.Helper()
	bin, err := checkBinary()
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"-server", fmt.Sprintf("127.0.0.1:%d", s.port), "-ca", l.ca, "-timeout", "3s"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errs.String(), 0
	case errors.As(err, &exitErr) && exitErr.ExitCode() > 0:
		return out.String(), errs.String(), exitErr.ExitCode()
	}
	t.Fatalf("autodiscover-check %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errs.String())
	return "", "", 0
}

// checkJSON runs autodiscover-check -json and reads the results, failing on any address off loopback.
func (l *lab) checkJSON(t *testing.T, s *server, args ...string) ([]checkResult, int) {
	t.Helper()
	out, errs, exit := l.check(t, s, append([]string{"-json"}, args...)...)
	if errs != "" {
		t.Errorf("autodiscover-check wrote to stderr:\n%s", errs)
	}
	var results []checkResult
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("-json output: %v\n%s", err, out)
	}
	for _, r := range results {
		for _, st := range r.Steps {
			addrs := slices.Clone(st.Addresses)
			if st.TLS != nil && st.TLS.Address != "" {
				addrs = append(addrs, st.TLS.Address)
			}
			if st.HTTP != nil && st.HTTP.Address != "" {
				addrs = append(addrs, st.HTTP.Address)
			}
			for _, a := range addrs {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					ap, err := netip.ParseAddrPort(a)
					if err != nil {
						t.Fatalf("%s step %d: address %q", r.Input, st.Step, a)
					}
					ip = ap.Addr()
				}
				if !ip.IsLoopback() {
					t.Fatalf("%s step %d: the command connected off this machine, to %s", r.Input, st.Step, a)
				}
			}
		}
	}
	if t.Failed() {
		t.Logf("autodiscover-check output:\n%s", out)
	}
	return results, exit
}

// writeCA saves a CA's certificate as PEM for -ca.
func writeCA(t *testing.T, dir string, ca testpki.CA) string {
	t.Helper()
	path := filepath.Join(dir, strings.ReplaceAll(ca.Cert.Subject.CommonName, " ", "-")+".pem")
	if err := os.WriteFile(path, ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
