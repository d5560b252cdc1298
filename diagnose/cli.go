package diagnose

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Exit statuses of autodiscover-check.
const (
	ExitOK      = 0 // no input predicts a warning or failure
	ExitProblem = 1 // some input predicts a certificate warning or failure
	ExitUsage   = 2 // bad flags or inputs
)

// environment is what the command touches outside its arguments; tests replace it.
type environment struct {
	stdout, stderr io.Writer
	colour         bool // ANSI colours on stdout
	progress       bool // progress on stderr
	resolvConf     string
	remap          func(netip.AddrPort) netip.AddrPort
}

// Main runs autodiscover-check with the arguments after the program name and returns the exit status.
func Main(args []string) int {
	return run(args, environment{
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		colour:     colourWanted(isTerminal(os.Stdout), os.Getenv("NO_COLOR")),
		progress:   isTerminal(os.Stderr),
		resolvConf: "/etc/resolv.conf",
	})
}

// colourWanted follows https://no-color.org: any non-empty NO_COLOR turns colour off.
func colourWanted(terminal bool, noColor string) bool { return terminal && noColor == "" }

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const usage = `usage: autodiscover-check [flags] ADDRESS|DOMAIN...
       autodiscover-check [flags] -f FILE

Replays the Autodiscover lookup of an outside Outlook for each e-mail address or domain against one
nameserver and predicts what the user sees. Exit status: 0 no warning predicted, 1 a warning or failure
predicted for some input, 2 usage error.

`

func run(args []string, env environment) int {
	fs := flag.NewFlagSet("autodiscover-check", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprint(env.stderr, usage)
		fs.PrintDefaults()
	}
	server := fs.String("server", "", "nameserver `ADDR[:PORT]` to ask (port 53 by default); default: the first nameserver in /etc/resolv.conf")
	source := fs.String("source", "", "local `IP` address of every query and connection; the server picks the horizon from it")
	internal := fs.Bool("internal", false, "label the report as the internal horizon: run it from inside or with -source set to an internal address")
	file := fs.String("f", "", "read addresses or domains from `FILE`, one per line, # starts a comment")
	dnsOnly := fs.Bool("dns-only", false, "predict from DNS alone: open no TLS or HTTP connection")
	caFile := fs.String("ca", "", "verify certificates against the PEM bundle in `FILE` instead of the system roots")
	timeout := fs.Duration("timeout", 5*time.Second, "limit for each DNS query, connection and TLS handshake")
	asJSON := fs.Bool("json", false, "write one JSON document (an array of results) instead of text")
	parallel := fs.Int("parallel", 8, "check up to `N` inputs at once")
	target := fs.String("target", "", "SRV target `HOST` for the suggested fix (default: the domain's SRV target, or a mail name on a certificate accepted on the way)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return ExitOK
		}
		return ExitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(env.stderr, "autodiscover-check: "+format+"\n", a...)
		return ExitUsage
	}

	inputs := fs.Args()
	if *file != "" {
		fromFile, err := readInputFile(*file)
		if err != nil {
			return usageErr("%v", err)
		}
		inputs = append(inputs, fromFile...)
	}
	if len(inputs) == 0 {
		fs.Usage()
		return ExitUsage
	}
	for _, in := range inputs {
		if _, err := ParseInput(in); err != nil {
			return usageErr("%v", err)
		}
	}
	if *parallel < 1 {
		return usageErr("-parallel must be at least 1")
	}
	if *timeout <= 0 {
		return usageErr("-timeout must be positive")
	}
	cfg := Config{Internal: *internal, DNSOnly: *dnsOnly, Timeout: *timeout, remap: env.remap}
	if *target != "" {
		if _, ok := dns.IsDomainName(*target); !ok {
			return usageErr("-target %q: not a host name", *target)
		}
		cfg.Target = *target
	}
	if *source != "" {
		ip, err := netip.ParseAddr(*source)
		if err != nil {
			return usageErr("-source %q: not an IP address", *source)
		}
		cfg.Source = ip
	}
	if *caFile != "" {
		roots, err := LoadRoots(*caFile)
		if err != nil {
			return usageErr("-ca: %v", err)
		}
		cfg.Roots = roots
	}
	var err error
	if *server != "" {
		cfg.Server, err = serverAddress(*server)
		cfg.Authoritative = true
	} else {
		cfg.Server, err = systemServer(env.resolvConf)
	}
	if err != nil {
		return usageErr("%v", err)
	}

	results := checkAll(context.Background(), cfg, inputs, *parallel, env)
	if *asJSON {
		if err := WriteJSON(env.stdout, results); err != nil {
			fmt.Fprintf(env.stderr, "autodiscover-check: %v\n", err)
			return ExitProblem
		}
	} else {
		WriteText(env.stdout, results, env.colour)
	}
	return exitStatus(results)
}

// exitStatus is 1 as soon as one input predicts a warning or failure.
func exitStatus(results []Result) int {
	for _, r := range results {
		if r.Failed() {
			return ExitProblem
		}
	}
	return ExitOK
}

func readInputFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadInputs(f)
}

// serverAddress adds port 53 when none is given: "192.0.2.1", "[2001:db8::1]", "2001:db8::1", "ns:5353".
func serverAddress(s string) (string, error) {
	if host, port, err := net.SplitHostPort(s); err == nil {
		if host == "" || port == "" {
			return "", fmt.Errorf("-server %q: missing host or port", s)
		}
		return s, nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if host == "" {
		return "", fmt.Errorf("-server %q: missing host", s)
	}
	return net.JoinHostPort(host, "53"), nil
}

// systemServer is the first nameserver of resolv.conf, which is what a client on this host asks.
func systemServer(path string) (string, error) {
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return "", fmt.Errorf("no -server and %v", err)
	}
	if len(cc.Servers) == 0 {
		return "", fmt.Errorf("no -server and no nameserver in %s", path)
	}
	return net.JoinHostPort(cc.Servers[0], cc.Port), nil
}

// checkAll checks up to parallel inputs at once and returns the results in input order.
func checkAll(ctx context.Context, cfg Config, inputs []string, parallel int, env environment) []Result {
	results := make([]Result, len(inputs))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i, in := range inputs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i], _ = Check(ctx, cfg, in) // inputs were parsed before
			if env.progress {
				mu.Lock()
				done++
				fmt.Fprintf(env.stderr, "\rautodiscover-check: %d/%d checked", done, len(inputs))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if env.progress {
		fmt.Fprint(env.stderr, "\r\x1b[K")
	}
	return results
}
