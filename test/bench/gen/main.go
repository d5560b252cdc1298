// Command gen writes the benchmark's inputs and helps run.sh and reload.sh measure the server.
//
//	gen domains -n N -out FILE                   the listed mail domains d0000001.example ..., one per line
//	gen domains -n N -from F -out FILE           ... d<F>.example to d<F+N-1>.example instead
//	gen queries -n N -count C -seed S -out FILE  a dnsperf query file over the 3 company domains and N generated ones
//	gen port                                     a port free on 127.0.0.1 for both UDP and TCP
//	gen wait -url URL -since NS -timeout D       poll URL until it answers 200; print the milliseconds since NS
//	gen stamp                                    copy standard input to standard output, each line after
//	                                             the Unix time it arrived, in seconds with microseconds
//	gen ask -server ADDR -name NAME -type TYPE   one query over UDP; print the response code, the number of
//	                                             answer records and the TTL of the first (0 without any)
//
// The query mix, in percent of the lines:
//
//	40  _autodiscover._tcp.<random listed domain> SRV   the synthesized SRV
//	20  autodiscover.<random listed domain> A           hidden: NXDOMAIN (any listed domain but companya)
//	20  autodiscover.companya.example A                 the certificate host, answered by the plugin
//	10  companya|b|c.example MX                         passed through to the file backend, then filtered
//	10  nx<n>.<domain> A                                NXDOMAIN: half in a file zone, half in a random listed domain
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// companies have zone files (written by run.sh) and are listed in every scenario but (a).
var companies = []string{"companya.example.", "companyb.example.", "companyc.example."}

// certHost is the SRV target, a name on the mail server's certificate.
const certHost = "autodiscover.companya.example."

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "domains":
		err = domains(os.Args[2:])
	case "queries":
		err = queries(os.Args[2:])
	case "port":
		err = port()
	case "wait":
		err = wait(os.Args[2:])
	case "stamp":
		err = stamp()
	case "ask":
		err = ask(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gen domains|queries|port|wait|stamp|ask [flags]")
	os.Exit(2)
}

// generated returns the i-th generated mail domain, i from 1.
func generated(i int) string { return fmt.Sprintf("d%07d.example.", i) }

func domains(args []string) error {
	fs := flag.NewFlagSet("domains", flag.ExitOnError)
	n := fs.Int("n", 0, "number of generated domains")
	from := fs.Int("from", 1, "number of the first generated domain")
	out := fs.String("out", "", "output file")
	fs.Parse(args)
	return write(*out, func(w *bufio.Writer) {
		fmt.Fprintf(w, "# %d generated mail domains for the benchmark\n", *n)
		for i := *from; i < *from+*n; i++ {
			w.WriteString(strings.TrimSuffix(generated(i), "."))
			w.WriteByte('\n')
		}
	})
}

func queries(args []string) error {
	fs := flag.NewFlagSet("queries", flag.ExitOnError)
	n := fs.Int("n", 0, "number of generated domains listed besides the 3 companies")
	count := fs.Int("count", 1000000, "number of queries")
	seed := fs.Uint64("seed", 1, "random seed, so that runs are comparable")
	out := fs.String("out", "", "output file")
	fs.Parse(args)
	r := rand.New(rand.NewPCG(*seed, 0xa17d15c0))
	listed := func() string {
		i := r.IntN(len(companies) + *n)
		if i < len(companies) {
			return companies[i]
		}
		return generated(i - len(companies) + 1)
	}
	// hidden picks a listed domain other than companya, whose autodiscover host is the
	// certificate host and is answered, not hidden.
	hidden := func() string {
		i := 1 + r.IntN(len(companies)-1+*n)
		if i < len(companies) {
			return companies[i]
		}
		return generated(i - len(companies) + 1)
	}
	return write(*out, func(w *bufio.Writer) {
		for range *count {
			switch p := r.IntN(100); {
			case p < 40:
				fmt.Fprintf(w, "_autodiscover._tcp.%s SRV\n", listed())
			case p < 60:
				fmt.Fprintf(w, "autodiscover.%s A\n", hidden())
			case p < 80:
				fmt.Fprintf(w, "%s A\n", certHost)
			case p < 90:
				fmt.Fprintf(w, "%s MX\n", companies[r.IntN(len(companies))])
			case p < 95:
				fmt.Fprintf(w, "nx%d.%s A\n", r.IntN(1000000), companies[r.IntN(len(companies))])
			default:
				fmt.Fprintf(w, "nx%d.%s A\n", r.IntN(1000000), listed())
			}
		}
	})
}

func write(path string, fill func(*bufio.Writer)) error {
	if path == "" {
		return fmt.Errorf("missing -out")
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fill(w)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func port() error {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		p := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p))
		l.Close()
		if err == nil {
			u.Close()
			fmt.Println(p)
			return nil
		}
	}
	return fmt.Errorf("no port free for both UDP and TCP on 127.0.0.1")
}

// wait polls url every 5 ms until it answers 200 OK and prints the time since the
// process start given in nanoseconds since the epoch (date +%s%N), in milliseconds.
func wait(args []string) error {
	fs := flag.NewFlagSet("wait", flag.ExitOnError)
	url := fs.String("url", "", "URL to poll, such as http://127.0.0.1:8181/ready")
	since := fs.Int64("since", 0, "start, in nanoseconds since the epoch")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	pid := fs.Int("pid", 0, "give up when this process has exited")
	fs.Parse(args)
	start := time.Unix(0, *since)
	if *since == 0 {
		start = time.Now()
	}
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(*timeout); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if resp, err := client.Get(*url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Println(time.Since(start).Milliseconds())
				return nil
			}
		}
		if *pid > 0 {
			if _, err := os.Stat("/proc/" + strconv.Itoa(*pid)); err != nil {
				return fmt.Errorf("process %d exited before %s answered 200", *pid, *url)
			}
		}
	}
	return fmt.Errorf("%s did not answer 200 within %s", *url, *timeout)
}

// stamp copies standard input to standard output line by line, each line after the time it
// was read: reload.sh puts the server's log on a time line with dnsperf's statistics.
func stamp() error {
	in := bufio.NewReaderSize(os.Stdin, 1<<16)
	for {
		line, err := in.ReadString('\n')
		if line != "" {
			now := time.Now()
			if !strings.HasSuffix(line, "\n") {
				line += "\n"
			}
			if _, werr := fmt.Fprintf(os.Stdout, "%d.%06d %s", now.Unix(), now.Nanosecond()/1000, line); werr != nil {
				return werr
			}
		}
		if err != nil {
			return nil // io.EOF, or the writer went away
		}
	}
}

// ask sends one query and prints what reload.sh checks after the run: that the last
// configuration and domains file serve.
func ask(args []string) error {
	fs := flag.NewFlagSet("ask", flag.ExitOnError)
	server := fs.String("server", "", "address of the server, such as 127.0.0.1:53")
	name := fs.String("name", "", "query name")
	typ := fs.String("type", "A", "query type")
	timeout := fs.Duration("timeout", 2*time.Second, "give up after this long")
	fs.Parse(args)
	t, ok := dns.StringToType[strings.ToUpper(*typ)]
	if !ok || *server == "" || *name == "" {
		return fmt.Errorf("ask needs -server, -name and a known -type")
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(*name), t)
	c := &dns.Client{Net: "udp", Timeout: *timeout}
	r, _, err := c.Exchange(m, *server)
	if err != nil {
		return err
	}
	ttl := uint32(0)
	if len(r.Answer) > 0 {
		ttl = r.Answer[0].Header().Ttl
	}
	fmt.Println(dns.RcodeToString[r.Rcode], len(r.Answer), ttl)
	return nil
}
