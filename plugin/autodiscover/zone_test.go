package autodiscover

import "testing"

func TestClassify(t *testing.T) {
	a := newAutodiscover(t, corefile, nil)
	for _, tc := range []struct {
		name   string
		domain string
		class  class
	}{
		{"example.org.", "", none},
		{"companyb.example.", "companyb.example.", apex},
		{"www.companyb.example.", "companyb.example.", other},
		{"_autodiscover._tcp.companyb.example.", "companyb.example.", srvName},
		{"x._autodiscover._tcp.companyb.example.", "companyb.example.", srvBelow},
		{"_tcp.companyb.example.", "companyb.example.", tcpName},
		{"_imaps._tcp.companyb.example.", "companyb.example.", other},
		{"autodiscover.companyb.example.", "companyb.example.", suppressed},
		{"a.autodiscover.companyb.example.", "companyb.example.", suppressed},
		{"notautodiscover.companyb.example.", "companyb.example.", other},
		{"autodiscover.companya.example.", "companya.example.", host},
		{"webmail.companya.example.", "companya.example.", host},
		{"owa.mail.companya.example.", "companya.example.", host},
		{"mail.companya.example.", "companya.example.", hostENT},
		{"companyb.example.org.", "", none},
	} {
		d, c := a.classify(tc.name)
		if d != tc.domain || c != tc.class {
			t.Errorf("classify(%q) = %q, %d; want %q, %d", tc.name, d, c, tc.domain, tc.class)
		}
	}
}

func TestZoneOf(t *testing.T) {
	a := &Autodiscover{zones: []string{"example.", "companyb.example.", "."}}
	for name, want := range map[string]string{
		"www.CompanyB.example.": "companyb.example.",
		"companyb.example.":     "companyb.example.",
		"xcompanyb.example.":    "example.",
		"example.org.":          ".",
	} {
		if got := a.zoneOf(name); got != want {
			t.Errorf("zoneOf(%q) = %q, want %q", name, got, want)
		}
	}
}
