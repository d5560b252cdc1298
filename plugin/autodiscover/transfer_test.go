package autodiscover

import (
	"slices"
	"strings"
	"testing"

	"github.com/coredns/coredns/plugin/file"
	"github.com/coredns/coredns/plugin/transfer"

	"github.com/miekg/dns"
)

// transferred returns the records of a transfer as text, the first and last SOA apart.
func transferred(t *testing.T, a *Autodiscover, zone string, serial uint32, h horizon) (soa *dns.SOA, body []string) {
	t.Helper()
	ch, err := a.transfer(zone, serial, h)
	if err != nil {
		t.Fatal(err)
	}
	var rrs []dns.RR
	for batch := range ch {
		rrs = append(rrs, batch...)
	}
	soa = rrs[0].(*dns.SOA)
	if len(rrs) == 1 {
		return soa, nil
	}
	if last, ok := rrs[len(rrs)-1].(*dns.SOA); !ok || last.Serial != soa.Serial {
		t.Fatalf("transfer of %s does not end with its SOA: %v", zone, rrs)
	}
	for _, rr := range rrs[1 : len(rrs)-1] {
		body = append(body, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	slices.Sort(body)
	return soa, body
}

func TestTransfer(t *testing.T) {
	a := newAutodiscover(t, corefile, zones)
	a.backends = []transfer.Transferer{a.Next.(file.File)}
	a.xfer = &transfer.Transfer{}

	// A fronted zone: the backend's records, minus the hidden ones, plus the SRV, with a
	// serial above the backend's.
	soa, body := transferred(t, a, "companyb.example.", 0, external)
	if want := 2 + a.serial - serialEpoch; soa.Serial != want {
		t.Errorf("serial %d, want the backend's 2 + %d", soa.Serial, a.serial-serialEpoch)
	}
	want := []string{
		`_autodiscover._tcp.companyb.example. 3600 IN SRV 0 0 443 autodiscover.companya.example.`,
		`_imaps._tcp.companyb.example. 3600 IN SRV 0 1 993 webmail.companya.example.`,
		`companyb.example. 3600 IN MX 10 webmail.companya.example.`,
		`companyb.example. 3600 IN NS ns1.companya.example.`,
		`companyb.example. 3600 IN TXT "v=spf1 -all"`,
		`mail.companyb.example. 3600 IN CNAME autodiscover.companyb.example.`,
		`outlook.companyb.example. 3600 IN CNAME webmail.companya.example.`,
		`www.companyb.example. 3600 IN A 198.51.100.20`,
	}
	if !slices.Equal(body, want) {
		t.Errorf("companyb.example:\n%s\nwant\n%s", strings.Join(body, "\n"), strings.Join(want, "\n"))
	}

	// The certificate's hosts in the requester's horizon.
	for h, addr := range map[horizon]string{external: "203.0.113.10", internal: "192.168.1.10"} {
		_, body = transferred(t, a, "companya.example.", 0, h)
		if !slices.Contains(body, "webmail.companya.example. 3600 IN A "+addr) ||
			!slices.Contains(body, "autodiscover.companya.example. 3600 IN A "+addr) ||
			slices.Contains(body, "webmail.companya.example. 3600 IN A 203.0.113.99") {
			t.Errorf("companya.example, %s horizon:\n%s", h, strings.Join(body, "\n"))
		}
	}

	// A wildcard cannot reach autodiscover.<zone> on a secondary either.
	_, body = transferred(t, a, "companyc.example.", 0, external)
	if !slices.Contains(body, `_wildcard-guard.autodiscover.companyc.example. 3600 IN TXT "keeps *.companyc.example. from answering for autodiscover.companyc.example."`) {
		t.Errorf("companyc.example without the wildcard guard:\n%s", strings.Join(body, "\n"))
	}

	// IXFR from the current serial: the SOA alone (RFC 1995).
	if _, body = transferred(t, a, "companyb.example.", soa.Serial, external); body != nil {
		t.Errorf("IXFR of an up-to-date zone sent %v", body)
	}

	// Not listed: another Transferer's business.
	if _, err := a.Transfer("example.org.", 0); err != transfer.ErrNotAuthoritative {
		t.Errorf("transfer of an unlisted zone: %v, want ErrNotAuthoritative", err)
	}
}

func TestTransferAlone(t *testing.T) {
	a := newAutodiscover(t, `autodiscover companyd.example {
		target autodiscover.companya.example
		ns ns1.companya.example
	}`, nil)
	soa, body := transferred(t, a, "companyd.example.", 0, external)
	if soa.Serial != a.serial || soa.Ns != "ns1.companya.example." {
		t.Errorf("SOA %v", soa)
	}
	want := []string{
		"_autodiscover._tcp.companyd.example. 3600 IN SRV 0 0 443 autodiscover.companya.example.",
		"companyd.example. 3600 IN NS ns1.companya.example.",
	}
	if !slices.Equal(body, want) {
		t.Errorf("companyd.example:\n%s\nwant\n%s", strings.Join(body, "\n"), strings.Join(want, "\n"))
	}
}
