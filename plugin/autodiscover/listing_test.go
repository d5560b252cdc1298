package autodiscover

import (
	"hash/maphash"
	"maps"
	"testing"
)

func TestListing(t *testing.T) {
	b := newBuilder(0, 0)
	for d, since := range map[string]uint32{"companyb.example.": 0, "sub.companyb.example.": 7, "companyd.example.": 9} {
		if !b.add(d, since) {
			t.Fatalf("%s refused", d)
		}
	}
	if b.add("companyd.example.", 1) {
		t.Error("a domain added twice")
	}
	l := b.listing(fileVersion{})

	for name, want := range map[string]string{
		"_autodiscover._tcp.companyb.example.": "companyb.example.",
		"x.sub.companyb.example.":              "sub.companyb.example.",
		"companyd.example.":                    "companyd.example.",
		"companyc.example.":                    "",
		"example.":                             "",
		".":                                    "",
	} {
		if got := l.domainOf(name); got != want {
			t.Errorf("domainOf(%q) = %q, want %q", name, got, want)
		}
	}
	if since, ok := l.since("sub.companyb.example."); !ok || since != 7 {
		t.Errorf("since = %d, %v", since, ok)
	}
	if got := maps.Collect(l.all()); len(got) != 3 || got["companyd.example."] != 9 || l.len() != 3 {
		t.Errorf("all = %v, len %d", got, l.len())
	}
}

// TestListingClash: two domains with one hash are both found, and a third is not.
func TestListingClash(t *testing.T) {
	b := newBuilder(0, 0)
	b.add("companyb.example.", 1)
	// Make companyc's hash lead to companyb's entry, as a real collision would.
	b.l.index[maphash.String(b.l.seed, "companyc.example.")] = 0
	if !b.add("companyc.example.", 2) || b.add("companyc.example.", 3) {
		t.Fatal("the clashing domain was refused, or added twice")
	}
	l := b.listing(fileVersion{})
	for d, want := range map[string]uint32{"companyb.example.": 1, "companyc.example.": 2} {
		if since, ok := l.since(d); !ok || since != want {
			t.Errorf("since(%s) = %d, %v; want %d", d, since, ok, want)
		}
	}
	if _, ok := l.find("companyd.example."); ok {
		t.Error("an unlisted domain found")
	}
}
