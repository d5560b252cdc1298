package diagnose

import (
	"slices"
	"strings"
	"testing"
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
	}{
		{"nothing to fix", "fixed", nil, "", nil, false},
		{"target from the certificate behind the CNAME", "autodiscover-cname", nil, "autodiscover.companya.example.",
			[]string{"autodiscover.companyb.example. 3600 IN CNAME autodiscover.companya.example."}, false},
		{"leftover A", "autodiscover-a", nil, "autodiscover.companya.example.",
			[]string{"autodiscover.companyb.example. 3600 IN A 127.0.0.10"}, false},
		{"wildcard", "wildcard", nil, "autodiscover.companya.example.",
			[]string{"*.companyb.example. 3600 IN A 127.0.0.30"}, false},
		{"bare domain", "apex-web", nil, "autodiscover.companya.example.", nil, true},
		{"extra SRV record", "two-srv", nil, "autodiscover.companya.example.",
			[]string{"_autodiscover._tcp.companyb.example. 3600 IN SRV 10 0 443 webmail.companya.example."}, false},
		{"SRV port", "port-8443", nil, "autodiscover.companya.example.",
			[]string{"_autodiscover._tcp.companyb.example. 3600 IN SRV 0 0 8443 autodiscover.companya.example."}, false},
		{"no certificate seen", "nothing", nil, TargetPlaceholder, nil, false},
		{"-target", "nothing", withTarget, "mail.companya.example.", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := checkScenario(t, tc.scenario, "user@companyb.example", tc.tweak)
			fix := res.Fix
			if tc.target == "" {
				if fix != nil {
					t.Fatalf("unexpected fix %+v", fix)
				}
				return
			}
			if fix == nil {
				t.Fatalf("no fix\n%s", describe(res))
			}
			if fix.Target != tc.target {
				t.Errorf("target %q, want %q", fix.Target, tc.target)
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
		})
	}
}

func TestFixNotes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scenario string
		note     string
	}{
		{"ent-nxdomain", "_tcp.companyb.example. must answer NOERROR"},
		{"no-soa", "RFC 2308"},
		{"target-internal-only", "in every horizon"},
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
