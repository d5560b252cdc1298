package diagnose

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/autodiscover-dns/autodiscover/internal/testpki"
)

// The TLS connection leaves from -source, like the DNS queries: the internal server may only accept insiders.
func TestCheckTLSSource(t *testing.T) {
	cert := testpki.NewCA("Source Test CA").Issue(time.Now(), "autodiscover.companya.example")
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	peer := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		peer <- c.RemoteAddr().(*net.TCPAddr).IP.String()
		c.(*tls.Conn).Handshake()
		c.Close()
	}()
	cfg := Config{Source: mustAddr(internalClient), Timeout: 2 * time.Second, Roots: fx.roots,
		remap: func(netip.AddrPort) netip.AddrPort { return ap(l.Addr().String()) }}
	res := checkTLS(context.Background(), cfg, "autodiscover.companya.example.", 443, []string{"127.0.0.11"})
	if got := <-peer; got != internalClient {
		t.Errorf("connection came from %s, want %s", got, internalClient)
	}
	if !res.Connected || res.Trusted || !res.CoversName || !slices.Equal(res.Problems, []string{ProblemUnknownAuthority}) {
		t.Errorf("result %+v", res)
	}
	if res.Address != "127.0.0.11:443" {
		t.Errorf("reported address %s, want the real destination 127.0.0.11:443", res.Address)
	}
}

// Outlook's certificate checks, one problem at a time and together.
func TestJudge(t *testing.T) {
	trusted := testpki.NewCA("Judge Test CA")
	roots := newPool(trusted)
	now := time.Now()
	tests := []struct {
		name     string
		cert     tls.Certificate
		host     string
		problems []string
	}{
		{"valid", trusted.Issue(now, "autodiscover.companya.example"), "autodiscover.companya.example.", nil},
		{"case and wildcard", trusted.Issue(now, "*.companya.example"), "Autodiscover.CompanyA.example.", nil},
		{"mismatch", trusted.Issue(now, "autodiscover.companya.example"), "autodiscover.companyb.example.", []string{ProblemNameMismatch}},
		{"expired", trusted.Issue(now.Add(-72*time.Hour), "autodiscover.companya.example"), "autodiscover.companya.example.", []string{ProblemExpired}},
		{"unknown", testpki.NewCA("Other").Issue(now, "autodiscover.companya.example"), "autodiscover.companya.example.", []string{ProblemUnknownAuthority}},
		{"unknown, expired, mismatch", testpki.NewCA("Other").Issue(now.Add(-72*time.Hour), "www.companyb.example"), "companyb.example.",
			[]string{ProblemNameMismatch, ProblemUnknownAuthority, ProblemExpired}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf, _ := x509Parse(tc.cert)
			res := &TLSResult{Connected: true}
			judge(res, leaf, tc.host, roots, now)
			if !slices.Equal(res.Problems, tc.problems) {
				t.Errorf("problems %v, want %v", res.Problems, tc.problems)
			}
			if res.valid() != (tc.problems == nil) {
				t.Errorf("valid %t with problems %v", res.valid(), res.Problems)
			}
		})
	}
}
