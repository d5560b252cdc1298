package autodiscover

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/file"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
)

const corefile = `autodiscover companya.example companyb.example companyc.example {
	target autodiscover.companya.example
	hosts webmail.companya.example owa.mail.companya.example
	external 203.0.113.10 2001:db8::10
	internal 192.168.1.10
	internal_networks 192.168.0.0/16 10.0.0.0/8 fd00::/8
	hide_apex companyb.example companyc.example
}`

var zones = map[string]string{
	"companya.example.": `
$TTL 3600
@             SOA   ns1.companya.example. hostmaster.companya.example. 1 7200 1800 1209600 300
@             NS    ns1.companya.example.
@             MX    10 webmail.companya.example.
@             A     203.0.113.80
webmail       A     203.0.113.99
autodiscover  A     203.0.113.99
`,
	"companyb.example.": `
$TTL 3600
@             SOA   ns1.companya.example. hostmaster.companya.example. 2 7200 1800 1209600 300
@             NS    ns1.companya.example.
@             MX    10 webmail.companya.example.
@             TXT   "v=spf1 -all"
@             A     198.51.100.20
www           A     198.51.100.20
autodiscover  A     198.51.100.20
mail          CNAME autodiscover.companyb.example.
outlook       CNAME webmail.companya.example.
_autodiscover._tcp SRV 10 10 443 www.companyb.example.
_imaps._tcp   SRV   0 1 993 webmail.companya.example.
`,
	"companyc.example.": `
$TTL 3600
@             SOA   ns1.companya.example. hostmaster.companya.example. 3 7200 1800 1209600 300
@             NS    ns1.companya.example.
@             MX    10 webmail.companya.example.
@             A     198.51.100.30
*             A     198.51.100.30
`,
}

// newAutodiscover parses config for a server block of the three companies, in front of
// a *file* backend serving zones.
func newAutodiscover(t testing.TB, config string, zones map[string]string) *Autodiscover {
	t.Helper()
	c := caddy.NewTestController("dns", config)
	c.ServerBlockKeys = []string{"companya.example.", "companyb.example.", "companyc.example.", "companyd.example."}
	a, err := parse(c)
	if err != nil {
		t.Fatal(err)
	}
	a.loaded.Store(true)
	if zones == nil {
		return a
	}
	backend := file.File{Zones: file.Zones{Z: map[string]*file.Zone{}}}
	for origin, data := range zones {
		z, err := file.Parse(strings.NewReader(data), origin, "stdin", 0)
		if err != nil {
			t.Fatal(err)
		}
		backend.Z[origin] = z
		backend.Names = append(backend.Names, origin)
	}
	a.Next = backend
	return a
}

type clientCase struct {
	test.Case
	client string // source address; "" is 203.0.113.1, an external client
	tcp    bool
}

const soaB = "companyb.example. 300 IN SOA ns1.companya.example. hostmaster.companya.example. 2 7200 1800 1209600 300"

var serveCases = []clientCase{
	// The SRV, in the client's spelling, over UDP and TCP, with and without EDNS.
	{Case: test.Case{Qname: "_autodiscover._tcp.CompanyB.example.", Qtype: dns.TypeSRV,
		Answer: []dns.RR{test.SRV("_autodiscover._tcp.CompanyB.example. 3600 IN SRV 0 0 443 autodiscover.companya.example.")}}},
	{Case: test.Case{Qname: "_autodiscover._tcp.companyc.example.", Qtype: dns.TypeSRV, Do: true,
		Answer: []dns.RR{test.SRV("_autodiscover._tcp.companyc.example. 3600 IN SRV 0 0 443 autodiscover.companya.example.")}}, tcp: true},
	{Case: test.Case{Qname: "_autodiscover._tcp.companyb.example.", Qtype: dns.TypeANY,
		Answer: []dns.RR{test.SRV("_autodiscover._tcp.companyb.example. 3600 IN SRV 0 0 443 autodiscover.companya.example.")}}},
	// Other types at the SRV owner, and the empty non-terminal above it: NODATA (RFC 8020).
	{Case: test.Case{Qname: "_autodiscover._tcp.companyb.example.", Qtype: dns.TypeA, Ns: []dns.RR{test.SOA(soaB)}}},
	{Case: test.Case{Qname: "_tcp.companyb.example.", Qtype: dns.TypeTXT, Ns: []dns.RR{test.SOA(soaB)}}},
	{Case: test.Case{Qname: "_tcp.companyb.example.", Qtype: dns.TypeANY,
		Answer: []dns.RR{test.HINFO(`_tcp.companyb.example. 3600 IN HINFO "RFC8482" ""`)}}},
	// A wildcard does not reach the empty non-terminal (RFC 4592 section 2.2.2).
	{Case: test.Case{Qname: "_tcp.companyc.example.", Qtype: dns.TypeA,
		Ns: []dns.RR{test.SOA("companyc.example. 300 IN SOA ns1.companya.example. hostmaster.companya.example. 3 7200 1800 1209600 300")}}},
	{Case: test.Case{Qname: "x._autodiscover._tcp.companyb.example.", Qtype: dns.TypeSRV, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soaB)}}},
	// The other SRV records of the zone come from the backend.
	{Case: test.Case{Qname: "_imaps._tcp.companyb.example.", Qtype: dns.TypeSRV,
		Answer: []dns.RR{test.SRV("_imaps._tcp.companyb.example. 3600 IN SRV 0 1 993 webmail.companya.example.")},
		Ns:     []dns.RR{test.NS("companyb.example. 3600 IN NS ns1.companya.example.")}}},

	// Suppression: the leftover record, the wildcard, the subtree, every type.
	{Case: test.Case{Qname: "AutoDiscover.CompanyB.Example.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError,
		Ns: []dns.RR{test.SOA("CompanyB.Example. 300 IN SOA ns1.companya.example. hostmaster.companya.example. 2 7200 1800 1209600 300")}}},
	{Case: test.Case{Qname: "autodiscover.companyb.example.", Qtype: dns.TypeCNAME, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soaB)}}},
	{Case: test.Case{Qname: "autodiscover.companyb.example.", Qtype: dns.TypeHTTPS, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soaB)}}, tcp: true},
	{Case: test.Case{Qname: "autodiscover.companyc.example.", Qtype: dns.TypeAAAA, Rcode: dns.RcodeNameError,
		Ns: []dns.RR{test.SOA("companyc.example. 300 IN SOA ns1.companya.example. hostmaster.companya.example. 3 7200 1800 1209600 300")}}},
	{Case: test.Case{Qname: "a.b.autodiscover.companyc.example.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError,
		Ns: []dns.RR{test.SOA("companyc.example. 300 IN SOA ns1.companya.example. hostmaster.companya.example. 3 7200 1800 1209600 300")}}},
	// The wildcard still serves everything else.
	{Case: test.Case{Qname: "shop.companyc.example.", Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("shop.companyc.example. 3600 IN A 198.51.100.30")},
		Ns:     []dns.RR{test.NS("companyc.example. 3600 IN NS ns1.companya.example.")}}},
	// An alias of a hidden name ends where the name does (RFC 6604).
	{Case: test.Case{Qname: "mail.companyb.example.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError,
		Answer: []dns.RR{test.CNAME("mail.companyb.example. 3600 IN CNAME autodiscover.companyb.example.")},
		Ns:     []dns.RR{test.SOA(soaB)}}},

	// hide_apex: the address records go, the rest of the apex stays.
	{Case: test.Case{Qname: "companyb.example.", Qtype: dns.TypeA, Ns: []dns.RR{test.SOA(soaB)}}},
	{Case: test.Case{Qname: "companyb.example.", Qtype: dns.TypeHTTPS, Ns: []dns.RR{test.SOA(soaB)}}},
	{Case: test.Case{Qname: "companyb.example.", Qtype: dns.TypeMX,
		Answer: []dns.RR{test.MX("companyb.example. 3600 IN MX 10 webmail.companya.example.")},
		Ns:     []dns.RR{test.NS("companyb.example. 3600 IN NS ns1.companya.example.")}}},
	{Case: test.Case{Qname: "companyb.example.", Qtype: dns.TypeSOA,
		Answer: []dns.RR{test.SOA("companyb.example. 3600 IN SOA ns1.companya.example. hostmaster.companya.example. 2 7200 1800 1209600 300")},
		Ns:     []dns.RR{test.NS("companyb.example. 3600 IN NS ns1.companya.example.")}}},
	{Case: test.Case{Qname: "companyb.example.", Qtype: dns.TypeANY,
		Answer: []dns.RR{test.HINFO(`companyb.example. 3600 IN HINFO "RFC8482" ""`)}}},
	// companya is not in the hide_apex list, and www is not the apex.
	{Case: test.Case{Qname: "companya.example.", Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("companya.example. 3600 IN A 203.0.113.80")},
		Ns:     []dns.RR{test.NS("companya.example. 3600 IN NS ns1.companya.example.")}}},
	{Case: test.Case{Qname: "WWW.companyb.example.", Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("WWW.companyb.example. 3600 IN A 198.51.100.20")},
		Ns:     []dns.RR{test.NS("companyb.example. 3600 IN NS ns1.companya.example.")}}},
	{Case: test.Case{Qname: "nowhere.companyb.example.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soaB)}}},

	// Horizons: the certificate's hosts, the SRV target among them, over a suppressed name.
	{Case: test.Case{Qname: "webmail.companya.example.", Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("webmail.companya.example. 3600 IN A 203.0.113.10")}}},
	{Case: test.Case{Qname: "webmail.companya.example.", Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("webmail.companya.example. 3600 IN A 192.168.1.10")}}, client: "192.168.7.1"},
	{Case: test.Case{Qname: "Autodiscover.CompanyA.example.", Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("Autodiscover.CompanyA.example. 3600 IN A 192.168.1.10")}}, client: "10.1.2.3", tcp: true},
	{Case: test.Case{Qname: "autodiscover.companya.example.", Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("autodiscover.companya.example. 3600 IN A 203.0.113.10")}}, client: "2001:db8:1::1"},
	{Case: test.Case{Qname: "autodiscover.companya.example.", Qtype: dns.TypeAAAA,
		Answer: []dns.RR{test.AAAA("autodiscover.companya.example. 3600 IN AAAA 2001:db8::10")}}, client: "::1"},
	// Internal clients have no IPv6 address for the host: NODATA, never the public one.
	{Case: test.Case{Qname: "webmail.companya.example.", Qtype: dns.TypeAAAA,
		Ns: []dns.RR{test.SOA("companya.example. 300 IN SOA ns1.companya.example. hostmaster.companya.example. 1 7200 1800 1209600 300")}}, client: "fd00::53"},
	{Case: test.Case{Qname: "webmail.companya.example.", Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("webmail.companya.example. 3600 IN A 192.168.1.10")}}, client: "::ffff:192.168.1.1"},
	{Case: test.Case{Qname: "webmail.companya.example.", Qtype: dns.TypeMX,
		Ns: []dns.RR{test.SOA("companya.example. 300 IN SOA ns1.companya.example. hostmaster.companya.example. 1 7200 1800 1209600 300")}}},
	// The names above a host exist even where the backend has none (RFC 8020).
	{Case: test.Case{Qname: "mail.companya.example.", Qtype: dns.TypeA,
		Ns: []dns.RR{test.SOA("companya.example. 300 IN SOA ns1.companya.example. hostmaster.companya.example. 1 7200 1800 1209600 300")}}},
}

func TestServeDNS(t *testing.T) {
	a := newAutodiscover(t, corefile, zones)
	ctx := context.TODO()
	for i, tc := range serveCases {
		m := tc.Msg()
		client := tc.client
		if client == "" {
			client = "203.0.113.1"
		}
		rec := dnstest.NewRecorder(&test.ResponseWriter{RemoteIP: client, TCP: tc.tcp})
		if _, err := a.ServeDNS(ctx, rec, m); err != nil {
			t.Errorf("test %d %s/%s: %v", i, tc.Qname, dns.TypeToString[tc.Qtype], err)
			continue
		}
		if rec.Msg == nil {
			t.Errorf("test %d %s/%s: no reply", i, tc.Qname, dns.TypeToString[tc.Qtype])
			continue
		}
		if !rec.Msg.Authoritative {
			t.Errorf("test %d %s/%s: AA not set", i, tc.Qname, dns.TypeToString[tc.Qtype])
		}
		if err := test.SortAndCheck(rec.Msg, tc.Case); err != nil {
			t.Errorf("test %d %s/%s from %q: %v\n%s", i, tc.Qname, dns.TypeToString[tc.Qtype], tc.client, err, rec.Msg)
		}
	}
}

// TestFallThrough proves that what is not the plugin's reaches the next plugin untouched.
func TestFallThrough(t *testing.T) {
	const sentinel = dns.RcodeYXDomain
	a := newAutodiscover(t, corefile, nil)
	a.Next = test.NextHandler(sentinel, nil)
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"example.org.", dns.TypeA},
		{"companyd.example.", dns.TypeSRV},
		{"_autodiscover._tcp.companyb.example.evil.", dns.TypeSRV},
		{"companyb.example.", dns.TypeAXFR},
		{"www.companyb.example.", dns.TypeA},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		rc, _ := a.ServeDNS(context.TODO(), rec, m)
		if rc != sentinel {
			t.Errorf("%s/%s: rcode %d, want the next plugin's %d", q.name, dns.TypeToString[q.qtype], rc, sentinel)
		}
	}

	// Not a query, or not class IN: not the plugin's either.
	m := new(dns.Msg)
	m.SetQuestion("_autodiscover._tcp.companyb.example.", dns.TypeSRV)
	m.Question[0].Qclass = dns.ClassCHAOS
	if rc, _ := a.ServeDNS(context.TODO(), dnstest.NewRecorder(&test.ResponseWriter{}), m); rc != sentinel {
		t.Errorf("CHAOS class: rcode %d, want %d", rc, sentinel)
	}
	m.Question[0].Qclass = dns.ClassINET
	m.Opcode = dns.OpcodeNotify
	if rc, _ := a.ServeDNS(context.TODO(), dnstest.NewRecorder(&test.ResponseWriter{}), m); rc != sentinel {
		t.Errorf("NOTIFY: rcode %d, want %d", rc, sentinel)
	}
}

// TestRefused: in a server block for the root, a name no plugin serves is refused.
func TestRefused(t *testing.T) {
	a := newAutodiscover(t, corefile, nil)
	m := new(dns.Msg)
	m.SetQuestion("example.org.", dns.TypeA)
	if rc, err := a.ServeDNS(context.TODO(), dnstest.NewRecorder(&test.ResponseWriter{}), m); rc != dns.RcodeRefused || err != nil {
		t.Errorf("rcode %d, error %v: want REFUSED", rc, err)
	}
}

// TestBackendFailure: a backend that fails (an expired secondary) is not mistaken for none.
func TestBackendFailure(t *testing.T) {
	a := newAutodiscover(t, corefile, nil)
	a.Next = test.NextHandler(dns.RcodeServerFailure, nil)
	m := new(dns.Msg)
	m.SetQuestion("www.companyb.example.", dns.TypeA)
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	if rc, _ := a.ServeDNS(context.TODO(), rec, m); rc != dns.RcodeServerFailure || rec.Msg != nil {
		t.Errorf("rcode %d, reply %v: want SERVFAIL left to the server", rc, rec.Msg)
	}
}

const soaD = "companyd.example. 300 IN SOA ns1.companya.example. hostmaster.companyd.example. 0 7200 1800 1209600 300"

var aloneCases = []test.Case{
	{Qname: "companyd.example.", Qtype: dns.TypeSOA, Answer: []dns.RR{test.SOA("companyd.example. 300 IN SOA ns1.companya.example. hostmaster.companyd.example. 0 7200 1800 1209600 300")}},
	{Qname: "CompanyD.example.", Qtype: dns.TypeNS, Answer: []dns.RR{
		test.NS("CompanyD.example. 300 IN NS ns1.companya.example."),
		test.NS("CompanyD.example. 300 IN NS ns2.companya.example."),
	}},
	{Qname: "companyd.example.", Qtype: dns.TypeMX, Ns: []dns.RR{test.SOA(soaD)}},
	{Qname: "companyd.example.", Qtype: dns.TypeA, Ns: []dns.RR{test.SOA(soaD)}},
	{Qname: "www.companyd.example.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soaD)}},
	{Qname: "_tcp.companyd.example.", Qtype: dns.TypeSRV, Ns: []dns.RR{test.SOA(soaD)}},
	{Qname: "autodiscover.companyd.example.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soaD)}},
	{Qname: "_autodiscover._tcp.companyd.example.", Qtype: dns.TypeSRV,
		Answer: []dns.RR{test.SRV("_autodiscover._tcp.companyd.example. 300 IN SRV 5 10 8443 autodiscover.companya.example.")}},
}

// TestAlone: a mail domain with no backend is served from the plugin's own SOA and NS.
func TestAlone(t *testing.T) {
	for _, next := range []plugin.Handler{
		nil,
		test.NextHandler(dns.RcodeServerFailure, plugin.Error("file", errors.New("no next plugin found"))),
		test.NextHandler(dns.RcodeRefused, nil), // *file*, last in the chain, for a zone it does not have
	} {
		a := newAutodiscover(t, `autodiscover companyd.example {
			target autodiscover.companya.example 8443
			priority 5
			weight 10
			ttl 300
			ns ns1.companya.example ns2.companya.example
		}`, nil)
		a.Next = next
		a.serial = 0
		for i, tc := range aloneCases {
			rec := dnstest.NewRecorder(&test.ResponseWriter{})
			if _, err := a.ServeDNS(context.TODO(), rec, tc.Msg()); err != nil {
				t.Fatal(err)
			}
			if !rec.Msg.Authoritative {
				t.Errorf("test %d: AA not set", i)
			}
			if err := test.SortAndCheck(rec.Msg, tc); err != nil {
				t.Errorf("test %d %s/%s: %v\n%s", i, tc.Qname, dns.TypeToString[tc.Qtype], err, rec.Msg)
			}
		}
	}
}

// TestReplay sends every packet of the shared corpus through ServeDNS: none may panic,
// and every reply must fit the question it answers.
func TestReplay(t *testing.T) {
	packets, _ := filepath.Glob("../../../shared/dns-fuzzing/packet/*.pkt")
	if len(packets) == 0 {
		t.Fatal("no packets in ../shared/dns-fuzzing: the corpus is expected beside the repository")
	}
	a := newAutodiscover(t, corefile, zones)
	replayed := 0
	for _, p := range packets {
		buf, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m := new(dns.Msg)
		if m.Unpack(buf) != nil || m.Response {
			continue
		}
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		a.ServeDNS(context.TODO(), rec, m)
		if rec.Msg != nil && len(m.Question) == 1 && rec.Msg.Question[0] != m.Question[0] {
			t.Errorf("%s: reply question %v, want %v", p, rec.Msg.Question[0], m.Question[0])
		}
		replayed++
	}
	if replayed < 1000 {
		t.Errorf("replayed %d queries, want at least 1000", replayed)
	}
}

func FuzzServeDNS(f *testing.F) {
	for _, q := range []string{"_autodiscover._tcp.companyb.example.", "autodiscover.companyc.example.", "companyb.example.", "webmail.companya.example.", "mail.companyb.example.", "_tcp.companyb.example."} {
		for _, qtype := range []uint16{dns.TypeSRV, dns.TypeA, dns.TypeANY} {
			m := new(dns.Msg)
			m.SetQuestion(q, qtype)
			m.SetEdns0(1232, true)
			buf, _ := m.Pack()
			f.Add(buf, "10.1.1.1")
		}
	}
	a := newAutodiscover(f, corefile, zones)
	f.Fuzz(func(t *testing.T, buf []byte, client string) {
		m := new(dns.Msg)
		if m.Unpack(buf) != nil {
			return
		}
		rec := dnstest.NewRecorder(&test.ResponseWriter{RemoteIP: client})
		a.ServeDNS(context.TODO(), rec, m)
		if rec.Msg != nil {
			if _, err := rec.Msg.Pack(); err != nil {
				t.Errorf("reply does not pack: %v", err)
			}
		}
	})
}

func benchmarkServe(b *testing.B, qname string, qtype uint16, client string) {
	a := newAutodiscover(b, corefile, zones)
	m := new(dns.Msg)
	m.SetQuestion(qname, qtype)
	w := &test.ResponseWriter{RemoteIP: client}
	ctx := context.TODO()
	b.ReportAllocs()
	for b.Loop() {
		a.ServeDNS(ctx, w, m)
	}
}

func BenchmarkSRV(b *testing.B) {
	benchmarkServe(b, "_autodiscover._tcp.companyb.example.", dns.TypeSRV, "203.0.113.1")
}

func BenchmarkSuppressed(b *testing.B) {
	benchmarkServe(b, "autodiscover.companyc.example.", dns.TypeA, "203.0.113.1")
}

func BenchmarkHorizonInternal(b *testing.B) {
	benchmarkServe(b, "webmail.companya.example.", dns.TypeA, "192.168.1.1")
}

func BenchmarkHorizonExternal(b *testing.B) {
	benchmarkServe(b, "webmail.companya.example.", dns.TypeA, "203.0.113.1")
}

func BenchmarkPassThrough(b *testing.B) {
	benchmarkServe(b, "companyb.example.", dns.TypeMX, "203.0.113.1")
}
