package diagnose

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestPrediction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scenario string
		input    string
		tweak    func(*Config)
		outcome  string
		step     int
		problems []string
		redirect string // host to pre-approve
	}{
		{"fixed", "user@companyb.example", nil, OutcomeRedirect, 4, nil, "autodiscover.companya.example"},
		{"companya", "user@companya.example", nil, OutcomeSuccess, 2, nil, ""},
		{"apex-covered", "companyb.example", nil, OutcomeSuccess, 1, nil, ""},
		{"apex-web", "user@companyb.example", nil, OutcomeWarning, 1, []string{ProblemNameMismatch}, ""},
		{"autodiscover-a", "user@companyb.example", nil, OutcomeWarning, 2, []string{ProblemNameMismatch}, ""},
		{"autodiscover-cname", "User@CompanyB.example", nil, OutcomeWarning, 2, []string{ProblemNameMismatch}, ""},
		{"wildcard", "user@companyb.example", nil, OutcomeWarning, 2, []string{ProblemNameMismatch}, ""},
		{"untrusted", "user@companyb.example", nil, OutcomeWarning, 4, []string{ProblemUnknownAuthority}, ""},
		{"expired", "user@companyb.example", nil, OutcomeWarning, 4, []string{ProblemExpired}, ""},
		{"target-cname", "user@companyb.example", nil, OutcomeWarning, 4, []string{ProblemNameMismatch}, ""},
		{"port-8443", "user@companyb.example", nil, OutcomeRedirect, 4, nil, "autodiscover.companya.example"},
		{"two-srv", "user@companyb.example", nil, OutcomeRedirect, 4, nil, "autodiscover.companya.example"},
		{"refused", "user@companyb.example", nil, OutcomeRedirect, 4, nil, "autodiscover.companya.example"},
		{"http-redirect", "user@companyb.example", nil, OutcomeRedirect, 3, nil, "autodiscover.companya.example"},
		{"nothing", "user@companyb.example", nil, OutcomeFailure, 0, nil, ""},
		{"target-dot", "user@companyb.example", nil, OutcomeFailure, 0, nil, ""},
		{"target-internal-only", "user@companyb.example", nil, OutcomeFailure, 0, nil, ""},
		{"target-internal-only", "user@companyb.example", fromInside, OutcomeRedirect, 4, nil, "autodiscover.companya.example"},
		{"target-internal-only-tcp", "user@companyb.example", nil, OutcomeFailure, 0, nil, ""},
		{"target-internal-only-tcp", "user@companyb.example", fromInside, OutcomeRedirect, 4, nil, "autodiscover.companya.example"},
		{"split-horizon", "user@companyb.example", fromInside, OutcomeRedirect, 4, nil, "autodiscover.companya.example"},
		{"fixed", "user@companyb.example", dnsOnly, OutcomeUnverified, 4, nil, ""},
		{"autodiscover-a", "user@companyb.example", dnsOnly, OutcomeUnverified, 2, nil, ""},
		{"nothing", "user@companyb.example", dnsOnly, OutcomeFailure, 0, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.scenario+"/"+tc.outcome, func(t *testing.T) {
			t.Parallel()
			res := checkScenario(t, tc.scenario, tc.input, tc.tweak)
			p := res.Prediction
			if p.Outcome != tc.outcome || p.Step != tc.step || !slices.Equal(p.Problems, tc.problems) {
				t.Fatalf("got %s at step %d %v, want %s at step %d %v\n%s", p.Outcome, p.Step, p.Problems,
					tc.outcome, tc.step, tc.problems, describe(res))
			}
			if p.RedirectServer != tc.redirect {
				t.Errorf("redirect server %q, want %q", p.RedirectServer, tc.redirect)
			}
			if tc.redirect != "" {
				want := `"` + tc.redirect + `"=hex:`
				if !strings.Contains(p.Registry, RedirectServersKey) || !strings.Contains(p.Registry, want) {
					t.Errorf("registry value %q does not pre-approve %s", p.Registry, tc.redirect)
				}
			}
			if tc.outcome == OutcomeUnverified && !strings.Contains(p.Summary, "certificate not checked") {
				t.Errorf("summary %q does not say the certificate was not checked", p.Summary)
			}
		})
	}
}

// The step details an operator reads: what each step found, and that failed connections are skipped.
func TestSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scenario string
		tweak    func(*Config)
		statuses [4]string
	}{
		{"fixed", nil, [4]string{StatusNotResolved, StatusNotResolved, StatusNotResolved, StatusCertificateValid}},
		{"refused", nil, [4]string{StatusNotResolved, StatusConnectionFailed, StatusConnectionFailed, StatusCertificateValid}},
		{"http-redirect", nil, [4]string{StatusNotResolved, StatusConnectionFailed, StatusRedirect, StatusNotResolved}},
		{"apex-web", nil, [4]string{StatusCertificateBad, StatusNotResolved, StatusNotResolved, StatusCertificateValid}},
		{"autodiscover-a", dnsOnly, [4]string{StatusNotResolved, StatusNotChecked, StatusNotChecked, StatusNotChecked}},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			res := checkScenario(t, tc.scenario, "companyb.example", tc.tweak)
			var got [4]string
			for i, s := range res.Steps {
				got[i] = s.Status
			}
			if got != tc.statuses {
				t.Fatalf("statuses %v, want %v\n%s", got, tc.statuses, describe(res))
			}
			for _, s := range res.Steps {
				if s.Status == StatusConnectionFailed && s.Note != "connection failed, Outlook moves on" {
					t.Errorf("step %d note %q", s.Number, s.Note)
				}
				if s.Status == StatusNotChecked && !strings.HasPrefix(s.Note, "would be tried") {
					t.Errorf("step %d note %q", s.Number, s.Note)
				}
				if tc.tweak != nil && (s.TLS != nil || s.HTTP != nil) {
					t.Errorf("step %d connected with -dns-only", s.Number)
				}
			}
		})
	}
}

func TestPickSRV(t *testing.T) {
	rrs := zone(t,
		"_autodiscover._tcp.companyb.example. SRV 10 50 443 c.example.",
		"_autodiscover._tcp.companyb.example. SRV 0 10 443 b.example.",
		"_autodiscover._tcp.companyb.example. SRV 0 20 443 a.example.",
	)
	var srvs []*dns.SRV
	for _, rr := range rrs {
		srvs = append(srvs, rr.(*dns.SRV))
	}
	if got := pickSRV(srvs).Target; got != "a.example." {
		t.Errorf("picked %s, want a.example. (lowest priority, then highest weight)", got)
	}
	if pickSRV(nil) != nil {
		t.Error("picked a record from none")
	}
}
