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
