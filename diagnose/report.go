package diagnose

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes all results as one JSON array, in input order.
func WriteJSON(w io.Writer, results []Result) error {
	if results == nil {
		results = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

// painter adds ANSI colours when the output is a terminal and NO_COLOR is unset.
type painter bool

func (p painter) paint(code, s string) string {
	if !p {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p painter) outcome(o string) string {
	label := strings.ToUpper(o)
	switch o {
	case OutcomeSuccess:
		return p.paint("32;1", label)
	case OutcomeRedirect, OutcomeUnverified:
		return p.paint("33;1", label)
	}
	return p.paint("31;1", label)
}

func (p painter) severity(s Severity) string {
	label := fmt.Sprintf("%-7s", strings.ToUpper(string(s)))
	switch s {
	case SeverityError:
		return p.paint("31", label)
	case SeverityWarning:
		return p.paint("33", label)
	}
	return p.paint("2", label)
}

// WriteText writes the results for a person; colour adds ANSI escapes.
func WriteText(w io.Writer, results []Result, colour bool) {
	p := painter(colour)
	var fixes []*Fix
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		writeResult(w, r, p)
		if r.Fix != nil {
			fixes = append(fixes, r.Fix)
		}
	}
	if len(fixes) > 1 {
		fmt.Fprintf(w, "\nCorefile for all %d domains:\n%s", len(fixes), indent(Corefile(fixes), "  "))
	}
}

func writeResult(w io.Writer, r Result, p painter) {
	source := ""
	if r.Source != "" {
		source = ", source " + r.Source
	}
	fmt.Fprintf(w, "%s (%s) via %s, %s horizon%s\n", p.paint("1", r.Input), hostname(r.Domain), r.Server, r.Horizon, source)
	for _, s := range r.Steps {
		reached := ""
		if r.Prediction.Step != 0 && s.Number > r.Prediction.Step {
			reached = " (not reached by Outlook)"
		}
		fmt.Fprintf(w, "  step %d  %s%s\n", s.Number, stepTitle(s), reached)
		if s.Number == 3 {
			fmt.Fprintln(w, "          DNS as step 2")
		} else {
			for _, q := range s.DNS {
				fmt.Fprintf(w, "          %s\n", queryLine(q))
			}
		}
		if t := s.TLS; t != nil {
			for _, f := range t.Failures {
				fmt.Fprintf(w, "          tls %s\n", f)
			}
			if t.Connected {
				fmt.Fprintf(w, "          tls %s: names %s; issuer %s; trusted %t\n", t.Address, strings.Join(t.Names, ", "), t.Issuer, t.Trusted)
			}
		}
		if h := s.HTTP; h != nil {
			for _, f := range h.Failures {
				fmt.Fprintf(w, "          http %s\n", f)
			}
			if h.Connected {
				fmt.Fprintf(w, "          http %s: status %d %s\n", h.Address, h.StatusCode, h.Location)
			}
		}
		note := s.Note
		if note == "" {
			note = s.Status
		}
		fmt.Fprintf(w, "          -> %s\n", note)
	}
	fmt.Fprintf(w, "  prediction: %s %s\n", p.outcome(r.Prediction.Outcome), r.Prediction.Summary)
	if r.Prediction.Registry != "" {
		fmt.Fprintf(w, "  pre-approve the redirect (.reg):\n%s", indent(r.Prediction.Registry, "    "))
	}
	if len(r.Findings) > 0 {
		fmt.Fprintln(w, "  findings:")
	}
	for _, f := range r.Findings {
		step := ""
		if f.Step != 0 {
			step = fmt.Sprintf(" (step %d)", f.Step)
		}
		msg := strings.ReplaceAll(f.Message, "\n", "\n                  ")
		fmt.Fprintf(w, "    %s %s%s: %s\n", p.severity(f.Severity), f.ID, step, msg)
		fmt.Fprintf(w, "            why: %s\n", f.Reason)
	}
	if fx := r.Fix; fx != nil {
		fmt.Fprintln(w, "  fix:")
		for _, rr := range fx.Publish {
			fmt.Fprintf(w, "    publish %s\n", rr)
		}
		for _, rr := range fx.Remove {
			fmt.Fprintf(w, "    remove  %s\n", rr)
		}
		for _, n := range fx.Notes {
			fmt.Fprintf(w, "    note    %s\n", n)
		}
		fmt.Fprintf(w, "    Corefile:\n%s", indent(fx.Corefile, "      "))
	}
}

func stepTitle(s Step) string {
	if s.URL == "" {
		return "SRV " + s.Name
	}
	if s.Number == 4 {
		return "SRV " + s.DNS[0].Name + " -> " + s.URL
	}
	return s.URL
}

// queryLine reads like a condensed dig answer.
func queryLine(q Query) string {
	if q.Error != "" {
		return fmt.Sprintf("%s %s: no answer (%s)", q.Name, q.Type, q.Error)
	}
	var flags []string
	if q.Authoritative {
		flags = append(flags, "aa")
	}
	if q.negative() {
		if q.SOA {
			flags = append(flags, "soa")
		} else {
			flags = append(flags, "no soa")
		}
	}
	line := fmt.Sprintf("%s %s %s", q.Name, q.Type, q.Rcode)
	if len(flags) > 0 {
		line += " [" + strings.Join(flags, " ") + "]"
	}
	if len(q.Answer) > 0 {
		line += ": " + strings.Join(q.Answer, " | ")
	}
	return line
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}
