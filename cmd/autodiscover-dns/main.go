// Command autodiscover-dns is CoreDNS with its standard plugins and the autodiscover plugin.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // CoreDNS's standard plugins.
	"github.com/coredns/coredns/coremain"

	_ "github.com/autodiscover-dns/autodiscover/plugin/autodiscover"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0"

// anchor is the directive autodiscover goes in front of: *transfer*, so that it sees a zone
// transfer's requester and hands *transfer* the zone in that secondary's horizon; and so
// before every backend (dynupdate, hosts, file, auto, secondary, etcd, forward, ...), whose
// records it must be able to hide. It stays after acl and cache; view is a filter that
// chooses the server block before any plugin runs.
const anchor = "transfer"

func main() {
	if err := insertDirective(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	caddy.AppName = "autodiscover-dns"
	caddy.AppVersion = version
	if flag.Parse(); *validate {
		os.Exit(validateCorefile(os.Stdout, os.Stderr))
	}
	coremain.Run()
}

func insertDirective() error {
	i := slices.Index(dnsserver.Directives, anchor)
	if i < 0 {
		return fmt.Errorf("directive %q is not in this CoreDNS: cannot place autodiscover in the plugin chain", anchor)
	}
	dnsserver.Directives = slices.Insert(dnsserver.Directives, i, "autodiscover")
	return nil
}
