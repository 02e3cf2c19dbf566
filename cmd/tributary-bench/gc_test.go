package main

import (
	"strings"
	"testing"
)

// The lines cmd/tributary's worker logs when it sets its own defaults.
const (
	workerSetsBoth  = `time=2026-12-04T17:15:35.863Z level=INFO msg="Go runtime for the worker and its bundled broker: soft memory limit 72 MiB, GC at 200% heap growth (GOMEMLIMIT and GOGC override them)"`
	workerSetsGOGC  = `time=2026-12-04T17:15:41.886Z level=INFO msg="Go runtime for the worker and its bundled broker: GC at 200% heap growth (GOMEMLIMIT and GOGC override them)"`
	workerSetsLimit = `time=2026-12-04T17:15:40.886Z level=INFO msg="Go runtime for the worker and its bundled broker: soft memory limit 72 MiB (GOMEMLIMIT and GOGC override them)"`
)

func env(kv ...string) envLookup {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestWorkerSettings(t *testing.T) {
	for _, c := range []struct {
		name string
		log  string
		env  envLookup
		want string
	}{
		{"worker defaults", "starting\n" + workerSetsBoth + "\nrunning\n", env(),
			"GOGC=200 (worker default), GOMEMLIMIT=72MiB (worker default)"},
		{"GOGC from the environment", workerSetsLimit, env("GOGC", "150"),
			"GOGC=150 (environment), GOMEMLIMIT=72MiB (worker default)"},
		{"both from the environment: the worker says nothing", "running\n", env("GOGC", "off", "GOMEMLIMIT", "1GiB"),
			"GOGC=off (environment), GOMEMLIMIT=1GiB (environment)"},
		{"a worker that does not log its settings runs on Go's", "running\n", env(),
			"GOGC=100 (Go default), GOMEMLIMIT=off (Go default)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, s := range workerSettings(c.log, c.env) {
				got = append(got, s.String())
			}
			if g := strings.Join(got, ", "); g != c.want {
				t.Errorf("got %q, want %q", g, c.want)
			}
		})
	}
}

func TestGCReport(t *testing.T) {
	got := gcReport(workerSetsGOGC, env("GOMEMLIMIT", "500MiB"))
	for _, want := range []string{
		"- connect-standalone (the worker and its bundled broker, one process): GOGC=200 (worker default), GOMEMLIMIT=500MiB (environment)\n",
		"- tributary broker, producer-perf-test, consumer-perf-test, console-consumer: GOGC=100 (Go default), GOMEMLIMIT=500MiB (environment)\n",
		"- tributary-bench, which hosts kfake (in-memory, same process): GOGC=100 (Go default), GOMEMLIMIT=500MiB (environment)\n",
		"- kcat: C (librdkafka), no garbage collector",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if got := gcReport("", env()); !strings.Contains(got, "connect-standalone (the worker and its bundled broker, one process): unknown (no worker ran)") {
		t.Errorf("with no worker:\n%s", got)
	}
}
