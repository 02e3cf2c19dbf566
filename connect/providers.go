package connect

// The worker resolves the config-provider placeholders of a connector's
// configuration (${file:path:key}, see config.Providers) when it validates
// it; the connector and its tasks see only resolved values. The REST API
// shows the configuration as written, so that no secret leaves the worker
// through it.

// shownConfig is the connector's configuration as the REST API shows it:
// as written, its placeholders unresolved.
func (s *connectorSpec) shownConfig() map[string]string {
	if s.shown == nil {
		return s.props
	}
	return s.shown
}

// shownValue is what the REST API shows of a task's value v of key: the
// connector's placeholder as written when one was resolved into key (as
// Kafka's reverse transformation of task configurations does), else v.
func (s *connectorSpec) shownValue(key, v string) string {
	if w, ok := s.shown[key]; ok && w != s.props[key] {
		return w
	}
	return v
}
