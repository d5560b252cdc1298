package autodiscover

// Ready implements the ready.Readiness interface: ready once the configuration serves.
func (a *Autodiscover) Ready() bool { return a.loaded.Load() }
