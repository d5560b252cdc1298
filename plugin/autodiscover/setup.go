package autodiscover

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	clog "github.com/coredns/coredns/plugin/pkg/log"
	"github.com/coredns/coredns/plugin/transfer"

	"github.com/miekg/dns"
)

const name = "autodiscover"

var log = clog.NewWithPlugin(name)

func init() { plugin.Register(name, setup) }

func setup(c *caddy.Controller) error {
	a, err := parse(c)
	if err != nil {
		return plugin.Error(name, err)
	}

	config := dnsserver.GetConfig(c)
	// The chain only exists once every directive of the block is set up, so
	// plugins that would defeat the horizon can only be spotted at start-up.
	// The error is made now so that it names this directive's line.
	leak := errAt(c, a.line, "internal and external answers differ, but *cache* in this server block keys answers "+
		"without the client's network and would hand one horizon's answer to the other: remove cache, "+
		"or serve each horizon from its own server block with *view*")
	c.OnStartup(func() error { return a.start(config, leak) })
	c.OnShutdown(a.shutdown)

	config.AddPlugin(func(next plugin.Handler) plugin.Handler {
		a.Next = next
		return a
	})
	return nil
}

// start runs when the server block starts, on every reload too: it checks the chain, loads the
// domains file, starts watching it, and finds the plugins that zone transfers need.
func (a *Autodiscover) start(config *dnsserver.Config, leak error) error {
	if a.horizons() && config.Handler("cache") != nil {
		return plugin.Error(name, leak)
	}
	if a.file != "" {
		l, err := a.readDomains(a.listed.Load())
		if err != nil {
			return plugin.Error(name, err)
		}
		a.listed.Store(l)
		domainsListed.WithLabelValues(a.file).Set(float64(l.len()))
		if a.reload > 0 {
			a.stop = make(chan struct{})
			go a.watch(a.stop)
		}
	}
	// Zone transfers of listed domains go through *transfer*, with this plugin as their
	// source and the plugins after it as the source of the backend's records.
	a.xfer, _ = config.Handler("transfer").(*transfer.Transfer)
	after := false
	for _, h := range config.Handlers() {
		if tr, ok := h.(transfer.Transferer); ok && after {
			a.backends = append(a.backends, tr)
		}
		after = after || h == plugin.Handler(a)
	}
	a.loaded.Store(true)
	// A reload that changed the configuration changed every listed zone.
	if a.changed {
		var zones []string
		for d := range a.listed.Load().all() {
			zones = append(zones, d)
		}
		a.notify(zones)
	}
	return nil
}

func (a *Autodiscover) shutdown() error {
	if a.stop != nil {
		close(a.stop)
		a.stop = nil
	}
	return nil
}

// parse reads one autodiscover block. Every error names the Corefile line.
func parse(c *caddy.Controller) (*Autodiscover, error) {
	a := &Autodiscover{
		inline: map[string]struct{}{},
		hosts:  map[string]string{},
		ents:   map[string]struct{}{},
		port:   443,
		ttl:    3600,
		reload: 5 * time.Second,
	}

	blocks := 0
	for c.Next() {
		if blocks++; blocks > 1 {
			return nil, plugin.ErrOnce
		}
		a.zones = plugin.OriginsFromArgsOrServerBlock(nil, c.ServerBlockKeys)
		a.line = c.Line()
		args := c.RemainingArgs()
		var hosts, apexes []string
		lines := map[string]int{} // property -> its Corefile line, for the cross-field checks
		for c.NextBlock() {
			var err error
			lines[c.Val()] = c.Line()
			switch c.Val() {
			case "target":
				err = a.parseTarget(c)
			case "priority":
				a.priority, err = uint16Arg(c)
			case "weight":
				a.weight, err = uint16Arg(c)
			case "ttl":
				a.ttl, err = ttlArg(c)
			case "hosts":
				hosts, err = hostArgs(c)
			case "ns":
				a.ns, err = hostArgs(c)
			case "external":
				a.external, err = addrArgs(c)
			case "internal":
				a.internal, err = addrArgs(c)
			case "internal_networks":
				a.networks, err = prefixArgs(c)
			case "hide_apex":
				apexes = c.RemainingArgs()
				a.hideApex = true
			case "domains":
				err = a.parseDomainsFile(c)
			case "reload":
				a.reload, err = durationArg(c)
			default:
				return nil, c.Errf("unknown property %q", c.Val())
			}
			if err != nil {
				return nil, err
			}
		}
		at := func(property string) int {
			if line, ok := lines[property]; ok {
				return line
			}
			return a.line
		}
		// Without a list, the server block's zones are the mail domains; a domains file
		// is a list.
		if len(args) == 0 && a.file == "" {
			args = a.zones
		}
		for _, d := range args {
			if err := a.addDomain(c, d); err != nil {
				return nil, err
			}
		}
		a.listed.Store(a.inlineListing())
		if err := a.check(c, at, hosts); err != nil {
			return nil, err
		}
		if err := a.hideApexes(c, at("hide_apex"), apexes); err != nil {
			return nil, err
		}
	}
	if blocks == 0 {
		return nil, c.Err("no autodiscover directive")
	}
	if len(a.ns) == 0 {
		a.ns = []string{a.target}
	}
	a.serial, a.changed = serialFor(strings.Join(c.ServerBlockKeys, " "), a.fingerprint())
	a.srv = dns.SRV{
		Hdr:      dns.RR_Header{Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: a.ttl},
		Priority: a.priority,
		Weight:   a.weight,
		Port:     a.port,
		Target:   a.target,
	}
	a.addrs[external] = addressRecords(a.external, a.ttl)
	a.addrs[internal] = a.addrs[external]
	if len(a.internal) > 0 {
		a.addrs[internal] = addressRecords(a.internal, a.ttl)
	}
	return a, nil
}

func (a *Autodiscover) addDomain(c *caddy.Controller, arg string) error {
	d, err := a.mailDomain(arg)
	if err == nil {
		if _, dup := a.inline[d]; dup {
			err = fmt.Errorf("mail domain %q is listed twice", arg)
		}
	}
	if err != nil {
		return errAt(c, a.line, "%v", err)
	}
	a.inline[d] = struct{}{}
	return nil
}

// mailDomain returns arg as a canonical mail domain, or why it cannot be one.
func (a *Autodiscover) mailDomain(arg string) (string, error) {
	d := dns.CanonicalName(arg)
	if _, ok := dns.IsDomainName(d); !ok || d == "." {
		return "", fmt.Errorf("mail domain %q is not a domain name below the root", arg)
	}
	if a.zoneOf(d) == "" {
		return "", fmt.Errorf("mail domain %q is outside this server block's zones %v", arg, a.zones)
	}
	return d, nil
}

func (a *Autodiscover) parseDomainsFile(c *caddy.Controller) error {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return c.ArgErr()
	}
	a.file = args[0]
	// Relative paths start at the *root* plugin's directory, as for *file*.
	if root := dnsserver.GetConfig(c).Root; !filepath.IsAbs(a.file) && root != "" {
		a.file = filepath.Join(root, a.file)
	}
	return nil
}

func durationArg(c *caddy.Controller) (time.Duration, error) {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return 0, c.ArgErr()
	}
	d, err := time.ParseDuration(args[0])
	if err != nil || d < 0 || d > 0 && d < time.Second {
		return 0, c.Errf("reload %q is not 0 or a duration of at least 1s, such as 5s or 1m", args[0])
	}
	return d, nil
}

func (a *Autodiscover) parseTarget(c *caddy.Controller) error {
	args := c.RemainingArgs()
	if len(args) < 1 || len(args) > 2 {
		return c.ArgErr()
	}
	host, err := hostName(c, args[0])
	if err != nil {
		return err
	}
	a.target = host
	if len(args) == 2 {
		port, err := strconv.ParseUint(args[1], 10, 16)
		if err != nil || port == 0 {
			return c.Errf("target port %q is not a number from 1 to 65535", args[1])
		}
		a.port = uint16(port)
	}
	return nil
}

// check makes the cross-field checks that no single line can; at gives the line of a property.
func (a *Autodiscover) check(c *caddy.Controller, at func(string) int, hosts []string) error {
	if a.target == "" {
		return errAt(c, at(""), "missing 'target': the SRV target, a name on the mail server's certificate")
	}
	if len(a.internal) > 0 && len(a.networks) == 0 {
		return errAt(c, at("internal"), "'internal' addresses without 'internal_networks': no client would receive them")
	}
	if len(a.networks) > 0 && len(a.internal) == 0 {
		return errAt(c, at("internal_networks"), "'internal_networks' without 'internal' addresses: internal clients would get nothing different")
	}

	addressed := len(a.external)+len(a.internal) > 0
	if len(hosts) > 0 && !addressed {
		return errAt(c, at("hosts"), "'hosts' without 'external' or 'internal' addresses to answer them with")
	}
	if !addressed {
		if d, class := a.classify(a.target); class.whole() {
			return errAt(c, at("target"), "target %q would be hidden by this plugin in mail domain %q: give its addresses with 'external'/'internal'", a.target, d)
		}
		return nil
	}
	// The target is always answered with the addresses; so is every extra host.
	for i, h := range append([]string{a.target}, hosts...) {
		line := at("hosts")
		if i == 0 {
			line = at("target")
		}
		d := a.domainOf(h)
		if d == "" {
			return errAt(c, line, "%q is outside the listed mail domains, so its addresses cannot be served from here: list its domain", h)
		}
		if h == d {
			return errAt(c, line, "%q is a listed mail domain's apex: give its addresses in the zone, not as a certificate host", h)
		}
		if _, class := a.classify(h); class.whole() && class != suppressed {
			return errAt(c, line, "%q is a name this plugin synthesizes and cannot also be a host", h)
		}
		a.hosts[h] = d
		// The names between the zone and the host exist as empty non-terminals (RFC 8020).
		for off, end := dns.NextLabel(h, 0); !end && h[off:] != d; off, end = dns.NextLabel(h, off) {
			a.ents[h[off:]] = struct{}{}
		}
	}
	return nil
}

// errAt is c.Errf for a line other than the current one, in the same format.
func errAt(c *caddy.Controller, line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d - Error during parsing: %s", c.File(), line, fmt.Sprintf(format, args...))
}

// hideApexes limits hide_apex to the domains it lists, when it lists any.
func (a *Autodiscover) hideApexes(c *caddy.Controller, line int, apexes []string) error {
	for _, arg := range apexes {
		d := dns.CanonicalName(arg)
		if _, ok := a.inline[d]; !ok {
			return errAt(c, line, "hide_apex: %q is not a mail domain listed in the Corefile", arg)
		}
		if a.apexes == nil {
			a.apexes = map[string]struct{}{}
		}
		a.apexes[d] = struct{}{}
	}
	return nil
}

func uint16Arg(c *caddy.Controller) (uint16, error) {
	property := c.Val()
	args := c.RemainingArgs()
	if len(args) != 1 {
		return 0, c.ArgErr()
	}
	v, err := strconv.ParseUint(args[0], 10, 16)
	if err != nil {
		return 0, c.Errf("%s %q is not a number from 0 to 65535", property, args[0])
	}
	return uint16(v), nil
}

func ttlArg(c *caddy.Controller) (uint32, error) {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return 0, c.ArgErr()
	}
	// RFC 2181 section 8: a TTL is an unsigned 31-bit value.
	v, err := strconv.ParseUint(args[0], 10, 31)
	if err != nil {
		return 0, c.Errf("ttl %q is not a number of seconds from 0 to 2147483647", args[0])
	}
	return uint32(v), nil
}

func hostArgs(c *caddy.Controller) ([]string, error) {
	args := c.RemainingArgs()
	if len(args) == 0 {
		return nil, c.ArgErr()
	}
	names := make([]string, len(args))
	for i, arg := range args {
		h, err := hostName(c, arg)
		if err != nil {
			return nil, err
		}
		names[i] = h
	}
	return names, nil
}

// hostName accepts a host name as RFC 952 and RFC 1123 define it (letters, digits, hyphens),
// which an SRV target must be (RFC 2782), and returns it canonical.
func hostName(c *caddy.Controller, arg string) (string, error) {
	h := dns.CanonicalName(arg)
	if _, err := netip.ParseAddr(strings.TrimSuffix(arg, ".")); err == nil {
		return "", c.Errf("%q is an address, not a host name", arg)
	}
	if _, ok := dns.IsDomainName(h); !ok || h == "." {
		return "", c.Errf("%q is not a host name", arg)
	}
	for _, label := range dns.SplitDomainName(h) {
		if !isLDH(label) {
			return "", c.Errf("%q is not a host name: label %q may hold only letters, digits and inner hyphens", arg, label)
		}
	}
	return h, nil
}

func isLDH(label string) bool {
	if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
		return false
	}
	for i := 0; i < len(label); i++ {
		b := label[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-') {
			return false
		}
	}
	return true
}

func addrArgs(c *caddy.Controller) ([]netip.Addr, error) {
	args := c.RemainingArgs()
	if len(args) == 0 {
		return nil, c.ArgErr()
	}
	addrs := make([]netip.Addr, len(args))
	for i, arg := range args {
		ip, err := netip.ParseAddr(arg)
		if err != nil || ip.Zone() != "" {
			return nil, c.Errf("%s address %q is not an IPv4 or IPv6 address", c.Val(), arg)
		}
		addrs[i] = ip.Unmap()
	}
	return addrs, nil
}

func prefixArgs(c *caddy.Controller) ([]netip.Prefix, error) {
	args := c.RemainingArgs()
	if len(args) == 0 {
		return nil, c.ArgErr()
	}
	prefixes := make([]netip.Prefix, len(args))
	for i, arg := range args {
		p, err := netip.ParsePrefix(arg)
		if err != nil {
			ip, aerr := netip.ParseAddr(arg)
			if aerr != nil || ip.Zone() != "" {
				return nil, c.Errf("internal network %q is not a CIDR such as 10.0.0.0/8 or fd00::/8", arg)
			}
			p = netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen())
		}
		prefixes[i] = p.Masked()
	}
	return prefixes, nil
}
