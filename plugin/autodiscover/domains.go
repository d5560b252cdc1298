package autodiscover

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// listing is the set of listed mail domains at one moment. It is never changed: a reload of
// the domains file builds a new one and swaps it in whole, so a query sees one or the other.
type listing struct {
	// domains maps each listed domain to the time (Unix seconds) it has been listed since,
	// 0 for the Corefile's own; a zone transfer's serial moves on when it changes.
	domains map[string]uint32
	file    fileVersion // the version of the domains file it holds
}

// fileVersion tells one version of a file from another without reading it.
type fileVersion struct {
	inode uint64
	size  int64
	mtime time.Time
}

func versionOf(fi os.FileInfo) fileVersion {
	v := fileVersion{size: fi.Size(), mtime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		v.inode = st.Ino
	}
	return v
}

// domainOf returns the longest listed mail domain that is name or one of its ancestors, or "".
// The cost is one map lookup per label, whatever the number of domains.
func (l *listing) domainOf(name string) string {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if _, ok := l.domains[name[off:]]; ok {
			return name[off:]
		}
	}
	return ""
}

// inlineListing lists the Corefile's domains only.
func (a *Autodiscover) inlineListing() *listing {
	l := &listing{domains: make(map[string]uint32, len(a.inline))}
	for d := range a.inline {
		l.domains[d] = 0
	}
	return l
}

// readDomains reads the domains file into a new listing on top of the Corefile's domains.
// The file has one domain per line; '#' starts a comment. Any bad line rejects the whole
// file, with its name and line in the error, so a half-written file is never served.
func (a *Autodiscover) readDomains(prev *listing) (*listing, error) {
	before, err := os.Stat(a.file)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(a.file)
	if err != nil {
		return nil, err
	}
	after, err := os.Stat(a.file)
	if err != nil {
		return nil, err
	}
	if versionOf(before) != versionOf(after) {
		return nil, fmt.Errorf("%s: changed while being read; write it elsewhere and rename it into place", a.file)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return nil, fmt.Errorf("%s: the last line does not end in a newline: an unfinished write? Write the file elsewhere and rename it into place", a.file)
	}

	since := uint32(after.ModTime().Unix())
	l := &listing{domains: make(map[string]uint32, len(a.inline)+bytes.Count(data, []byte{'\n'})), file: versionOf(after)}
	maps.Copy(l.domains, a.inlineListing().domains)
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(string(line))
		switch len(fields) {
		case 0:
			continue
		case 1:
		default:
			return nil, fmt.Errorf("%s:%d: %q: one domain per line", a.file, n, strings.TrimSpace(string(line)))
		}
		d, err := a.mailDomain(fields[0])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", a.file, n, err)
		}
		if _, dup := l.domains[d]; dup {
			return nil, fmt.Errorf("%s:%d: mail domain %q is listed twice", a.file, n, fields[0])
		}
		l.domains[d] = since
		if t, ok := prev.domains[d]; ok && t != 0 {
			l.domains[d] = t // listed before: its zones have not changed
		}
	}
	if d, c := a.classifyIn(l, a.target); a.hosts[a.target] == "" && c != none && c != other && c != apex && c != hostENT {
		return nil, fmt.Errorf("%s: mail domain %q would hide the SRV target %q", a.file, d, a.target)
	}
	return l, nil
}

// refresh reloads the domains file when it has changed. A file that cannot be used leaves
// the previous domains serving; the error is logged once and counted every time.
func (a *Autodiscover) refresh() {
	prev := a.listed.Load()
	fi, err := os.Stat(a.file)
	if err == nil && versionOf(fi) == prev.file {
		return
	}
	var l *listing
	if err == nil {
		l, err = a.readDomains(prev)
	}
	if err != nil {
		domainsFailures.WithLabelValues(a.file).Inc()
		if msg := err.Error(); msg != a.lastErr {
			a.lastErr = msg
			log.Errorf("Keeping the %d domains loaded before: %v", len(prev.domains), err)
		}
		return
	}
	a.lastErr = ""
	a.listed.Store(l)
	domainsListed.WithLabelValues(a.file).Set(float64(len(l.domains)))
	log.Infof("Loaded %d mail domains from %s", len(l.domains), a.file)
	a.notify(changed(prev, l))
}

// changed returns the domains whose zones differ between two listings: added or removed.
func changed(prev, next *listing) []string {
	var zones []string
	for d := range next.domains {
		if _, ok := prev.domains[d]; !ok {
			zones = append(zones, d)
		}
	}
	for d := range prev.domains {
		if _, ok := next.domains[d]; !ok {
			zones = append(zones, d)
		}
	}
	return zones
}

// watch re-reads the domains file every a.reload until stop is closed.
func (a *Autodiscover) watch(stop <-chan struct{}) {
	tick := time.NewTicker(a.reload)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			a.refresh()
		}
	}
}
