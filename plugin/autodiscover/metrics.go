package autodiscover

import (
	"github.com/coredns/coredns/plugin"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// answerCount counts the answers the plugin gave or changed. The zone label is the server
// block's zone, never the mail domain: a provider lists far too many of those for a label.
var answerCount = promauto.NewCounterVec(prometheus.CounterOpts{
	Namespace: plugin.Namespace,
	Subsystem: name,
	Name:      "answers_total",
	Help:      "Counter of answers given or changed by the autodiscover plugin, by kind and client horizon.",
}, []string{"server", "view", "zone", "kind", "horizon"})

// domainsListed is the number of mail domains listed after the last load of a domains file.
var domainsListed = promauto.NewGaugeVec(prometheus.GaugeOpts{
	Namespace: plugin.Namespace,
	Subsystem: name,
	Name:      "domains",
	Help:      "Gauge of the mail domains listed, the Corefile's and the domains file's, after its last successful load.",
}, []string{"file"})

// domainsFailures counts the loads of a domains file that were refused, leaving the
// previous domains serving.
var domainsFailures = promauto.NewCounterVec(prometheus.CounterOpts{
	Namespace: plugin.Namespace,
	Subsystem: name,
	Name:      "domains_failures_total",
	Help:      "Counter of domains file loads refused for a bad line, a partial write or a missing file.",
}, []string{"file"})
