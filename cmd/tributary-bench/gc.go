package main

import (
	"fmt"
	"regexp"
	"strings"
)

// gcSetting is GOGC or GOMEMLIMIT as in force for one process, and where
// the value came from.
type gcSetting struct{ name, value, from string }

func (s gcSetting) String() string { return s.name + "=" + s.value + " (" + s.from + ")" }

// envLookup is os.LookupEnv, or a table in tests.
type envLookup func(key string) (string, bool)

// goSettings are a Go process's settings when it sets none itself: the
// environment's, else Go's defaults.
func goSettings(env envLookup) []gcSetting {
	return []gcSetting{fromEnv(env, "GOGC", "100"), fromEnv(env, "GOMEMLIMIT", "off")}
}

func fromEnv(env envLookup, key, def string) gcSetting {
	if v, ok := env(key); ok {
		return gcSetting{key, v, "environment"}
	}
	return gcSetting{key, def, "Go default"}
}

// The worker with its bundled broker logs the settings it applies itself,
// those the environment leaves unset (cmd/tributary's setMemoryLimit).
var (
	workerLimitRE   = regexp.MustCompile(`Go runtime for the worker[^\n]*soft memory limit (\d+ MiB)`)
	workerPercentRE = regexp.MustCompile(`Go runtime for the worker[^\n]*GC at (\d+)% heap growth`)
)

// workerSettings reads a worker's settings from its log: what it says it
// set, else what it took from the environment or Go.
func workerSettings(log string, env envLookup) []gcSetting {
	s := goSettings(env)
	if m := workerPercentRE.FindStringSubmatch(log); m != nil {
		s[0] = gcSetting{"GOGC", m[1], "worker default"}
	}
	if m := workerLimitRE.FindStringSubmatch(log); m != nil {
		s[1] = gcSetting{"GOMEMLIMIT", strings.ReplaceAll(m[1], " ", ""), "worker default"}
	}
	return s
}

// gcReport lists the settings of every process the benchmark measures.
// workerLog is a drain worker's output ("" when none ran).
func gcReport(workerLog string, env envLookup) string {
	join := func(s []gcSetting) string {
		var out []string
		for _, x := range s {
			out = append(out, x.String())
		}
		return strings.Join(out, ", ")
	}
	worker := "unknown (no worker ran)"
	if workerLog != "" {
		worker = join(workerSettings(workerLog, env))
	}
	tools := join(goSettings(env))
	var b strings.Builder
	fmt.Fprintln(&b, "GC settings in force:")
	fmt.Fprintln(&b)
	fmt.Fprintf(&b, "- connect-standalone (the worker and its bundled broker, one process): %s\n", worker)
	fmt.Fprintf(&b, "- tributary broker, producer-perf-test, consumer-perf-test, console-consumer: %s\n", tools)
	fmt.Fprintf(&b, "- tributary-bench, which hosts kfake (in-memory, same process): %s\n", tools)
	fmt.Fprint(&b, "- kcat: C (librdkafka), no garbage collector")
	return b.String()
}
