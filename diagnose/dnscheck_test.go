package diagnose

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestFindings(t *testing.T) {
	t.Parallel()
	notAuthoritative := func(c *Config) { c.Authoritative = false }
	tests := []struct {
		name     string
		scenario string
		tweak    func(*Config)
		want     map[string]Severity // findings that must be present, with their severity
		absent   []string            // findings that must not be
	}{
		{"fixed", "fixed", nil, map[string]Severity{IDRedirectPrompt: SeverityInfo},
			[]string{IDSRVMissing, IDAutodiscoverRecord, IDWildcard, IDApexResolves, IDNegativeNoSOA, IDNotAuthoritative, IDEmptyNonTerminal}},
		{"wildcard left in", "wildcard", nil, map[string]Severity{IDWildcard: SeverityError},
			[]string{IDAutodiscoverRecord, IDAutodiscoverCNAME}},
		{"wildcard left in, dns-only", "wildcard", dnsOnly, map[string]Severity{IDWildcard: SeverityError},
			[]string{IDAutodiscoverRecord, IDAutodiscoverCNAME}},
		{"wildcard to a closed port", "wildcard-refused", nil, map[string]Severity{IDWildcard: SeverityWarning},
			[]string{IDAutodiscoverRecord, IDAutodiscoverCNAME}},
		// The server answers NXDOMAIN for autodiscover.companyb.example whatever the wildcard: Outlook moves on.
		{"wildcard the server hides", "wildcard-hidden", nil,
			map[string]Severity{IDWildcard: SeverityInfo, IDRedirectPrompt: SeverityInfo},
			[]string{IDAutodiscoverRecord, IDAutodiscoverCNAME, IDSRVMissing}},
		{"autodiscover A left in", "autodiscover-a", nil, map[string]Severity{IDAutodiscoverRecord: SeverityError},
			[]string{IDWildcard, IDAutodiscoverCNAME}},
		{"autodiscover CNAME left in", "autodiscover-cname", nil, map[string]Severity{IDAutodiscoverCNAME: SeverityError},
			[]string{IDWildcard, IDAutodiscoverRecord}},
		{"bare domain web site", "apex-web", nil, map[string]Severity{IDApexResolves: SeverityError}, nil},
		{"bare domain on the certificate", "apex-covered", nil, map[string]Severity{IDApexResolves: SeverityInfo}, nil},
		{"two SRV records", "two-srv", nil, map[string]Severity{IDSRVMultiple: SeverityWarning}, []string{IDSRVPort}},
		{"port 8443", "port-8443", nil, map[string]Severity{IDSRVPort: SeverityWarning}, []string{IDSRVMultiple}},
		{"SRV target is a CNAME", "target-cname", nil,
			map[string]Severity{IDSRVTargetCNAME: SeverityWarning, IDSRVTargetNotOnCert: SeverityError}, nil},
		{"SRV target without address outside", "target-internal-only", nil,
			map[string]Severity{IDSRVTargetNoAddress: SeverityError}, nil},
		{"SRV target with address inside", "target-internal-only", fromInside,
			map[string]Severity{IDRedirectPrompt: SeverityInfo}, []string{IDSRVTargetNoAddress}},
		{"SRV target .", "target-dot", nil, map[string]Severity{IDSRVTargetNone: SeverityError}, []string{IDSRVMissing}},
		{"no SRV record", "nothing", nil, map[string]Severity{IDSRVMissing: SeverityError}, nil},
		{"no SRV record needed", "apex-covered", nil, nil, []string{IDSRVMissing}},
		{"untrusted certificate", "untrusted", nil, map[string]Severity{IDCertificateUntrusted: SeverityError}, []string{IDSRVTargetNotOnCert}},
		{"expired certificate", "expired", nil, map[string]Severity{IDCertificateExpired: SeverityError}, nil},
		{"_tcp NXDOMAIN", "ent-nxdomain", nil, map[string]Severity{IDEmptyNonTerminal: SeverityError}, nil},
		{"negative answers without SOA", "no-soa", nil, map[string]Severity{IDNegativeNoSOA: SeverityWarning}, nil},
		{"no AA from the named server", "no-aa", nil, map[string]Severity{IDNotAuthoritative: SeverityWarning}, nil},
		{"no AA from the system resolver", "no-aa", notAuthoritative, nil, []string{IDNotAuthoritative}},
		{"refused at step 2", "refused", nil,
			map[string]Severity{IDConnectionFailed: SeverityInfo, IDAutodiscoverRecord: SeverityWarning}, nil},
		{"HTTP redirect at step 3", "http-redirect", nil, map[string]Severity{IDHTTPRedirect: SeverityWarning}, nil},
		{"dns-only autodiscover A", "autodiscover-a", dnsOnly, map[string]Severity{IDAutodiscoverRecord: SeverityError}, nil},
		{"zone not served", "not-served", nil, map[string]Severity{IDNoAnswer: SeverityError},
			[]string{IDSRVMissing, IDNegativeNoSOA, IDNotAuthoritative}},
		{"dns-only bare domain", "apex-web", dnsOnly, map[string]Severity{IDApexResolves: SeverityWarning}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := checkScenario(t, tc.scenario, "user@companyb.example", tc.tweak)
			got := map[string]Severity{}
			for _, f := range res.Findings {
				if f.Reason == "" || f.Message == "" {
					t.Errorf("finding %s without message or reason", f.ID)
				}
				// One id may appear for several steps; keep the most severe.
				if rank(f.Severity) > rank(got[f.ID]) {
					got[f.ID] = f.Severity
				}
			}
			for id, sev := range tc.want {
				if got[id] != sev {
					t.Errorf("finding %s: severity %q, want %q\n%s", id, got[id], sev, describe(res))
				}
			}
			for _, id := range tc.absent {
				if _, ok := got[id]; ok {
					t.Errorf("unexpected finding %s\n%s", id, describe(res))
				}
			}
		})
	}
}

func rank(s Severity) int {
	switch s {
	case SeverityError:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// A nameserver that does not answer is an error, not a clean bill of health; with nothing known there is
// no fix to print either.
func TestFindingsServerDown(t *testing.T) {
	cfg := testConfig(fx.closed) // nothing listens there over UDP either: the query is refused at once
	res, err := Check(context.Background(), cfg, "companyb.example")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() || len(res.Findings) != 1 || res.Findings[0].ID != IDNoAnswer {
		t.Fatalf("want %s alone and a failed result\n%s", IDNoAnswer, describe(res))
	}
	if want := "gave no usable answer for any name in companyb.example: companyb.example A (no response)"; !strings.Contains(res.Findings[0].Message, want) {
		t.Errorf("message %q lacks %q", res.Findings[0].Message, want)
	}
	if res.Fix != nil {
		t.Errorf("a fix from no data: %+v", res.Fix)
	}
}

// A nameserver that answers REFUSED does not serve the domain: that is the one finding, and there is no fix.
func TestFindingsNotServed(t *testing.T) {
	t.Parallel()
	res := checkScenario(t, "not-served", "user@companyb.example", nil)
	if !res.Failed() || len(res.Findings) != 1 || res.Findings[0].ID != IDNoAnswer || res.Findings[0].Severity != SeverityError {
		t.Fatalf("want %s alone, an error\n%s", IDNoAnswer, describe(res))
	}
	want := fmt.Sprintf("the nameserver %s does not serve companyb.example: it answers REFUSED", res.Server)
	if res.Findings[0].Message != want {
		t.Errorf("message %q, want %q", res.Findings[0].Message, want)
	}
	if res.Fix != nil {
		t.Errorf("a fix for a domain the server does not serve: %+v", res.Fix)
	}
	var b strings.Builder
	WriteText(&b, []Result{res}, false)
	if out := b.String(); strings.Contains(out, "fix:") || strings.Contains(out, "Corefile") || !strings.Contains(out, want) {
		t.Errorf("report:\n%s", out)
	}
}

// Host names in what a person reads have no root dot; records (publish, remove) keep theirs.
func TestHostNamesWithoutRootDot(t *testing.T) {
	t.Parallel()
	dotted := regexp.MustCompile(`[a-z0-9]\.example\.([^a-z0-9_*-]|$)`)
	for name := range scenarios {
		for _, tweak := range []func(*Config){nil, dnsOnly} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				res := checkScenario(t, name, "user@companyb.example", tweak)
				texts := []string{res.Prediction.Summary}
				for _, s := range res.Steps {
					texts = append(texts, s.Note)
				}
				for _, f := range res.Findings {
					texts = append(texts, f.Message, f.Reason)
				}
				if res.Fix != nil {
					texts = append(texts, res.Fix.Notes...)
				}
				for _, text := range texts {
					if dotted.MatchString(text) {
						t.Errorf("a host name with the root dot in %q", text)
					}
				}
			})
		}
	}
}

// Every finding id is documented in the command's manual, so scripts can rely on it.
func TestFindingIDsDocumented(t *testing.T) {
	readme := readFile(t, "../cmd/autodiscover-check/README.md")
	for _, id := range []string{IDApexResolves, IDAutodiscoverRecord, IDAutodiscoverCNAME, IDWildcard, IDConnectionFailed,
		IDHTTPRedirect, IDSRVMissing, IDSRVTargetNone, IDSRVMultiple, IDSRVPort, IDSRVTargetCNAME, IDSRVTargetNoAddress,
		IDSRVTargetNotOnCert, IDCertificateUntrusted, IDCertificateExpired, IDCertificateInvalid, IDRedirectPrompt,
		IDEmptyNonTerminal, IDNegativeNoSOA, IDNotAuthoritative, IDNoAnswer} {
		if !strings.Contains(readme, fmt.Sprintf("`%s`", id)) {
			t.Errorf("finding id %s is not in cmd/autodiscover-check/README.md", id)
		}
	}
}
