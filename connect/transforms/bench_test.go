package transforms_test

import (
	"testing"

	"github.com/tributary-io/tributary/connect/transforms"
)

// BenchmarkRouteAndFilter is the README's chain on one access-log line that
// is kept: RegexRouter, then Filter tested with ValueMatches.
func BenchmarkRouteAndFilter(b *testing.B) {
	c, _ := parse(b, `transforms=route,drophealth
transforms.route.type=RegexRouter
transforms.route.regex=access(.*)
transforms.route.replacement=web-access$1
transforms.drophealth.type=Filter
transforms.drophealth.predicate=health
predicates=health
predicates.health.type=ValueMatches
predicates.health.pattern="GET /health `)
	line := []byte(`192.0.2.39 - - [12/Mar/2026:14:02:12 +0000] "PUT /index.html HTTP/1.1" 304 - "https://duckduckgo.com/" "Mozilla/5.0 (compatible; bingbot/2.0)"`)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		r := transforms.Record{Topic: "access", Value: line}
		if keep, err := c.Apply(&r); !keep || err != nil || r.Topic != "web-access" {
			b.Fatal(keep, err, r.Topic)
		}
	}
}
