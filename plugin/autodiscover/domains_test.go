package autodiscover

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// withFile returns the test plugin reading its domains from a file holding data.
func withFile(t *testing.T, data string) *Autodiscover {
	t.Helper()
	a := newAutodiscover(t, corefile, zones)
	a.file = filepath.Join(t.TempDir(), "domains")
	if err := os.WriteFile(a.file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestReadDomains(t *testing.T) {
	for _, tc := range []struct {
		data string
		want []string // listed besides the Corefile's, or the error's text
		err  bool
	}{
		{data: "companyd.example\n# a comment\n\n  Sub.CompanyD.Example.  # trailing comment\n", want: []string{"companyd.example.", "sub.companyd.example."}},
		{data: "", want: nil},
		{data: "companyd.example\ncompanyd.example.\n", want: []string{`domains:2: mail domain "companyd.example." is listed twice`}, err: true},
		{data: "companyb.example\n", want: []string{`domains:1: mail domain "companyb.example" is listed twice`}, err: true},
		{data: "companyd.example\nexample.org\n", want: []string{`domains:2: mail domain "example.org" is outside this server block's zones`}, err: true},
		{data: "companyd.example x.companyd.example\n", want: []string{"domains:1:", "one domain per line"}, err: true},
		{data: "companyd.example\nx..companyd.example\n", want: []string{"domains:2:", "not a domain name"}, err: true},
		{data: "companyd.example\ncompanyd.exa", want: []string{"does not end in a newline"}, err: true},
	} {
		a := withFile(t, tc.data)
		l, err := a.readDomains(a.listed.Load())
		if tc.err {
			if err == nil {
				t.Errorf("%q: no error", tc.data)
				continue
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q: error %q, want it to contain %q", tc.data, err, w)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.data, err)
			continue
		}
		if l.len() != len(a.inline)+len(tc.want) {
			t.Errorf("%q: %d domains, want %d", tc.data, l.len(), len(a.inline)+len(tc.want))
		}
		for _, d := range tc.want {
			if _, ok := l.find(d); !ok {
				t.Errorf("%q: %s not listed", tc.data, d)
			}
		}
	}
}

// TestRefresh: a good file replaces the domains whole, a bad or missing one leaves them.
func TestRefresh(t *testing.T) {
	a := withFile(t, "companyd.example\n")
	a.refresh()
	if a.domainOf("_autodiscover._tcp.companyd.example.") != "companyd.example." {
		t.Fatal("companyd.example not listed after the first load")
	}
	first := a.listed.Load()

	failures := testutil.ToFloat64(domainsFailures.WithLabelValues(a.file))
	write := func(data string) {
		// A new inode and modification time, as a rename into place gives.
		tmp := a.file + ".new"
		if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(tmp, time.Now(), time.Now().Add(time.Duration(len(data))*time.Second))
		if err := os.Rename(tmp, a.file); err != nil {
			t.Fatal(err)
		}
	}

	write("companyd.example\nbad..name\n")
	a.refresh()
	if a.listed.Load() != first {
		t.Error("a file with a bad line replaced the domains")
	}
	os.Remove(a.file)
	a.refresh()
	if a.listed.Load() != first {
		t.Error("a missing file replaced the domains")
	}
	if got := testutil.ToFloat64(domainsFailures.WithLabelValues(a.file)); got != failures+2 {
		t.Errorf("failures counted %v, want %v", got, failures+2)
	}

	write("sub.companyd.example\n")
	a.refresh()
	if a.domainOf("autodiscover.companyd.example.") != "" || a.domainOf("x.sub.companyd.example.") != "sub.companyd.example." {
		t.Errorf("the new file was not loaded whole: %q", a.listed.Load().names)
	}
	if got := changed(first, a.listed.Load()); len(got) != 2 {
		t.Errorf("changed %v, want the removed and the added domain", got)
	}
}
