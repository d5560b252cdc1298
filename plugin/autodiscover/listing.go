package autodiscover

import (
	"hash/maphash"
	"iter"

	"github.com/miekg/dns"
)

// listing is the set of listed mail domains at one moment. It is never changed: a reload of
// the domains file builds a new one and swaps it in whole, so a query sees one or the other.
//
// A provider lists a million domains. Held in a map of strings, they would be a million
// pointers for the garbage collector to follow on every cycle, under load; here they are
// one string, a slice of offsets and a map of hashes, none of which it needs to look into.
type listing struct {
	seed    maphash.Seed
	names   string            // the domains, lower case and fully qualified, one after another
	entries []entry           // one per domain
	index   map[uint64]uint32 // the hash of a domain -> its entry
	clashes map[string]uint32 // the few domains whose hash an earlier one has -> their entry
	file    fileVersion       // the version of the domains file it holds
}

type entry struct {
	off, end uint32
	// since is when the domain was listed (Unix seconds), 0 for the Corefile's own: a
	// zone transfer's serial moves on when it changes.
	since uint32
}

func newListing(capacity int) *listing {
	return &listing{seed: maphash.MakeSeed(), entries: make([]entry, 0, capacity), index: make(map[uint64]uint32, capacity)}
}

// find returns the entry of domain d.
func (l *listing) find(d string) (uint32, bool) {
	if i, ok := l.index[maphash.String(l.seed, d)]; ok && l.name(i) == d {
		return i, true
	}
	i, ok := l.clashes[d]
	return i, ok
}

func (l *listing) name(i uint32) string { return l.names[l.entries[i].off:l.entries[i].end] }

// since returns when domain d was listed, and whether it is.
func (l *listing) since(d string) (uint32, bool) {
	i, ok := l.find(d)
	if !ok {
		return 0, false
	}
	return l.entries[i].since, true
}

func (l *listing) len() int { return len(l.entries) }

// all yields every domain and when it was listed.
func (l *listing) all() iter.Seq2[string, uint32] {
	return func(yield func(string, uint32) bool) {
		for i, e := range l.entries {
			if !yield(l.name(uint32(i)), e.since) {
				return
			}
		}
	}
}

// domainOf returns the longest listed mail domain that is name or one of its ancestors, or "".
// The cost is one hash and map lookup per label, whatever the number of domains.
func (l *listing) domainOf(name string) string {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if _, ok := l.find(name[off:]); ok {
			return name[off:]
		}
	}
	return ""
}

// builder makes a listing; the names are gathered in one buffer and become one string.
type builder struct {
	l     *listing
	names []byte
}

func newBuilder(capacity, size int) *builder {
	return &builder{l: newListing(capacity), names: make([]byte, 0, size)}
}

// add lists domain d, canonical, since a time; it reports false when d is listed already.
func (b *builder) add(d string, since uint32) bool {
	h := maphash.String(b.l.seed, d)
	i, clash := b.l.index[h]
	if clash && string(b.names[b.l.entries[i].off:b.l.entries[i].end]) == d {
		return false
	}
	if _, dup := b.l.clashes[d]; dup {
		return false
	}
	n := uint32(len(b.l.entries))
	b.l.entries = append(b.l.entries, entry{off: uint32(len(b.names)), end: uint32(len(b.names) + len(d)), since: since})
	b.names = append(b.names, d...)
	if !clash {
		b.l.index[h] = n
		return true
	}
	if b.l.clashes == nil {
		b.l.clashes = map[string]uint32{}
	}
	b.l.clashes[d] = n
	return true
}

func (b *builder) listing(file fileVersion) *listing {
	b.l.names = string(b.names)
	b.l.file = file
	return b.l
}
