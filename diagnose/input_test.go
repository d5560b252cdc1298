package diagnose

import (
	"slices"
	"strings"
	"testing"
)

func TestParseInput(t *testing.T) {
	tests := []struct {
		input, want string
		ok          bool
	}{
		{"user@companyb.example", "companyb.example.", true},
		{"First.Last@CompanyB.Example", "companyb.example.", true},
		{"companyb.example.", "companyb.example.", true},
		{" companyc.example ", "companyc.example.", true},
		{"\"odd@name\"@companyb.example", "companyb.example.", true},
		{"localhost", "", false},
		{"user@", "", false},
		{"https://companyb.example", "", false},
		{"not a domain", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, err := ParseInput(tc.input)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseInput(%q) = %q, %v; want %q, ok %t", tc.input, got, err, tc.want, tc.ok)
		}
	}
}

func TestReadInputs(t *testing.T) {
	in := "# hosted domains\nuser@companyb.example\n\n  companyc.example  # the new one\n#companyd.example\n"
	got, err := ReadInputs(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"user@companyb.example", "companyc.example"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
