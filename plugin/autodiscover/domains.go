package autodiscover

import (
	"bytes"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

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

// builder starts a listing with the Corefile's domains, room for capacity more, and size
// bytes of their names.
func (a *Autodiscover) builder(capacity, size int) *builder {
	b := newBuilder(len(a.inline)+capacity, size)
	for d := range a.inline {
		b.add(d, 0)
	}
	return b
}

// inlineListing lists the Corefile's domains only.
func (a *Autodiscover) inlineListing() *listing { return a.builder(0, 0).listing(fileVersion{}) }

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
	b := a.builder(bytes.Count(data, []byte{'\n'}), len(data))
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
		t := since
		if before, ok := prev.since(d); ok && before != 0 {
			t = before // listed before: its zones have not changed
		}
		if !b.add(d, t) {
			return nil, fmt.Errorf("%s:%d: mail domain %q is listed twice", a.file, n, fields[0])
		}
	}
	l := b.listing(versionOf(after))
	if l.len() > 100000 {
		// Reading a long list leaves its size in garbage; give it back now rather than
		// carry it until the heap has grown into it.
		defer debug.FreeOSMemory()
	}
	if d, c := a.classifyIn(l, a.target); c.whole() {
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
			log.Errorf("Keeping the %d domains loaded before: %v", prev.len(), err)
		}
		return
	}
	a.lastErr = ""
	a.listed.Store(l)
	domainsListed.WithLabelValues(a.file).Set(float64(l.len()))
	log.Infof("Loaded %d mail domains from %s", l.len(), a.file)
	a.notify(changed(prev, l))
}

// changed returns the domains whose zones differ between two listings: added or removed.
func changed(prev, next *listing) []string {
	var zones []string
	for d := range next.all() {
		if _, ok := prev.find(d); !ok {
			zones = append(zones, d)
		}
	}
	for d := range prev.all() {
		if _, ok := next.find(d); !ok {
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
