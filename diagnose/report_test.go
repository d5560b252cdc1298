package diagnose

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestWriteText(t *testing.T) {
	t.Parallel()
	broken := checkScenario(t, "autodiscover-cname", "user@companyb.example", nil)
	fixed := checkScenario(t, "fixed", "user@companyb.example", nil)
	hidden := checkScenario(t, "wildcard-hidden", "user@companyb.example", nil)
	tests := []struct {
		name    string
		results []Result
		colour  bool
		want    []string
		absent  []string
	}{
		{"broken", []Result{broken}, false, []string{
			"user@companyb.example (companyb.example) via ",
			"  step 2  https://autodiscover.companyb.example/Autodiscover/Autodiscover.xml\n",
			"autodiscover.companyb.example. A NOERROR [aa]: autodiscover.companyb.example. 3600 IN CNAME autodiscover.companya.example.",
			"-> certificate warning: name-mismatch\n",
			"(not reached by Outlook)",
			"prediction: WARNING certificate warning at step 2",
			"ERROR   autodiscover-cname (step 2)",
			"publish _autodiscover._tcp.companyb.example. 3600 IN SRV 0 0 443 autodiscover.companya.example.\n",
			"remove  autodiscover.companyb.example. 3600 IN CNAME autodiscover.companya.example.\n",
			"        target autodiscover.companya.example\n",
		}, []string{"\x1b["}},
		{"fixed", []Result{fixed}, false, []string{
			"prediction: REDIRECT-PROMPT redirect prompt at step 4",
			"    [" + RedirectServersKey + "]\n    \"autodiscover.companya.example\"=hex:\n",
		}, []string{"fix:", "\x1b["}},
		// A wildcard the server keeps from autodiscover.companyb.example is worth knowing, not fixing.
		{"wildcard hidden", []Result{hidden}, false, []string{
			"    INFO    wildcard-record (step 2): *.companyb.example answers for any name (",
			"), but not for autodiscover.companyb.example\n",
		}, []string{"fix:", "Corefile", "    ERROR ", "    WARNING "}},
		{"colour", []Result{broken}, true, []string{"\x1b[31;1mWARNING\x1b[0m", "\x1b[31mERROR"}, nil},
		{"two fixes share a Corefile", []Result{broken, broken}, false, []string{"Corefile for all 2 domains:"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			WriteText(&b, tc.results, tc.colour)
			out := b.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(out, a) {
					t.Errorf("output has %q:\n%s", a, out)
				}
			}
		})
	}
}

// The JSON document is what scripts and the end-to-end tests read: check the names they use.
func TestWriteJSON(t *testing.T) {
	t.Parallel()
	results := []Result{
		checkScenario(t, "wildcard", "user@companyb.example", nil),
		checkScenario(t, "fixed", "companyb.example", nil),
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, results); err != nil {
		t.Fatal(err)
	}
	var doc []struct {
		Input  string `json:"input"`
		Domain string `json:"domain"`
		Steps  []struct {
			Step   int    `json:"step"`
			Status string `json:"status"`
			DNS    []struct {
				Rcode string `json:"rcode"`
				AA    *bool  `json:"aa"`
				SOA   *bool  `json:"soa"`
			} `json:"dns"`
			TLS *struct {
				Names      []string `json:"names"`
				CoversName bool     `json:"covers_name"`
			} `json:"tls"`
		} `json:"steps"`
		Findings []struct {
			ID       string `json:"id"`
			Severity string `json:"severity"`
			Reason   string `json:"reason"`
		} `json:"findings"`
		Prediction struct {
			Outcome        string `json:"outcome"`
			Step           int    `json:"step"`
			RedirectServer string `json:"redirect_server"`
			Registry       string `json:"registry"`
		} `json:"prediction"`
		Fix *struct {
			Publish  []string `json:"publish"`
			Remove   []string `json:"remove"`
			Corefile string   `json:"corefile"`
		} `json:"fix"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(doc) != 2 || doc[0].Input != "user@companyb.example" || doc[1].Input != "companyb.example" {
		t.Fatalf("inputs out of order: %+v", doc)
	}
	w := doc[0]
	if w.Prediction.Outcome != OutcomeWarning || w.Prediction.Step != 2 || len(w.Steps) != 4 {
		t.Errorf("wildcard prediction %+v", w.Prediction)
	}
	if w.Steps[1].TLS == nil || w.Steps[1].TLS.CoversName || len(w.Steps[1].TLS.Names) == 0 {
		t.Errorf("step 2 tls %+v", w.Steps[1].TLS)
	}
	if q := w.Steps[1].DNS[0]; q.Rcode != "NOERROR" || q.AA == nil || !*q.AA || q.SOA == nil {
		t.Errorf("step 2 dns %+v", q)
	}
	if len(w.Findings) == 0 || w.Findings[0].ID != IDWildcard || w.Findings[0].Severity != "error" || w.Findings[0].Reason == "" {
		t.Errorf("findings %+v", w.Findings)
	}
	if w.Fix == nil || len(w.Fix.Publish) != 1 || len(w.Fix.Remove) != 1 || !strings.Contains(w.Fix.Corefile, "autodiscover {") {
		t.Errorf("fix %+v", w.Fix)
	}
	f := doc[1]
	if f.Prediction.Outcome != OutcomeRedirect || f.Prediction.RedirectServer != "autodiscover.companya.example" ||
		f.Prediction.Registry == "" || f.Fix != nil {
		t.Errorf("fixed %+v", f)
	}
	b.Reset()
	if err := WriteJSON(&b, nil); err != nil || b.String() != "[]\n" {
		t.Errorf("no results: %q, %v", b.String(), err)
	}
}
