package autodiscover

import (
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"
)

func TestSOACache(t *testing.T) {
	var c soaCache
	t0 := time.Now()
	soa := test.SOA("companyb.example. 3600 IN SOA ns1.companya.example. hostmaster.companya.example. 2 7200 1800 1209600 300")
	c.put("companyb.example.", soa, t0)
	c.put("companyd.example.", nil, t0)
	if got, ok := c.get("companyb.example.", t0.Add(500*time.Millisecond)); !ok || got != soa {
		t.Errorf("within the second: %v, %v", got, ok)
	}
	if got, ok := c.get("companyd.example.", t0); !ok || got != nil {
		t.Errorf("a domain without a backend: %v, %v; want remembered as nil", got, ok)
	}
	if _, ok := c.get("companyb.example.", t0.Add(1500*time.Millisecond)); ok {
		t.Error("still cached after a second: a reloaded zone's SOA would not be seen")
	}
	for i := range soaCacheSize + 1 {
		c.put(string(rune('a'+i%26))+time.Duration(i).String()+".example.", nil, t0)
	}
	if len(c.m) > soaCacheSize {
		t.Errorf("%d entries, want at most %d", len(c.m), soaCacheSize)
	}
}

func TestSerialFor(t *testing.T) {
	s1, changed := serialFor("test-block", 1)
	if changed {
		t.Error("a first configuration reported as changed")
	}
	if s2, changed := serialFor("test-block", 1); s2 != s1 || changed {
		t.Errorf("the same configuration: serial %d (was %d), changed %v", s2, s1, changed)
	}
	s3, changed := serialFor("test-block", 2)
	if !changed || !newer(s3, s1) {
		t.Errorf("a new configuration: serial %d after %d, changed %v; want newer and changed", s3, s1, changed)
	}
}
