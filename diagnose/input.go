package diagnose

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/miekg/dns"
)

// ParseInput turns an e-mail address or a domain into the domain Outlook starts from, canonical and fully
// qualified. Outlook takes everything after the last @.
func ParseInput(input string) (string, error) {
	s := strings.TrimSpace(input)
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSuffix(s, ".")
	if s == "" || strings.ContainsAny(s, " \t/:") {
		return "", fmt.Errorf("%q: not an e-mail address or domain", input)
	}
	if _, ok := dns.IsDomainName(s); !ok || dns.CountLabel(s) < 2 {
		return "", fmt.Errorf("%q: not an e-mail address or domain", input)
	}
	return dns.CanonicalName(s), nil
}

// ReadInputs reads one address or domain per line; blank lines and everything after # are ignored.
func ReadInputs(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}
