package diagnose

import (
	"context"
	"testing"
)

// scenario is one state of companyb.example's DNS, as the operator might find it.
type scenario struct {
	external    []string
	internal    []string // nil: the same for every client
	entNXDOMAIN bool
	noSOA       bool
	noAA        bool
	truncateUDP bool
	hide        []string // names the server answers NXDOMAIN for, as the autodiscover plugin does
}

var scenarios = map[string]scenario{
	// The fix: one SRV record to a name on the certificate, no autodiscover.companyb, no apex address.
	"fixed": {external: records(companyA, []string{soaB, apexNoAddress, srvGood})},
	// The operator's own domain: autodiscover.companya is on the certificate.
	"companya": {external: records(companyA, []string{soaB})},
	// A nameserver that does not serve companyb.example at all: it answers REFUSED.
	"not-served": {external: companyA},
	"nothing":    {external: records(companyA, []string{soaB, apexNoAddress})},
	"autodiscover-a": {external: records(companyA, []string{soaB, srvGood,
		"autodiscover.companyb.example. A 127.0.0.10"})},
	"autodiscover-cname": {external: records(companyA, []string{soaB, srvGood,
		"autodiscover.companyb.example. CNAME autodiscover.companya.example."})},
	"wildcard": {external: records(companyA, []string{soaB, srvGood,
		"*.companyb.example. A 127.0.0.30"})},
	// The wildcard is still in the zone, but the server answers NXDOMAIN for autodiscover.companyb.example.
	"wildcard-hidden": {external: records(companyA, []string{soaB, srvGood,
		"*.companyb.example. A 127.0.0.30"}), hide: []string{"autodiscover.companyb.example."}},
	// The wildcard's host accepts no connection on port 443: harmless until one does.
	"wildcard-refused": {external: records(companyA, []string{soaB, srvGood,
		"*.companyb.example. A 127.0.0.41"})},
	// The bare domain and a leftover autodiscover record point at a web host, and there is no SRV record.
	"web-host": {external: records(companyA, []string{soaB,
		"companyb.example. A 127.0.0.22",
		"autodiscover.companyb.example. A 127.0.0.22"})},
	// A leftover CNAME to the mail server, and no SRV record: its certificate is the one that warns.
	"autodiscover-cname-no-srv": {external: records(companyA, []string{soaB, apexNoAddress,
		"autodiscover.companyb.example. CNAME autodiscover.companya.example."})},
	"apex-web": {external: records(companyA, []string{soaB, srvGood,
		"companyb.example. A 127.0.0.20"})},
	"apex-covered": {external: records(companyA, []string{soaB, srvGood,
		"companyb.example. A 127.0.0.21"})},
	"two-srv": {external: records(companyA, []string{soaB, srvGood,
		"_autodiscover._tcp.companyb.example. SRV 10 0 443 webmail.companya.example."})},
	"port-8443": {external: records(companyA, []string{soaB,
		"_autodiscover._tcp.companyb.example. SRV 0 0 8443 autodiscover.companya.example."})},
	"target-cname": {external: records(companyA, []string{soaB,
		"_autodiscover._tcp.companyb.example. SRV 0 0 443 mail.companyb.example.",
		"mail.companyb.example. CNAME autodiscover.companya.example."})},
	"target-dot": {external: records(companyA, []string{soaB,
		"_autodiscover._tcp.companyb.example. SRV 0 0 0 ."})},
	// The SRV target is a host of its own, on the mail server's address but not on its certificate.
	"target-not-on-certificate": {external: records(companyA, []string{soaB, apexNoAddress,
		"_autodiscover._tcp.companyb.example. SRV 0 0 443 mail.companyb.example.",
		"mail.companyb.example. A 127.0.0.10"})},
	// The SRV target's address accepts no connection on port 443.
	"target-closed": {external: []string{soaA, soaB, apexNoAddress, srvGood, "autodiscover.companya.example. A 127.0.0.41"}},
	// Split horizon gone wrong: the target only has an internal address.
	"target-internal-only": {
		external: []string{soaA, soaB, srvGood},
		internal: records(companyAInternal, []string{soaB, srvGood}),
	},
	// Split horizon done right: outside and inside clients reach the same certificate.
	"split-horizon": {
		external: records(companyA, []string{soaB, srvGood}),
		internal: records(companyAInternal, []string{soaB, srvGood}),
	},
	// The same over TCP only: every UDP answer is truncated.
	"target-internal-only-tcp": {
		external:    []string{soaA, soaB, srvGood},
		internal:    records(companyAInternal, []string{soaB, srvGood}),
		truncateUDP: true,
	},
	"untrusted": {external: []string{soaA, soaB, srvGood, "autodiscover.companya.example. A 127.0.0.31"}},
	"expired":   {external: []string{soaA, soaB, srvGood, "autodiscover.companya.example. A 127.0.0.32"}},
	// autodiscover.companyb points at a host whose 443 is closed and whose 80 redirects.
	"http-redirect": {external: records(companyA, []string{soaB,
		"autodiscover.companyb.example. A 127.0.0.40"})},
	// autodiscover.companyb points at a host with nothing listening.
	"refused": {external: records(companyA, []string{soaB, srvGood,
		"autodiscover.companyb.example. A 127.0.0.41"})},
	"ent-nxdomain": {external: records(companyA, []string{soaB, srvGood}), entNXDOMAIN: true},
	"no-soa":       {external: records(companyA, []string{soaB, srvGood}), noSOA: true},
	"no-aa":        {external: records(companyA, []string{soaB, srvGood}), noAA: true},
}

// start serves the scenario and returns the nameserver's address.
func (sc scenario) start(t testing.TB) string {
	t.Helper()
	s := &authServer{external: zone(t, sc.external...), entNXDOMAIN: sc.entNXDOMAIN, noSOA: sc.noSOA, noAA: sc.noAA,
		truncateUDP: sc.truncateUDP, hide: sc.hide}
	if sc.internal != nil {
		s.internal = zone(t, sc.internal...)
	}
	return startDNS(t, s)
}

// checkScenario runs Check for input against the named scenario; tweak adjusts the configuration.
func checkScenario(t *testing.T, name, input string, tweak func(*Config)) Result {
	t.Helper()
	sc, ok := scenarios[name]
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	cfg := testConfig(sc.start(t))
	if tweak != nil {
		tweak(&cfg)
	}
	res, err := Check(context.Background(), cfg, input)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func dnsOnly(c *Config) { c.DNSOnly = true }

func fromInside(c *Config) {
	c.Source = mustAddr(internalClient)
	c.Internal = true
}
