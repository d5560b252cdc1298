package autodiscover

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/coredns/caddy"
)

func TestParse(t *testing.T) {
	a := newAutodiscover(t, `autodiscover companyb.example CompanyC.Example. {
		target AutoDiscover.companya.example. 8443
		priority 1
		weight 2
		ttl 60
		ns ns1.companya.example
		hide_apex
	}`, nil)
	if len(a.inline) != 2 || a.target != "autodiscover.companya.example." || a.port != 8443 ||
		a.priority != 1 || a.weight != 2 || a.ttl != 60 || !a.hideApex || a.apexes != nil || a.ns[0] != "ns1.companya.example." {
		t.Errorf("parsed %+v", a)
	}
	if _, ok := a.inline["companyc.example."]; !ok {
		t.Errorf("domains %v, want companyc.example. canonical", a.inline)
	}

	// Defaults: the server block's zones, port 443, 0 0, TTL 3600, NS the target.
	a = newAutodiscover(t, "autodiscover {\n target mail.companya.example\n}", nil)
	if len(a.inline) != 4 || a.port != 443 || a.priority != 0 || a.weight != 0 || a.ttl != 3600 || a.hideApex || a.ns[0] != a.target {
		t.Errorf("defaults %+v", a)
	}

	a = newAutodiscover(t, corefile, nil)
	if a.horizonOfAddr(netip.MustParseAddr("10.9.8.7")) != internal || len(a.hosts) != 3 {
		t.Errorf("hosts %v, networks %v", a.hosts, a.networks)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		config string
		line   int    // the Corefile line the error names
		want   string // part of the error
	}{
		{"autodiscover {\n target a.companya.example\n colour blue\n}", 3, `unknown property "colour"`},
		{"autodiscover {\n target\n}", 2, "Wrong argument count"},
		{"autodiscover {\n target a.companya.example 443 444\n}", 2, "Wrong argument count"},
		{"autodiscover {\n target a.companya.example 0\n}", 2, "port"},
		{"autodiscover {\n target a.companya.example 65536\n}", 2, "port"},
		{"autodiscover {\n target 192.0.2.1\n}", 2, "is an address"},
		{"autodiscover {\n target _srv.companya.example\n}", 2, "not a host name"},
		{"autodiscover {\n target -x.companya.example\n}", 2, "not a host name"},
		{"autodiscover {\n target a..companya.example\n}", 2, "not a host name"},
		{"autodiscover {\n target a.companya.example\n priority 65536\n}", 3, "priority"},
		{"autodiscover {\n target a.companya.example\n weight\n}", 3, "Wrong argument count"},
		{"autodiscover {\n target a.companya.example\n ttl 2147483648\n}", 3, "ttl"},
		{"autodiscover {\n target a.companya.example\n ttl -1\n}", 3, "ttl"},
		{"autodiscover {\n target a.companya.example\n external 203.0.113.300\n}", 3, `"203.0.113.300" is not an IPv4 or IPv6 address`},
		{"autodiscover {\n target a.companya.example\n external fe80::1%eth0\n}", 3, "not an IPv4 or IPv6 address"},
		{"autodiscover {\n target a.companya.example\n internal\n}", 3, "Wrong argument count"},
		{"autodiscover {\n target a.companya.example\n internal 10.0.0.1\n internal_networks 10.0.0.0/33\n}", 4, `"10.0.0.0/33"`},
		{"autodiscover {\n target a.companya.example\n internal 10.0.0.1\n internal_networks lan\n}", 4, `"lan"`},
		{"autodiscover {\n target a.companya.example\n hosts 10.0.0.1\n}", 3, "is an address"},
		{"autodiscover {\n target a.companya.example\n hide_apex companyx.example\n}", 3, "not a mail domain listed in the Corefile"},
		{"autodiscover companyx.example {\n target a.companya.example\n}", 1, "outside this server block's zones"},
		{"autodiscover companyb.example CompanyB.example. {\n target a.companya.example\n}", 1, "listed twice"},
		{"autodiscover . {\n target a.companya.example\n}", 1, "below the root"},
		{"autodiscover {\n priority 1\n}", 1, "missing 'target'"},
		{"autodiscover {\n target a.companya.example\n internal 10.0.0.1\n}", 3, "without 'internal_networks'"},
		{"autodiscover {\n target a.companya.example\n internal_networks 10.0.0.0/8\n}", 3, "without 'internal' addresses"},
		{"autodiscover {\n target a.companya.example\n hosts b.companya.example\n}", 3, "without 'external' or 'internal'"},
		{"autodiscover {\n target autodiscover.companyb.example\n}", 2, "would be hidden"},
		{"autodiscover companyb.example {\n target a.companya.example\n external 203.0.113.10\n}", 2, "outside the listed mail domains"},
		{"autodiscover {\n target companya.example\n external 203.0.113.10\n}", 2, "apex"},
		{"autodiscover {\n target a.companya.example\n external 203.0.113.10\n hosts _tcp.companyb.example\n}", 4, "not a host name"},
		{"autodiscover {\n target a.companya.example\n}\nautodiscover {\n target a.companya.example\n}", 0, "once per Server Block"},
	} {
		c := caddy.NewTestController("dns", tc.config)
		c.ServerBlockKeys = []string{"companya.example.", "companyb.example.", "companyc.example.", "companyd.example."}
		_, err := parse(c)
		if err == nil {
			t.Errorf("%q: no error, want %q", tc.config, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %q, want it to contain %q", tc.config, err, tc.want)
		}
		if tc.line > 0 && !strings.Contains(err.Error(), fmt.Sprintf("Testfile:%d ", tc.line)) {
			t.Errorf("%q: error %q does not name line %d", tc.config, err, tc.line)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(corefile)
	f.Add("autodiscover companyb.example {\n target a.companya.example 443\n ttl 5\n hide_apex\n}")
	f.Add("autodiscover {\n target a.companya.example\n internal ::1\n internal_networks ::1 fd00::/8\n}")
	f.Add("autodiscover {\n}")
	f.Fuzz(func(t *testing.T, config string) {
		c := caddy.NewTestController("dns", config)
		c.ServerBlockKeys = []string{"companya.example.", "companyb.example."}
		a, err := parse(c)
		if err != nil {
			return
		}
		if a.target == "" || len(a.inline) == 0 || len(a.ns) == 0 {
			t.Errorf("%q parsed into an incomplete configuration: %+v", config, a)
		}
	})
}
