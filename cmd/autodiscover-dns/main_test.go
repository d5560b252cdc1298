package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/coredns/coredns/core/dnsserver"
)

func TestDirectiveOrder(t *testing.T) {
	saved := slices.Clone(dnsserver.Directives)
	defer func() { dnsserver.Directives = saved }()

	if err := insertDirective(); err != nil {
		t.Fatal(err)
	}
	at := slices.Index(dnsserver.Directives, "autodiscover")
	if at < 0 {
		t.Fatal("autodiscover is not a directive")
	}
	// Filters that decide whether a query is served, and plugins that answer or sign first.
	for _, before := range []string{"acl", "cache", "dnssec", "template"} {
		if i := slices.Index(dnsserver.Directives, before); i < 0 || i > at {
			t.Errorf("%s is at %d, want it before autodiscover at %d", before, i, at)
		}
	}
	// *transfer*, which it hands a transfer's zone, and backends whose records it must be able to hide.
	for _, after := range []string{"transfer", "dynupdate", "hosts", "route53", "azure", "clouddns", "kubernetes", "file", "auto", "secondary", "etcd", "forward", "grpc", "erratic", "whoami"} {
		if i := slices.Index(dnsserver.Directives, after); i < at {
			t.Errorf("%s is at %d, want it after autodiscover at %d", after, i, at)
		}
	}
	if n := len(dnsserver.Directives) - len(saved); n != 1 {
		t.Errorf("inserted %d directives, want 1", n)
	}
}

func TestMissingAnchor(t *testing.T) {
	saved := slices.Clone(dnsserver.Directives)
	defer func() { dnsserver.Directives = saved }()

	dnsserver.Directives = slices.DeleteFunc(dnsserver.Directives, func(d string) bool { return d == anchor })
	if err := insertDirective(); err == nil {
		t.Fatal("want an error when the anchor directive is missing")
	}
}

func TestServerBlocks(t *testing.T) {
	corefile := "# comment {\na.example {\n    whoami\n}\n\nb.example:1053 {\n    log {\n        class all\n    }\n}\n"
	blocks := serverBlocks(corefile)
	if len(blocks) != 2 {
		t.Fatalf("%d blocks, want 2: %q", len(blocks), blocks)
	}
	if want := "\na.example {\n    whoami\n}\n"; blocks[0] != want {
		t.Errorf("first block %q, want %q", blocks[0], want)
	}
	if !strings.HasPrefix(blocks[1], "\n\n\n\n\nb.example:1053 {") || !strings.HasSuffix(blocks[1], "    }\n}\n") {
		t.Errorf("second block %q does not keep its lines", blocks[1])
	}
	if blocks := serverBlocks("(common) {\n    log\n}\na.example {\n    import common\n}\n"); blocks != nil {
		t.Errorf("a Corefile with snippets was split: %q", blocks)
	}
}
