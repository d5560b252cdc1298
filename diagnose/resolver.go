package diagnose

import (
	"context"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// Query records one question and what the nameserver answered, in the terms an operator reads in dig.
type Query struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Rcode         string   `json:"rcode,omitempty"`
	Authoritative bool     `json:"aa"`
	Answer        []string `json:"answer,omitempty"`
	// SOA is true when the authority section carries the zone's SOA (RFC 2308 negative answers).
	SOA   bool   `json:"soa"`
	Error string `json:"error,omitempty"`

	msg *dns.Msg
}

// answered reports whether the server sent a response at all.
func (q Query) answered() bool { return q.msg != nil }

// definite reports an answer that says something about the data: NOERROR or NXDOMAIN.
func (q Query) definite() bool {
	return q.msg != nil && (q.msg.Rcode == dns.RcodeSuccess || q.msg.Rcode == dns.RcodeNameError)
}

// negative reports NXDOMAIN or NODATA (NOERROR without an answer of the asked type), RFC 2308 section 1.
func (q Query) negative() bool {
	if q.msg == nil {
		return false
	}
	switch q.msg.Rcode {
	case dns.RcodeNameError:
		return true
	case dns.RcodeSuccess:
		return len(q.msg.Answer) == 0
	}
	return false
}

// resolver asks one nameserver from one source address.
type resolver struct {
	cfg Config
}

func newResolver(cfg Config) *resolver { return &resolver{cfg: cfg} }

// query asks name/qtype over UDP and retries over TCP when the answer is truncated (RFC 7766).
func (r *resolver) query(ctx context.Context, name string, qtype uint16) Query {
	q := Query{Name: name, Type: dns.TypeToString[qtype]}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	// RD is harmless to an authoritative server and needed when the system resolver is asked.
	m.RecursionDesired = true
	m.SetEdns0(1232, false)

	resp, err := r.exchange(ctx, m, "udp")
	if err == nil && resp.Truncated {
		resp, err = r.exchange(ctx, m, "tcp")
	}
	if err != nil {
		q.Error = err.Error()
		return q
	}
	q.msg = resp
	q.Rcode = dns.RcodeToString[resp.Rcode]
	q.Authoritative = resp.Authoritative
	for _, rr := range resp.Answer {
		q.Answer = append(q.Answer, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	for _, rr := range resp.Ns {
		if _, ok := rr.(*dns.SOA); ok {
			q.SOA = true
		}
	}
	return q
}

func (r *resolver) exchange(ctx context.Context, m *dns.Msg, network string) (*dns.Msg, error) {
	d := &net.Dialer{Timeout: r.cfg.Timeout}
	if r.cfg.Source.IsValid() {
		ip := net.IP(r.cfg.Source.AsSlice())
		if network == "tcp" {
			d.LocalAddr = &net.TCPAddr{IP: ip}
		} else {
			d.LocalAddr = &net.UDPAddr{IP: ip}
		}
	}
	c := &dns.Client{Net: network, Dialer: d, Timeout: r.cfg.Timeout}
	resp, _, err := c.ExchangeContext(ctx, m, r.cfg.Server)
	return resp, err
}

// maxChase bounds CNAME chains, as resolvers do; longer chains are broken for every client.
const maxChase = 8

// lookupAddresses asks A and AAAA for name and follows CNAMEs that leave the answer (an authoritative server
// only chases inside its own zones). It returns every query made and the addresses reached.
func (r *resolver) lookupAddresses(ctx context.Context, name string) ([]Query, []string) {
	var qs []Query
	var addrs []string
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		target := name
		for range maxChase {
			q := r.query(ctx, target, qtype)
			qs = append(qs, q)
			found, next := addressesAt(q.msg, target, qtype)
			addrs = append(addrs, found...)
			if len(found) > 0 || next == "" {
				break
			}
			target = next
		}
	}
	return qs, addrs
}

// addressesAt follows the CNAME chain from name inside one response. It returns the addresses of the final
// name, or, when the chain ends without them, the name to ask next.
func addressesAt(m *dns.Msg, name string, qtype uint16) ([]string, string) {
	if m == nil || m.Rcode != dns.RcodeSuccess {
		return nil, ""
	}
	owner := name
	chased := false
	for range maxChase {
		var addrs []string
		next := ""
		for _, rr := range m.Answer {
			if !strings.EqualFold(rr.Header().Name, owner) {
				continue
			}
			switch v := rr.(type) {
			case *dns.A:
				if qtype == dns.TypeA {
					addrs = append(addrs, v.A.String())
				}
			case *dns.AAAA:
				if qtype == dns.TypeAAAA {
					addrs = append(addrs, v.AAAA.String())
				}
			case *dns.CNAME:
				next = v.Target
			}
		}
		if len(addrs) > 0 {
			return addrs, ""
		}
		if next == "" {
			break
		}
		owner, chased = next, true
	}
	if chased {
		return nil, owner
	}
	return nil, ""
}

// cnameAt returns the CNAME target owned by name in the response, if any.
func cnameAt(m *dns.Msg, name string) string {
	if m == nil {
		return ""
	}
	for _, rr := range m.Answer {
		if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) {
			return c.Target
		}
	}
	return ""
}
