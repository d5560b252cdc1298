package diagnose

import (
	"fmt"
	"strings"
)

// Outcomes of the lookup, as the user experiences them.
const (
	OutcomeSuccess    = "success"         // no dialog at all
	OutcomeWarning    = "warning"         // the certificate warning; declining it ends the lookup
	OutcomeRedirect   = "redirect-prompt" // "allow this website to configure server settings?"
	OutcomeFailure    = "failure"         // Outlook finds nothing
	OutcomeUnverified = "unverified"      // -dns-only: a step would be tried, its certificate was not checked
)

// RedirectServersKey is where an administrator pre-approves redirect targets so Outlook does not ask.
const RedirectServersKey = `HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\AutoDiscover\RedirectServers`

// Prediction is where Outlook stops and what the user sees there.
type Prediction struct {
	Outcome string `json:"outcome"`
	Step    int    `json:"step,omitempty"`
	Name    string `json:"name,omitempty"`
	// Problems are the certificate problems behind a warning.
	Problems []string `json:"problems,omitempty"`
	Summary  string   `json:"summary"`
	// RedirectServer and Registry are set for a redirect prompt: the host to pre-approve and how.
	RedirectServer string `json:"redirect_server,omitempty"`
	Registry       string `json:"registry,omitempty"`
}

// predict stops at the first step whose name resolves and whose server answers, as Outlook does; steps
// whose connection fails are skipped, which is also what Outlook does.
func predict(steps []Step, dnsOnly bool) Prediction {
	domain := steps[0].Name
	for _, s := range steps {
		p := Prediction{Step: s.Number, Name: s.Name}
		switch s.Status {
		case StatusNotResolved, StatusConnectionFailed, StatusNoRedirect, StatusNotTried:
			continue
		case StatusNotChecked:
			p.Outcome = OutcomeUnverified
			p.Summary = fmt.Sprintf("step %d would be tried (%s): certificate not checked (-dns-only)", s.Number, s.URL)
			if s.Number == 4 && !inDomain(s.Name, domain) {
				p.Summary += "; the target is in another domain, so Outlook asks before using it"
			}
			return p
		case StatusCertificateBad:
			p.Outcome = OutcomeWarning
			p.Problems = s.TLS.Problems
			p.Summary = fmt.Sprintf("certificate warning at step %d (%s): %s", s.Number, s.URL, describeProblems(s))
			return p
		case StatusCertificateValid:
			if s.Number == 4 && !inDomain(s.Name, domain) {
				return redirectPrompt(p, s.Name, fmt.Sprintf("redirect prompt at step 4: SRV target %s is outside %s; "+
					"the certificate is valid", hostname(s.Name), hostname(domain)))
			}
			p.Outcome = OutcomeSuccess
			p.Summary = fmt.Sprintf("silent success at step %d (%s): certificate valid for %s "+
				"(the Autodiscover response itself is not checked)", s.Number, s.URL, hostname(s.Name))
			return p
		case StatusRedirect:
			return redirectPrompt(p, s.HTTP.redirectHost(), fmt.Sprintf("redirect prompt at step 3: %s redirects to %s",
				s.URL, s.HTTP.Location))
		}
	}
	p := Prediction{Outcome: OutcomeFailure, Summary: "failure: no step reaches an Autodiscover server"}
	if dnsOnly {
		p.Summary = "failure: no step resolves"
	}
	return p
}

func redirectPrompt(p Prediction, host, summary string) Prediction {
	p.Outcome = OutcomeRedirect
	p.Summary = summary
	p.RedirectServer = hostname(host)
	p.Registry = registryValue(host)
	return p
}

// registryValue is the .reg text that pre-approves host: an empty REG_BINARY value named after the host
// under RedirectServers (Outlook only looks at the value's name).
func registryValue(host string) string {
	return fmt.Sprintf("[%s]\n\"%s\"=hex:", RedirectServersKey, hostname(host))
}

func describeProblems(s Step) string {
	var why []string
	for _, p := range s.TLS.Problems {
		switch p {
		case ProblemNameMismatch:
			why = append(why, fmt.Sprintf("name mismatch: the certificate names %s, not %s",
				strings.Join(s.TLS.Names, ", "), hostname(s.Name)))
		case ProblemUnknownAuthority:
			why = append(why, "unknown authority: issued by "+s.TLS.Issuer)
		case ProblemExpired:
			why = append(why, "expired or not yet valid: not after "+s.TLS.NotAfter.UTC().Format("2006-01-02"))
		default:
			why = append(why, "invalid certificate chain")
		}
	}
	return strings.Join(why, "; ")
}
