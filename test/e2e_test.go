package test

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// query is one dig question and what every client must get back.
type query struct {
	q        string   // "name TYPE", spelled as the client sends it
	status   string   // the rcode
	answer   []string // the answer section, for external clients
	internal []string // the answer section for internal clients, where it differs
	negative bool     // NXDOMAIN or NODATA: exactly the zone's SOA in the authority section
}

const (
	srvB = "_autodiscover._tcp.CompanyB.Example. 3600 IN SRV 0 0 443 autodiscover.companya.example."
	srvC = "_AUTODISCOVER._tcp.companyc.example. 3600 IN SRV 0 0 443 autodiscover.companya.example."
	srvA = "_autodiscover._tcp.companya.example. 3600 IN SRV 0 0 443 autodiscover.companya.example."
)

// scenario is what the example Corefiles must answer; read it as the zone the clients see.
var scenario = []query{
	// The SRV record, in the client's spelling.
	{q: "_autodiscover._tcp.CompanyB.Example SRV", status: "NOERROR", answer: []string{srvB}},
	{q: "_AUTODISCOVER._tcp.companyc.example SRV", status: "NOERROR", answer: []string{srvC}},
	{q: "_autodiscover._tcp.companya.example SRV", status: "NOERROR", answer: []string{srvA}},
	{q: "_autodiscover._tcp.companyb.example A", status: "NOERROR", negative: true},
	// The empty non-terminal above it, even under companyc's wildcard.
	{q: "_tcp.companyb.example SRV", status: "NOERROR", negative: true},
	{q: "_tcp.CompanyC.example A", status: "NOERROR", negative: true},
	// Outlook's second probe finds nothing: the leftover record, the wildcard, an alias.
	{q: "autodiscover.CompanyB.example A", status: "NXDOMAIN", negative: true},
	{q: "autodiscover.companyb.example AAAA", status: "NXDOMAIN", negative: true},
	{q: "autodiscover.companyb.example CNAME", status: "NXDOMAIN", negative: true},
	{q: "autodiscover.companyb.example HTTPS", status: "NXDOMAIN", negative: true},
	{q: "autodiscover.companyc.example A", status: "NXDOMAIN", negative: true},
	{q: "x.autodiscover.companyc.example A", status: "NXDOMAIN", negative: true},
	{q: "mail.companyb.example A", status: "NXDOMAIN", negative: true,
		answer: []string{"mail.companyb.example. 3600 IN CNAME autodiscover.companyb.example."}},
	// And its first probe neither, where hide_apex says so; the rest of the apex stays.
	{q: "companyb.example A", status: "NOERROR", negative: true},
	{q: "CompanyC.example AAAA", status: "NOERROR", negative: true},
	{q: "companya.example A", status: "NOERROR", answer: []string{"companya.example. 3600 IN A 203.0.113.80"}},
	{q: "companyb.example MX", status: "NOERROR", answer: []string{"companyb.example. 3600 IN MX 10 webmail.companya.example."}},
	{q: "companyb.example TXT", status: "NOERROR", answer: []string{`companyb.example. 3600 IN TXT "v=spf1 include:companya.example -all"`}},
	{q: "companyb.example ANY", status: "NOERROR", answer: []string{`companyb.example. 3600 IN HINFO "RFC8482" ""`}},
	{q: "www.companyb.example A", status: "NOERROR", answer: []string{"www.companyb.example. 3600 IN A 198.51.100.20"}},
	{q: "WWW.CompanyC.example A", status: "NOERROR", answer: []string{"WWW.CompanyC.example. 3600 IN A 198.51.100.30"}},
	{q: "shop.companyc.example A", status: "NOERROR", answer: []string{"shop.companyc.example. 3600 IN A 198.51.100.30"}},
	{q: "_imaps._tcp.companyb.example SRV", status: "NOERROR", answer: []string{"_imaps._tcp.companyb.example. 3600 IN SRV 0 1 993 webmail.companya.example."}},
	{q: "nothing.companyb.example A", status: "NXDOMAIN", negative: true},
	// The certificate's names, per horizon.
	{q: "webmail.companya.example A", status: "NOERROR",
		answer:   []string{"webmail.companya.example. 3600 IN A 203.0.113.10"},
		internal: []string{"webmail.companya.example. 3600 IN A 192.168.1.10"}},
	{q: "AutoDiscover.CompanyA.example A", status: "NOERROR",
		answer:   []string{"AutoDiscover.CompanyA.example. 3600 IN A 203.0.113.10"},
		internal: []string{"AutoDiscover.CompanyA.example. 3600 IN A 192.168.1.10"}},
	{q: "autodiscover.companya.example AAAA", status: "NOERROR", negative: true},
}

// clients are the three sources a test can use on loopback: two IPv4 addresses and IPv6.
var clients = []struct{ name, server, bind string }{
	{"127.0.0.1", "127.0.0.1", "127.0.0.1"},
	{"127.0.0.2", "127.0.0.1", "127.0.0.2"},
	{"::1", "::1", "::1"},
}

// transports: UDP without EDNS, UDP with EDNS, TCP.
var transports = [][]string{{"+noedns"}, {"+edns=0"}, {"+tcp"}}

func check(t *testing.T, s *server, queries []query, internal map[string]bool) {
	for _, client := range clients {
		for _, transport := range transports {
			for _, q := range queries {
				args := append([]string{"-b", client.bind}, transport...)
				r := s.dig(t, client.server, append(args, strings.Fields(q.q)...)...)
				where := fmt.Sprintf("%s from %s %v", q.q, client.name, transport)
				want := q.answer
				if internal[client.name] && q.internal != nil {
					want = q.internal
				}
				verify(t, where, r, q, want)
				if transport[0] == "+noedns" && strings.Contains(r.raw, "OPT PSEUDOSECTION") {
					t.Errorf("%s: EDNS in the reply to a query without it", where)
				}
				if transport[0] == "+edns=0" && !strings.Contains(r.raw, "OPT PSEUDOSECTION") {
					t.Errorf("%s: no EDNS in the reply to a query with it", where)
				}
			}
		}
	}
}

func verify(t *testing.T, where string, r reply, q query, want []string) {
	t.Helper()
	if r.status != q.status {
		t.Errorf("%s: status %s, want %s\n%s", where, r.status, q.status, r.raw)
		return
	}
	if !r.flags["aa"] {
		t.Errorf("%s: AA not set\n%s", where, r.raw)
	}
	got, exp := slices.Sorted(slices.Values(r.answer)), slices.Sorted(slices.Values(canonical(t, want)))
	if !slices.Equal(got, exp) {
		t.Errorf("%s: answer\n%s\nwant\n%s", where, strings.Join(got, "\n"), strings.Join(exp, "\n"))
	}
	if q.negative {
		if len(r.authority) != 1 || !strings.Contains(r.authority[0], "\tSOA\t") {
			t.Errorf("%s: negative answer without exactly one SOA in authority (RFC 2308)\n%s", where, r.raw)
		}
	}
}

func TestExample(t *testing.T) {
	t.Parallel()
	s := start(t, "corefile/Corefile")
	check(t, s, scenario, nil)
	refused(t, s)
	metricsAndReady(t, s)
}

func TestExampleLoopback(t *testing.T) {
	t.Parallel()
	s := start(t, "corefile/Corefile.loopback")
	check(t, s, scenario, map[string]bool{"127.0.0.2": true})
}

// TestExampleAlone: mail domains without any zone data, served by the plugin alone.
func TestExampleAlone(t *testing.T) {
	t.Parallel()
	s := start(t, "corefile/Corefile.alone")
	check(t, s, []query{
		{q: "_autodiscover._tcp.CompanyD.example SRV", status: "NOERROR",
			answer: []string{"_autodiscover._tcp.CompanyD.example. 300 IN SRV 0 0 443 autodiscover.companya.example."}},
		{q: "companye.example NS", status: "NOERROR", answer: []string{
			"companye.example. 300 IN NS ns1.companya.example.",
			"companye.example. 300 IN NS ns2.companya.example.",
		}},
		{q: "companyd.example MX", status: "NOERROR", negative: true},
		{q: "www.companyd.example A", status: "NXDOMAIN", negative: true},
		{q: "_tcp.companyd.example SRV", status: "NOERROR", negative: true},
		{q: "autodiscover.companye.example A", status: "NXDOMAIN", negative: true},
	}, nil)

	r := s.dig(t, "127.0.0.1", "companyd.example", "SOA")
	if r.status != "NOERROR" || len(r.answer) != 1 || !strings.Contains(r.answer[0], "ns1.companya.example. hostmaster.companyd.example.") {
		t.Errorf("SOA of a domain served alone:\n%s", r.raw)
	}
	refused(t, s)
}

func refused(t *testing.T, s *server) {
	t.Helper()
	for _, client := range clients {
		for _, transport := range transports {
			r := s.dig(t, client.server, append([]string{"-b", client.bind, "example.org", "A"}, transport...)...)
			if r.status != "REFUSED" || r.flags["aa"] || len(r.answer) > 0 {
				t.Errorf("outside the zones from %s %v: want REFUSED without AA\n%s", client.name, transport, r.raw)
			}
		}
	}
}

func metricsAndReady(t *testing.T, s *server) {
	t.Helper()
	resp, err := http.Get("http://" + s.ready + "/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("ready: %s", resp.Status)
	}

	resp, err = http.Get("http://" + s.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`coredns_autodiscover_answers_total{horizon="external",kind="srv",server="dns://:%d",view="",zone="companyb.example."}`,
		`coredns_autodiscover_answers_total{horizon="external",kind="suppressed",server="dns://:%d",view="",zone="companyc.example."}`,
		`coredns_autodiscover_answers_total{horizon="external",kind="address",server="dns://:%d",view="",zone="companya.example."}`,
	} {
		if want = fmt.Sprintf(want, s.port); !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestLargeAnswer: an answer larger than the client's buffer is truncated over UDP and
// served whole over TCP; EDNS0's buffer size is honoured.
func TestLargeAnswer(t *testing.T) {
	t.Parallel()
	s := start(t, "test/testdata/Corefile.large")
	for _, tc := range []struct {
		args      []string
		truncated bool
	}{
		{[]string{"+noedns", "+ignore"}, true},
		{[]string{"+bufsize=1232", "+ignore"}, true},
		{[]string{"+bufsize=4096", "+ignore"}, false},
		{[]string{"+tcp"}, false},
	} {
		r := s.dig(t, "127.0.0.1", append(tc.args, "big.companyb.example", "TXT")...)
		if r.flags["tc"] != tc.truncated {
			t.Errorf("%v: TC %v, want %v\n%s", tc.args, r.flags["tc"], tc.truncated, r.raw)
		}
		if !tc.truncated && len(r.answer) != 24 {
			t.Errorf("%v: %d records, want all 24", tc.args, len(r.answer))
		}
	}
	// The plugin's own answers come through the same way.
	r := s.dig(t, "127.0.0.1", "+tcp", "_autodiscover._tcp.companyb.example", "SRV")
	if r.status != "NOERROR" || len(r.answer) != 1 {
		t.Errorf("SRV next to a large zone:\n%s", r.raw)
	}
}

// TestBadCorefile: a configuration error stops the server with the Corefile line in the message.
func TestBadCorefile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ corefile, want string }{
		{"testdata/Corefile.bad-property", "Corefile.bad-property:4 - Error during parsing: unknown property \"colour\""},
		{"testdata/Corefile.bad-network", "Corefile.bad-network:6 - Error during parsing: internal network \"192.168.0.0/33\""},
		{"testdata/Corefile.cache", "Corefile.cache:3 - Error during parsing: internal and external answers differ, but *cache*"},
	} {
		out, err := exec.Command(binary, "-conf", tc.corefile, "-dns.port", fmt.Sprint(freePort(t))).CombinedOutput()
		cmdErr, ok := err.(*exec.ExitError)
		if !ok || cmdErr.ExitCode() == 0 {
			t.Errorf("%s: exit %v, want a failure\n%s", tc.corefile, err, out)
			continue
		}
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: output\n%s\nwant it to contain %q", tc.corefile, out, tc.want)
		}
	}
}

func TestVersionAndPlugins(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(binary, "-version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "autodiscover-dns-") {
		t.Errorf("-version: %v\n%s", err, out)
	}
	out, err = exec.Command(binary, "-plugins").CombinedOutput()
	if err != nil || !slices.Contains(strings.Fields(string(out)), "autodiscover") {
		t.Errorf("-plugins does not list autodiscover: %v\n%s", err, out)
	}
}

// TestValidate: -validate checks a Corefile without serving it and names every error's line.
func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		corefile string
		exit     int
		want     []string
	}{
		{"../corefile/Corefile", 0, []string{"../corefile/Corefile: valid"}},
		{"../corefile/Corefile.alone", 0, []string{"valid"}},
		{"testdata/Corefile.two-errors", 1, []string{
			`Corefile.two-errors:5 - Error during parsing: unknown property "colour"`,
			`Corefile.two-errors:11 - Error during parsing: "192.0.2.1" is an address, not a host name`,
		}},
		{"testdata/Corefile.bad-network", 1, []string{`Corefile.bad-network:6 - Error during parsing: internal network "192.168.0.0/33"`}},
	} {
		cmd := exec.Command(binary, "-validate", "-conf", tc.corefile)
		cmd.Dir = "."
		out, err := cmd.CombinedOutput()
		exit := 0
		if e, ok := err.(*exec.ExitError); ok {
			exit = e.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if exit != tc.exit {
			t.Errorf("%s: exit %d, want %d\n%s", tc.corefile, exit, tc.exit, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: output\n%s\nwant it to contain %q", tc.corefile, out, w)
			}
		}
	}
}

// TestMixed: a domain served alone next to a *file* zone, which refuses names it lacks.
func TestMixed(t *testing.T) {
	t.Parallel()
	s := start(t, "test/testdata/Corefile.mixed")
	check(t, s, []query{
		{q: "www.companyd.example A", status: "NXDOMAIN", negative: true},
		{q: "companyd.example MX", status: "NOERROR", negative: true},
		{q: "companyd.example NS", status: "NOERROR", answer: []string{"companyd.example. 3600 IN NS ns1.companya.example."}},
		{q: "_autodiscover._tcp.companyd.example SRV", status: "NOERROR",
			answer: []string{"_autodiscover._tcp.companyd.example. 3600 IN SRV 0 0 443 autodiscover.companya.example."}},
		{q: "companyb.example MX", status: "NOERROR", answer: []string{"companyb.example. 3600 IN MX 10 webmail.companya.example."}},
		{q: "autodiscover.companyb.example A", status: "NXDOMAIN", negative: true},
	}, nil)
}

// TestExampleBefore: the example zones as found, without the plugin, show the trouble, and
// autodiscover-check says so; the example Corefile fixes it.
func TestExampleBefore(t *testing.T) {
	t.Parallel()
	before, after := start(t, "corefile/Corefile.before"), start(t, "corefile/Corefile")
	check(t, before, []query{
		{q: "autodiscover.companyb.example A", status: "NOERROR", answer: []string{"autodiscover.companyb.example. 3600 IN A 198.51.100.20"}},
		{q: "autodiscover.companyc.example A", status: "NOERROR", answer: []string{"autodiscover.companyc.example. 3600 IN A 198.51.100.30"}},
		{q: "_autodiscover._tcp.companyb.example SRV", status: "NXDOMAIN", negative: true},
	}, nil)

	bin, err := checkBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s    *server
		exit int
		want string
	}{
		{before, 1, "ERROR   autodiscover-record (step 2)"},
		{after, 0, "step 4 would be tried (https://autodiscover.companya.example/Autodiscover/Autodiscover.xml)"},
	} {
		// -dns-only: the example's addresses are not on this machine, so nothing may connect to them.
		out, err := exec.Command(bin, "-server", fmt.Sprintf("127.0.0.1:%d", tc.s.port), "-dns-only", "user@companyb.example").CombinedOutput()
		exit := 0
		if e, ok := err.(*exec.ExitError); ok {
			exit = e.ExitCode()
		}
		if exit != tc.exit || !strings.Contains(string(out), tc.want) {
			t.Errorf("autodiscover-check against port %d: exit %d, want %d, and %q in\n%s", tc.s.port, exit, tc.exit, tc.want, out)
		}
	}
}
