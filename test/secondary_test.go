package test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSecondary starts NSD as a secondary of the server on loopback: after the transfer it
// answers as the server does, and a change of the domains file reaches it through NOTIFY.
func TestSecondary(t *testing.T) {
	t.Parallel()
	nsd, err := exec.LookPath("nsd")
	if err != nil {
		t.Fatal("the secondary test needs NSD: run 'sudo apt-get install nsd', or 'sh test/run.sh', which does")
	}
	dir := t.TempDir()
	domains := filepath.Join(dir, "domains")
	writeAtomic(t, domains, "# companyc.example joins later\ncompanyb.example\n")
	nsdPort := freePort(t)

	s := startConfig(t, fmt.Sprintf(`companya.example companyb.example companyc.example {
    autodiscover companya.example {
        domains %s
        reload 1s
        target autodiscover.companya.example
        hosts webmail.companya.example
        external 203.0.113.10
        internal 192.168.1.10
        internal_networks 127.0.0.2/32
        hide_apex
    }
    transfer {
        to 127.0.0.1:%d
    }
    file corefile/zones/db.companya.example companya.example
    file corefile/zones/db.companyb.example companyb.example
    file corefile/zones/db.companyc.example companyc.example
}
`, domains, nsdPort))

	conf := filepath.Join(dir, "nsd.conf")
	var zones strings.Builder
	for _, z := range []string{"companya.example", "companyb.example", "companyc.example"} {
		fmt.Fprintf(&zones, "zone:\n    name: %s\n    zonefile: %s.zone\n    request-xfr: 127.0.0.1@%d NOKEY\n    allow-notify: 127.0.0.1 NOKEY\n", z, z, s.port)
	}
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`server:
    ip-address: 127.0.0.1@%d
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: %q
    database: ""
    pidfile: %q
    xfrdfile: %q
    zonelistfile: %q
    logfile: %q
    verbosity: 2
remote-control:
    control-enable: no
%s`, nsdPort, dir, filepath.Join(dir, "nsd.pid"), filepath.Join(dir, "xfrd.state"), filepath.Join(dir, "zone.list"),
		filepath.Join(dir, "nsd.log"), zones.String())), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, nsd, "-d", "-c", conf)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "nsd.log"))
			t.Logf("NSD's log:\n%s", log)
		}
	})

	// The secondary serves a zone once it has transferred it.
	secondary := func(args ...string) reply { return dig(t, "127.0.0.1", nsdPort, args...) }
	eventually(t, "NSD transfers the three zones", func() bool {
		for _, z := range []string{"companya.example", "companyb.example", "companyc.example"} {
			// NSD may not be listening yet.
			if r, err := tryDig("127.0.0.1", nsdPort, z, "SOA"); err != nil || r.status != "NOERROR" || !r.flags["aa"] {
				return false
			}
		}
		return true
	})

	same := func(q string) {
		t.Helper()
		primary, second := s.dig(t, "127.0.0.1", strings.Fields(q)...), secondary(strings.Fields(q)...)
		if primary.status != second.status || !slices.Equal(slices.Sorted(slices.Values(primary.answer)), slices.Sorted(slices.Values(second.answer))) {
			t.Errorf("%s: the secondary answers\n%s\nthe primary\n%s", q, second.raw, primary.raw)
		}
	}
	for _, q := range []string{
		"companyb.example SOA",
		"_autodiscover._tcp.companyb.example SRV",
		"_tcp.companyb.example SRV",
		"autodiscover.companyb.example A",
		"mail.companyb.example A",
		"companyb.example A",
		"companyb.example MX",
		"companyb.example TXT",
		"www.companyb.example A",
		"_imaps._tcp.companyb.example SRV",
		"webmail.companya.example A",
		"autodiscover.companya.example A",
		"_autodiscover._tcp.companya.example SRV",
		"autodiscover.companyc.example A", // companyc is not listed yet: its wildcard answers
		"_autodiscover._tcp.companyc.example SRV",
	} {
		same(q)
	}

	// companyc.example joins the list: NOTIFY, and the secondary has the SRV record and
	// no address for autodiscover.companyc.example, the wildcard notwithstanding.
	before := secondary("companyc.example", "SOA").answer
	writeAtomic(t, domains, "companyb.example\ncompanyc.example\n")
	eventually(t, "the secondary gets companyc's SRV record", func() bool {
		return len(secondary("_autodiscover._tcp.companyc.example", "SRV").answer) == 1
	})
	if after := secondary("companyc.example", "SOA").answer; slices.Equal(before, after) {
		t.Errorf("companyc.example's serial did not move: %v", after)
	}
	same("_autodiscover._tcp.companyc.example SRV")
	same("shop.companyc.example A")
	same("companyc.example SOA")
	if r := secondary("autodiscover.companyc.example", "A"); r.status != "NOERROR" || len(r.answer) != 0 {
		t.Errorf("the secondary answers autodiscover.companyc.example A with\n%s", r.raw)
	}
	if !strings.Contains(s.output.String(), "Loaded 3 mail domains") {
		t.Errorf("the server did not log the reload:\n%s", s.output)
	}
}

// writeAtomic writes a file the way the plugin's manual asks: elsewhere, then renamed into place.
func writeAtomic(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond for up to 20 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

// TestTransferHorizon: a zone transfer is answered in the requester's horizon.
func TestTransferHorizon(t *testing.T) {
	t.Parallel()
	s := start(t, "test/testdata/Corefile.transfer")
	for client, want := range map[string]string{"127.0.0.1": "203.0.113.10", "127.0.0.2": "192.168.1.10"} {
		r := s.dig(t, "127.0.0.1", "-b", client, "companya.example", "AXFR")
		found := false // dig prints a transfer without sections
		for _, rr := range strings.Split(r.raw, "\n") {
			if strings.HasPrefix(rr, "webmail.companya.example.") {
				if fields := strings.Fields(rr); fields[len(fields)-1] != want {
					t.Errorf("AXFR from %s: %s, want the address %s", client, rr, want)
				}
				found = true
			}
		}
		if !found {
			t.Errorf("AXFR from %s has no webmail record:\n%s", client, r.raw)
		}
	}
	// A transfer over UDP is refused, as *transfer* does.
	if r := s.dig(t, "127.0.0.1", "+notcp", "companya.example", "IXFR=1"); r.status == "NOERROR" && len(r.answer) > 1 {
		t.Errorf("IXFR over UDP answered with the zone:\n%s", r.raw)
	}
}
