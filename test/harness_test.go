package test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// root is the repository, where the example Corefiles' relative paths start.
var root, _ = filepath.Abs("..")

// binary is the server, built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	if _, err := exec.LookPath("dig"); err != nil {
		fmt.Fprintln(os.Stderr, "the end-to-end tests query the server with dig: install it with "+
			"'apt-get install bind9-dnsutils', or run 'sh test/run.sh', which does")
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "autodiscover-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "autodiscover-dns")
	build := exec.Command("go", "build", "-o", binary, "./cmd/autodiscover-dns")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the server: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running autodiscover-dns.
type server struct {
	port    int
	metrics string // host:port of *prometheus*, when the Corefile has it
	ready   string // host:port of *ready*, when the Corefile has it
	output  *syncBuffer
}

// syncBuffer is a bytes.Buffer that a process can write while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freePort returns a port free on loopback for both UDP and TCP.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port on loopback")
	return 0
}

// start runs the server on corefile, a path relative to the repository, on a free port.
// The Corefile's *prometheus* and *ready* listeners are moved to free loopback ports too.
func start(t *testing.T, corefile string) *server {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, corefile))
	if err != nil {
		t.Fatal(err)
	}
	return startConfig(t, string(data))
}

// startConfig runs the server on a Corefile's text, relative paths starting at the repository.
func startConfig(t *testing.T, config string) *server {
	t.Helper()
	s := &server{port: freePort(t), output: &syncBuffer{}}
	if strings.Contains(config, "prometheus :9153") {
		s.metrics = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		config = strings.ReplaceAll(config, "prometheus :9153", "prometheus "+s.metrics)
	}
	if strings.Contains(config, "ready :8181") {
		s.ready = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		config = strings.ReplaceAll(config, "ready :8181", "ready "+s.ready)
	}
	conf := filepath.Join(t.TempDir(), "Corefile")
	if err := os.WriteFile(conf, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary, "-conf", conf, "-dns.port", fmt.Sprint(s.port))
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = s.output, s.output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("server output:\n%s", s.output)
		}
	})

	// Serving once it answers a query over TCP, which is set up after UDP.
	c := &dns.Client{Net: "tcp", Timeout: 200 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion("ready.invalid.", dns.TypeA)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("server exited: %v\n%s", err, s.output)
		default:
		}
		if _, _, err := c.Exchange(m, fmt.Sprintf("127.0.0.1:%d", s.port)); err == nil {
			return s
		}
	}
	t.Fatalf("server not answering on port %d:\n%s", s.port, s.output)
	return nil
}

// reply is what dig printed, read back into records.
type reply struct {
	status    string
	flags     map[string]bool
	answer    []string
	authority []string
	raw       string
}

var (
	statusRE = regexp.MustCompile(`status: ([A-Z]+)`)
	flagsRE  = regexp.MustCompile(`;; flags: ([a-z ]+);`)
)

// dig runs dig against the server with args such as "+tcp", "-b 127.0.0.2" and
// "name TYPE", and reads its answer.
func (s *server) dig(t *testing.T, server string, args ...string) reply {
	t.Helper()
	return dig(t, server, s.port, args...)
}

// dig asks the nameserver at server and port.
func dig(t *testing.T, server string, port int, args ...string) reply {
	t.Helper()
	r, err := tryDig(server, port, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tryDig is dig for a server that may not answer yet.
func tryDig(server string, port int, args ...string) (reply, error) {
	argv := append([]string{"@" + server, "-p", fmt.Sprint(port), "+norecurse", "+time=2", "+tries=2", "+nocookie"}, args...)
	out, err := exec.Command("dig", argv...).CombinedOutput()
	if err != nil {
		return reply{}, fmt.Errorf("dig %s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	r := reply{raw: string(out), flags: map[string]bool{}}
	if m := statusRE.FindStringSubmatch(r.raw); m != nil {
		r.status = m[1]
	}
	if m := flagsRE.FindStringSubmatch(r.raw); m != nil {
		for _, f := range strings.Fields(m[1]) {
			r.flags[f] = true
		}
	}
	var section *[]string
	for _, line := range strings.Split(r.raw, "\n") {
		switch {
		case strings.HasPrefix(line, ";; ANSWER SECTION"):
			section = &r.answer
		case strings.HasPrefix(line, ";; AUTHORITY SECTION"):
			section = &r.authority
		case strings.HasPrefix(line, ";"), strings.TrimSpace(line) == "":
			if !strings.HasPrefix(line, ";; ANSWER") && strings.HasPrefix(line, ";;") {
				section = nil
			}
		case section != nil:
			rr, err := dns.NewRR(line)
			if err != nil {
				return r, fmt.Errorf("dig printed a record that does not parse: %q: %v", line, err)
			}
			*section = append(*section, rr.String())
		}
	}
	return r, nil
}

// canonical returns records as miekg/dns prints them, for comparison with dig's.
func canonical(t *testing.T, records []string) []string {
	t.Helper()
	out := make([]string, len(records))
	for i, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("bad record in test: %q: %v", s, err)
		}
		out[i] = rr.String()
	}
	return out
}
