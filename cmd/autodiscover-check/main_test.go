package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The flags are the interface the end-to-end tests and operators' scripts use; a renamed flag fails here.
func TestBinaryFlags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "autodiscover-check")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tests := []struct {
		args []string
		code int
		want []string // on stderr
	}{
		{[]string{"-h"}, 0, []string{"-server", "-source", "-internal", "-f", "-dns-only", "-ca", "-timeout",
			"-json", "-parallel", "-target"}},
		{nil, 2, []string{"usage: autodiscover-check"}},
		{[]string{"-server", "127.0.0.1:53", "not a domain"}, 2, []string{"not an e-mail address or domain"}},
	}
	for _, tc := range tests {
		cmd := exec.Command(bin, tc.args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code {
			t.Errorf("%q: exit %d, want %d", tc.args, code, tc.code)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%q: stderr lacks %q:\n%s", tc.args, w, stderr.String())
			}
		}
	}
}
