package diagnose

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// runCLI runs the command as the binary would, with stdout and stderr captured and connections kept on
// loopback.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, environment{stdout: &stdout, stderr: &stderr, resolvConf: "/nonexistent", remap: testRemap})
	return code, stdout.String(), stderr.String()
}

func TestExitStatus(t *testing.T) {
	t.Parallel()
	fixed := scenarios["fixed"].start(t)
	broken := scenarios["autodiscover-cname"].start(t)
	split := scenarios["target-internal-only"].start(t)
	hidden := scenarios["wildcard-hidden"].start(t)
	inputs := filepath.Join(t.TempDir(), "inputs")
	if err := os.WriteFile(inputs, []byte("# hosted\nuser@companyb.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"fixed", []string{"-server", fixed, "-ca", fx.caFile, "user@companyb.example"}, ExitOK},
		{"fixed from a file", []string{"-server", fixed, "-ca", fx.caFile, "-f", inputs}, ExitOK},
		{"broken", []string{"-server", broken, "-ca", fx.caFile, "user@companyb.example"}, ExitProblem},
		{"one broken of two", []string{"-server", fixed, "-ca", fx.caFile, "companyb.example", "companyc.example"}, ExitProblem},
		{"system roots do not know the test CA", []string{"-server", fixed, "user@companyb.example"}, ExitProblem},
		{"target without outside address", []string{"-server", split, "-ca", fx.caFile, "companyb.example"}, ExitProblem},
		{"target with inside address", []string{"-server", split, "-ca", fx.caFile, "-internal", "-source", internalClient, "companyb.example"}, ExitOK},
		{"wildcard the server hides", []string{"-server", hidden, "-ca", fx.caFile, "companyb.example"}, ExitOK},
		{"dns-only wildcard the server hides", []string{"-server", hidden, "-dns-only", "companyb.example"}, ExitOK},
		{"dns-only fixed", []string{"-server", fixed, "-dns-only", "companyb.example"}, ExitOK},
		{"dns-only broken", []string{"-server", broken, "-dns-only", "companyb.example"}, ExitProblem},
		{"no input", []string{"-server", fixed}, ExitUsage},
		{"unknown flag", []string{"-bogus", "companyb.example"}, ExitUsage},
		{"bad domain", []string{"-server", fixed, "not a domain"}, ExitUsage},
		{"bad source", []string{"-server", fixed, "-source", "inside", "companyb.example"}, ExitUsage},
		{"missing file", []string{"-server", fixed, "-f", "/nonexistent"}, ExitUsage},
		{"missing CA", []string{"-server", fixed, "-ca", "/nonexistent", "companyb.example"}, ExitUsage},
		{"parallel 0", []string{"-server", fixed, "-parallel", "0", "companyb.example"}, ExitUsage},
		{"no server, no resolv.conf", []string{"companyb.example"}, ExitUsage},
		{"help", []string{"-h"}, ExitOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if code == ExitUsage && stdout != "" {
				t.Errorf("usage error wrote to stdout: %q", stdout)
			}
		})
	}
}

// Many inputs are checked at once but reported in input order, as one JSON document.
func TestCLIJSONOrder(t *testing.T) {
	t.Parallel()
	server := scenarios["nothing"].start(t)
	inputs := []string{"a@companyb.example", "companyc.example", "b@companyb.example", "companyd.example", "c@companyb.example"}
	args := append([]string{"-server", server, "-ca", fx.caFile, "-json", "-parallel", "3",
		"-target", "autodiscover.companya.example"}, inputs...)
	code, stdout, stderr := runCLI(t, args...)
	if code != ExitProblem {
		t.Errorf("exit %d, want %d (companyb has no SRV record, companyc and companyd are not served)", code, ExitProblem)
	}
	if stderr != "" {
		t.Errorf("stderr without a terminal: %q", stderr)
	}
	var doc []Result
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	var got []string
	for _, r := range doc {
		got = append(got, r.Input)
	}
	if !slices.Equal(got, inputs) {
		t.Errorf("order %q, want %q", got, inputs)
	}
	if doc[0].Fix == nil || doc[0].Fix.Target != "autodiscover.companya.example." {
		t.Errorf("-target not used: %+v", doc[0].Fix)
	}
	// companyc.example is not served here: nothing to build a fix on.
	if doc[1].Fix != nil {
		t.Errorf("a fix for a domain the server does not serve: %+v", doc[1].Fix)
	}
	if doc[0].Server != server || doc[0].Horizon != "external" {
		t.Errorf("server %q horizon %q", doc[0].Server, doc[0].Horizon)
	}
}

func TestCLIText(t *testing.T) {
	t.Parallel()
	server := scenarios["target-internal-only"].start(t)
	code, stdout, _ := runCLI(t, "-server", server, "-ca", fx.caFile, "-internal", "-source", internalClient, "user@companyb.example")
	if code != ExitOK {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{"internal horizon, source 127.0.0.2", "prediction: REDIRECT-PROMPT", `"autodiscover.companya.example"=hex:`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestCLIProgress(t *testing.T) {
	t.Parallel()
	server := scenarios["fixed"].start(t)
	var stdout, stderr bytes.Buffer
	env := environment{stdout: &stdout, stderr: &stderr, progress: true, remap: testRemap}
	run([]string{"-server", server, "-ca", fx.caFile, "companyb.example", "x@companyb.example"}, env)
	if !strings.Contains(stderr.String(), "2/2 checked") {
		t.Errorf("no progress on stderr: %q", stderr.String())
	}
	if strings.Contains(stdout.String(), "checked") {
		t.Errorf("progress on stdout")
	}
}

func TestServerAddress(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1:53"},
		{"127.0.0.1:5353", "127.0.0.1:5353"},
		{"::1", "[::1]:53"},
		{"[::1]", "[::1]:53"},
		{"[::1]:5353", "[::1]:5353"},
		{"ns.companyb.example", "ns.companyb.example:53"},
	}
	for _, tc := range tests {
		if got, err := serverAddress(tc.in); err != nil || got != tc.want {
			t.Errorf("serverAddress(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", ":53", "[]"} {
		if _, err := serverAddress(bad); err == nil {
			t.Errorf("serverAddress(%q) accepted", bad)
		}
	}
}

// Without -server the command asks what this host asks: the first nameserver of resolv.conf.
func TestSystemServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(path, []byte("search companya.example\nnameserver 127.0.0.53\nnameserver ::1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := systemServer(path); err != nil || got != "127.0.0.53:53" {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestColour(t *testing.T) {
	tests := []struct {
		terminal bool
		noColor  string
		want     bool
	}{
		{true, "", true},
		{true, "1", false},
		{false, "", false},
	}
	for _, tc := range tests {
		if got := colourWanted(tc.terminal, tc.noColor); got != tc.want {
			t.Errorf("terminal %t NO_COLOR %q: %t, want %t", tc.terminal, tc.noColor, got, tc.want)
		}
	}
}

// The manual's transcript is the output of the unit-test fixture; keep it honest.
func TestREADMETranscript(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "../cmd/autodiscover-check/README.md")
	port := regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)
	for _, tc := range []struct {
		scenario string
		code     int
	}{{"autodiscover-cname", ExitProblem}, {"fixed", ExitOK}} {
		server := scenarios[tc.scenario].start(t)
		code, stdout, _ := runCLI(t, "-server", server, "-ca", fx.caFile, "user@companyb.example")
		out := port.ReplaceAllString(stdout, "127.0.0.1:5300")
		want := "$ autodiscover-check -server 127.0.0.1:5300 -ca ca.pem user@companyb.example\n" + out +
			fmt.Sprintf("$ echo $?\n%d\n", code)
		if code != tc.code || !strings.Contains(readme, want) {
			t.Errorf("README.md lacks the %s transcript (exit %d):\n%s", tc.scenario, code, want)
		}
	}
}
