package diagnose

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autodiscover-dns/autodiscover/internal/testpki"

	"github.com/miekg/dns"
)

// Everything here listens on 127.0.0.1. The zones use addresses in 127.0.0.0/8 that nothing listens on;
// fx.remap points their port 443 (or 80, 8443) at the test listeners, and everything else at a closed port.

// internalClient is the source address the test nameserver treats as inside (dig -b 127.0.0.2 in test/).
const internalClient = "127.0.0.2"

var fx struct {
	caFile    string // PEM of the trusted test CA, read through LoadRoots like -ca
	roots     *x509.CertPool
	listeners map[netip.AddrPort]string
	closed    string // a loopback port nothing listens on
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "autodiscover-check")
	if err != nil {
		panic(err)
	}
	code := func() int {
		cleanup := setupFixtures(dir)
		defer cleanup()
		return m.Run()
	}()
	os.RemoveAll(dir)
	os.Exit(code)
}

func setupFixtures(dir string) func() {
	trusted := testpki.NewCA("Autodiscover Test CA")
	rogue := testpki.NewCA("Rogue Test CA")
	fx.caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(fx.caFile, trusted.PEM(), 0o600); err != nil {
		panic(err)
	}
	roots, err := LoadRoots(fx.caFile)
	if err != nil {
		panic(err)
	}
	fx.roots = roots

	now := time.Now()
	exchange := trusted.Issue(now, "autodiscover.companya.example", "webmail.companya.example")
	var stops []func()
	serve := func(cert tls.Certificate) string {
		addr, stop := startTLS(cert)
		stops = append(stops, stop)
		return addr
	}
	exchangeAddr := serve(exchange)
	redirectAddr, stopHTTP := startRedirect("https://autodiscover.companya.example/Autodiscover/Autodiscover.xml")
	stops = append(stops, stopHTTP)
	fx.listeners = map[netip.AddrPort]string{
		ap("127.0.0.10:443"):  exchangeAddr, // the Exchange server, public address
		ap("127.0.0.10:8443"): exchangeAddr,
		ap("127.0.0.11:443"):  exchangeAddr,                                                          // the Exchange server, internal address
		ap("127.0.0.20:443"):  serve(trusted.Issue(now, "www.companyb.example")),                     // web site on the bare domain
		ap("127.0.0.21:443"):  serve(trusted.Issue(now, "companyb.example", "www.companyb.example")), // web site whose certificate covers it
		ap("127.0.0.22:443"):  serve(trusted.Issue(now, "www.webhost.example")),                      // a web host's own certificate
		ap("127.0.0.30:443"):  serve(trusted.Issue(now, "*.parking.example")),                        // where a wildcard points
		ap("127.0.0.31:443"):  serve(rogue.Issue(now, "autodiscover.companya.example")),
		ap("127.0.0.32:443"):  serve(trusted.Issue(now.Add(-72*time.Hour), "autodiscover.companya.example")),
		ap("127.0.0.40:80"):   redirectAddr, // 127.0.0.40:443 is closed: step 2 fails, step 3 redirects
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fx.closed = l.Addr().String()
	l.Close()
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// remap keeps every connection on loopback: known addresses go to their listener, the rest to a closed port.
func testRemap(dst netip.AddrPort) netip.AddrPort {
	if a, ok := fx.listeners[dst]; ok {
		return ap(a)
	}
	if !dst.Addr().IsLoopback() {
		panic("test tried to connect to " + dst.String())
	}
	return ap(fx.closed)
}

// startTLS serves cert on a loopback port of its own.
func startTLS(cert tls.Certificate) (string, func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go testpki.Serve(l, cert)
	return l.Addr().String(), func() { l.Close() }
}

// startRedirect is the plain-HTTP server of step 3, redirecting as an old hosting panel does.
func startRedirect(location string) (string, func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: http.RedirectHandler(location, http.StatusFound)}
	go srv.Serve(l)
	return l.Addr().String(), func() { srv.Close() }
}

// authServer is a small authoritative nameserver for crafted zones. It answers like a zone file server
// (CNAME chasing inside its data, RFC 4592 wildcards, NODATA for empty non-terminals) unless a flag asks it
// to misbehave the way broken providers do.
type authServer struct {
	external []dns.RR
	internal []dns.RR // answers for internalClient; nil: as external
	// entNXDOMAIN answers NXDOMAIN for empty non-terminals (breaks RFC 8020).
	entNXDOMAIN bool
	// noSOA leaves the SOA out of negative answers (breaks RFC 2308).
	noSOA bool
	// noAA clears the AA flag, as a forwarder or cache would.
	noAA bool
	// truncateUDP answers every UDP query with TC set and nothing else, so only TCP gets data (RFC 7766).
	truncateUDP bool
	// hide answers NXDOMAIN for these names and every name below them, whatever the data or a wildcard says,
	// as the autodiscover plugin does for autodiscover.DOMAIN.
	hide []string
}

func (s *authServer) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = !s.noAA
	rrs := s.external
	if ip, _, _ := net.SplitHostPort(w.RemoteAddr().String()); ip == internalClient && s.internal != nil {
		rrs = s.internal
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp && s.truncateUDP {
		m.Truncated = true
		w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	soa := zoneSOA(rrs, q.Name)
	if soa == nil {
		m.Rcode = dns.RcodeRefused
		w.WriteMsg(m)
		return
	}
	name := q.Name
	for range 8 {
		answer, rcode := lookup(rrs, name, q.Qtype, s.entNXDOMAIN)
		if slices.ContainsFunc(s.hide, func(h string) bool { return dns.IsSubDomain(h, name) }) {
			answer, rcode = nil, dns.RcodeNameError
		}
		m.Answer = append(m.Answer, answer...)
		m.Rcode = rcode
		if len(answer) == 0 || answer[len(answer)-1].Header().Rrtype != dns.TypeCNAME || q.Qtype == dns.TypeCNAME {
			break
		}
		name = answer[len(answer)-1].(*dns.CNAME).Target
		if zoneSOA(rrs, name) == nil {
			break
		}
	}
	if (m.Rcode == dns.RcodeNameError || len(m.Answer) == 0) && !s.noSOA {
		m.Ns = []dns.RR{soa}
	}
	w.WriteMsg(m)
}

// zoneSOA is the SOA of the closest zone holding name.
func zoneSOA(rrs []dns.RR, name string) dns.RR {
	var best dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeSOA && dns.IsSubDomain(rr.Header().Name, name) {
			if best == nil || dns.CountLabel(rr.Header().Name) > dns.CountLabel(best.Header().Name) {
				best = rr
			}
		}
	}
	return best
}

// lookup answers one name: exact data, then a CNAME, then NODATA, then a wildcard, then NXDOMAIN.
func lookup(rrs []dns.RR, name string, qtype uint16, entNXDOMAIN bool) ([]dns.RR, int) {
	if answer, exists := atName(rrs, name, name, qtype); exists {
		return answer, dns.RcodeSuccess
	}
	if hasBelow(rrs, name) {
		if entNXDOMAIN {
			return nil, dns.RcodeNameError
		}
		return nil, dns.RcodeSuccess
	}
	// RFC 4592 section 3.3.1: the closest encloser's wildcard answers a name that does not exist.
	labels := dns.SplitDomainName(name)
	for i := 1; i < len(labels); i++ {
		encloser := dns.Fqdn(strings.Join(labels[i:], "."))
		if exists(rrs, encloser) {
			if answer, ok := atName(rrs, "*."+encloser, name, qtype); ok {
				return answer, dns.RcodeSuccess
			}
			break
		}
	}
	return nil, dns.RcodeNameError
}

// atName returns the records of type qtype (or the CNAME) at owner, renamed to name for wildcards.
func atName(rrs []dns.RR, owner, name string, qtype uint16) ([]dns.RR, bool) {
	var answer, cname []dns.RR
	found := false
	for _, rr := range rrs {
		if !strings.EqualFold(rr.Header().Name, owner) {
			continue
		}
		found = true
		c := dns.Copy(rr)
		c.Header().Name = name
		switch rr.Header().Rrtype {
		case qtype:
			answer = append(answer, c)
		case dns.TypeCNAME:
			cname = append(cname, c)
		}
	}
	if len(answer) == 0 {
		answer = cname
	}
	return answer, found
}

func exists(rrs []dns.RR, name string) bool {
	_, found := atName(rrs, name, name, dns.TypeNone)
	return found || hasBelow(rrs, name)
}

func hasBelow(rrs []dns.RR, name string) bool {
	for _, rr := range rrs {
		if !strings.EqualFold(rr.Header().Name, name) && dns.IsSubDomain(name, rr.Header().Name) {
			return true
		}
	}
	return false
}

// startDNS serves h on one 127.0.0.1 port over UDP and TCP and returns host:port.
func startDNS(t testing.TB, h dns.Handler) string {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := pc.LocalAddr().String()
		l, err := net.Listen("tcp", addr)
		if err != nil {
			pc.Close()
			continue
		}
		udp := &dns.Server{PacketConn: pc, Handler: h}
		tcp := &dns.Server{Listener: l, Handler: h}
		go udp.ActivateAndServe()
		go tcp.ActivateAndServe()
		t.Cleanup(func() {
			udp.Shutdown()
			tcp.Shutdown()
		})
		return addr
	}
	t.Fatal("no free port for UDP and TCP on 127.0.0.1")
	return ""
}

// zone parses records written as in a zone file, with full names; the TTL defaults to 3600.
func zone(t testing.TB, lines ...string) []dns.RR {
	t.Helper()
	var rrs []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR("$TTL 3600\n" + l)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		rrs = append(rrs, rr)
	}
	return rrs
}

// The zones of the story, with reserved names (RFC 2606) and no delegations.
var (
	soaA     = "companya.example. SOA ns.companya.example. hostmaster.companya.example. 1 7200 3600 1209600 3600"
	soaB     = "companyb.example. SOA ns.companyb.example. hostmaster.companyb.example. 1 7200 3600 1209600 3600"
	companyA = []string{soaA,
		"autodiscover.companya.example. A 127.0.0.10",
		"webmail.companya.example. A 127.0.0.10",
	}
	companyAInternal = []string{soaA,
		"autodiscover.companya.example. A 127.0.0.11",
		"webmail.companya.example. A 127.0.0.11",
	}
	srvGood = "_autodiscover._tcp.companyb.example. SRV 0 0 443 autodiscover.companya.example."
	// The bare domain exists (it has mail data) but has no address: step 1 finds nothing.
	apexNoAddress = "companyb.example. TXT \"v=spf1 -all\""
)

func records(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func testConfig(server string) Config {
	return Config{Server: server, Authoritative: true, Roots: fx.roots, Timeout: 2 * time.Second, remap: testRemap}
}

func describe(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "prediction %+v\n", r.Prediction)
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "step %d %s %s %q\n", s.Number, s.Name, s.Status, s.Note)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "finding %s %s: %s\n", f.Severity, f.ID, f.Message)
	}
	return b.String()
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newPool(cas ...testpki.CA) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, ca := range cas {
		pool.AddCert(ca.Cert)
	}
	return pool
}

func x509Parse(c tls.Certificate) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, der := range c.Certificate {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		out = append(out, cert)
	}
	return out, nil
}
