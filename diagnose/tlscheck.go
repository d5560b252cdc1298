package diagnose

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"
)

// Certificate problems, in the words Outlook's warning dialog uses for them.
const (
	ProblemNameMismatch     = "name-mismatch"     // "the name on the security certificate is invalid or does not match"
	ProblemUnknownAuthority = "unknown-authority" // "issued by a company you have not chosen to trust"
	ProblemExpired          = "expired"           // "the security certificate has expired or is not yet valid"
	ProblemInvalid          = "invalid"           // any other chain error
)

// TLSResult is what the HTTPS server of a step presented.
type TLSResult struct {
	// Address is the address that completed the handshake, or the last one tried.
	Address string `json:"address"`
	// Failures lists the addresses that refused, timed out or failed the handshake.
	Failures  []string  `json:"failures,omitempty"`
	Connected bool      `json:"connected"`
	Names     []string  `json:"names,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	Issuer    string    `json:"issuer,omitempty"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	// Trusted is true when the chain verifies to the roots and every certificate is within its validity.
	Trusted bool `json:"trusted"`
	// CoversName is true when the leaf names the host Outlook asked for (SNI).
	CoversName bool     `json:"covers_name"`
	Problems   []string `json:"problems,omitempty"`
}

// valid reports a certificate Outlook accepts without a word.
func (t *TLSResult) valid() bool { return t != nil && t.Connected && t.Trusted && t.CoversName }

// LoadRoots reads a PEM bundle of CA certificates for -ca.
func LoadRoots(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate found", path)
	}
	return pool, nil
}

// dialer opens TCP connections from the configured source to addr:port, through the test remap if any.
func dial(ctx context.Context, cfg Config, addr string, port uint16) (net.Conn, string, error) {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, "", err
	}
	dst := netip.AddrPortFrom(ip, port)
	shown := dst.String()
	if cfg.remap != nil {
		dst = cfg.remap(dst)
	}
	d := &net.Dialer{Timeout: cfg.Timeout}
	if cfg.Source.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: net.IP(cfg.Source.AsSlice())}
	}
	conn, err := d.DialContext(ctx, "tcp", dst.String())
	return conn, shown, err
}

// checkTLS connects to each address in turn, like a browser falling back across A records, with SNI set
// to host, and judges the certificate of the first that completes a handshake.
func checkTLS(ctx context.Context, cfg Config, host string, port uint16, addrs []string) *TLSResult {
	res := &TLSResult{}
	for _, addr := range addrs {
		conn, shown, err := dial(ctx, cfg, addr, port)
		res.Address = shown
		if err != nil {
			res.Failures = append(res.Failures, shown+": "+err.Error())
			continue
		}
		certs, err := handshake(ctx, cfg, conn, host)
		conn.Close()
		if err != nil {
			res.Failures = append(res.Failures, shown+": "+err.Error())
			continue
		}
		res.Connected = true
		judge(res, certs, host, cfg.Roots, time.Now())
		return res
	}
	return res
}

func handshake(ctx context.Context, cfg Config, conn net.Conn, host string) ([]*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	// Verification is done by judge, so that a bad certificate is described instead of only refused.
	tc := tls.Client(conn, &tls.Config{ServerName: hostname(host), InsecureSkipVerify: true})
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, errors.New("no certificate presented")
	}
	return certs, nil
}

// judge fills in what Outlook checks: the chain to a trusted root, the validity period, and the name.
func judge(res *TLSResult, certs []*x509.Certificate, host string, roots *x509.CertPool, now time.Time) {
	leaf := certs[0]
	res.Names = leaf.DNSNames
	res.Subject = leaf.Subject.String()
	res.Issuer = leaf.Issuer.String()
	res.NotAfter = leaf.NotAfter

	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	verify := func(at time.Time) error {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at})
		return err
	}
	res.CoversName = leaf.VerifyHostname(hostname(host)) == nil
	if !res.CoversName {
		res.Problems = append(res.Problems, ProblemNameMismatch)
	}
	// Verify stops at the first problem and dates come first; check the chain again inside the leaf's
	// validity so an expired certificate from an unknown CA is reported as both.
	expired := now.After(leaf.NotAfter) || now.Before(leaf.NotBefore)
	at := now
	if expired {
		at = leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
	}
	err := verify(at)
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case err == nil:
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		expired = true // an intermediate
	case errors.As(err, &unknown):
		res.Problems = append(res.Problems, ProblemUnknownAuthority)
	default:
		res.Problems = append(res.Problems, ProblemInvalid)
	}
	if expired {
		res.Problems = append(res.Problems, ProblemExpired)
	}
	res.Trusted = err == nil && !expired
}
