package transforms_test

import (
	"testing"
	"time"

	"github.com/tributary-io/tributary/connect/data"
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

// BenchmarkStructuredLine is the README's field-level chain on one line as
// a source gives it (a STRING): HoistField into a Struct {line}, then
// InsertField of a static host and the read time, and the JsonConverter's
// envelope of the result, as the worker writes it.
func BenchmarkStructuredLine(b *testing.B) {
	c, _ := parse(b, `transforms=wrap,host,readat
transforms.wrap.type=HoistField$Value
transforms.wrap.field=line
transforms.host.type=InsertField$Value
transforms.host.static.field=host
transforms.host.static.value=web-1
transforms.readat.type=InsertField$Value
transforms.readat.timestamp.field=read_at`)
	line := `192.0.2.39 - - [12/Mar/2026:14:02:12 +0000] "PUT /index.html HTTP/1.1" 304 - "https://duckduckgo.com/" "Mozilla/5.0 (compatible; bingbot/2.0)"`
	now := time.Now()
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	var out []byte
	for b.Loop() {
		r := transforms.Record{Topic: "access", Timestamp: now, Typed: true, ValueSchema: data.StringSchema, ValueData: line}
		if keep, err := c.Apply(&r); !keep || err != nil {
			b.Fatal(keep, err)
		}
		var err error
		if out, err = data.AppendJSON(out[:0], r.ValueSchema, r.ValueData, true); err != nil {
			b.Fatal(err)
		}
	}
}
