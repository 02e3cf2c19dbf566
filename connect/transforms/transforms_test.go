package transforms_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/transforms"
)

func parse(t testing.TB, text string) (*transforms.Chain, []string) {
	t.Helper()
	p, err := config.ParseString("c.properties", text)
	if err != nil {
		t.Fatal(err)
	}
	c, unused, err := transforms.Parse(p)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c, unused
}

func parseErr(t *testing.T, text string) error {
	t.Helper()
	p, err := config.ParseString("c.properties", text)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = transforms.Parse(p)
	if err == nil {
		t.Fatalf("Parse of %q: no error", text)
	}
	return err
}

var day = time.Date(2026, 3, 7, 14, 5, 9, 123e6, time.UTC)

func TestTransforms(t *testing.T) {
	for _, tc := range []struct {
		name, conf string
		in         transforms.Record
		keep       bool
		topic      string
		headers    string // key=value,...
	}{
		{"RegexRouter full match", `transforms=r
transforms.r.type=org.apache.kafka.connect.transforms.RegexRouter
transforms.r.regex=(.*)-raw
transforms.r.replacement=$1-clean`, transforms.Record{Topic: "logs-raw"}, true, "logs-clean", ""},
		{"RegexRouter no full match keeps the topic", `transforms=r
transforms.r.type=RegexRouter
transforms.r.regex=raw
transforms.r.replacement=x`, transforms.Record{Topic: "logs-raw"}, true, "logs-raw", ""},
		{"RegexRouter Kafka's example", `transforms=r
transforms.r.type=org.apache.kafka.connect.transforms.RegexRouter
transforms.r.regex=(.*)topic(.*)
transforms.r.replacement=$1$2-modified`, transforms.Record{Topic: "mytopic-1"}, true, "my-1-modified", ""},
		{"RegexRouter $12 is group 1 then 2 with one group, named group, escape", `transforms=r
transforms.r.type=RegexRouter
transforms.r.regex=(?P<base>[a-z]+)
transforms.r.replacement=$12-${base}-\\$`, transforms.Record{Topic: "logs"}, true, "logs2-logs-$", ""},
		{"TimestampRouter defaults", `transforms=t
transforms.t.type=org.apache.kafka.connect.transforms.TimestampRouter`, transforms.Record{Topic: "logs", Timestamp: day}, true, "logs-20260307", ""},
		{"TimestampRouter formats", `transforms=t
transforms.t.type=TimestampRouter
transforms.t.topic.format=${timestamp}_${topic}
transforms.t.timestamp.format=yy.M.d'T'HH-mm-ss-SSS`, transforms.Record{Topic: "logs", Timestamp: day}, true, "26.3.7T14-05-09-123_logs", ""},
		{"Filter drops", `transforms=f
transforms.f.type=org.apache.kafka.connect.transforms.Filter`, transforms.Record{Topic: "a", Value: []byte("x")}, false, "", ""},
		{"Filter with ValueMatches drops a match", `transforms=f
transforms.f.type=Filter
transforms.f.predicate=health
predicates=health
predicates.health.type=io.tributary.connect.transforms.predicates.ValueMatches
predicates.health.pattern=GET /health`, transforms.Record{Topic: "a", Value: []byte(`1.2.3.4 - - "GET /health HTTP/1.1" 200`)}, false, "", ""},
		{"Filter with ValueMatches keeps the rest", `transforms=f
transforms.f.type=Filter
transforms.f.predicate=health
predicates=health
predicates.health.type=io.tributary.connect.transforms.predicates.ValueMatches
predicates.health.pattern=GET /health`, transforms.Record{Topic: "a", Value: []byte(`"GET /index.html HTTP/1.1" 200`)}, true, "a", ""},
		{"negate keeps only matches (include_lines)", `transforms=f
transforms.f.type=Filter
transforms.f.predicate=err
transforms.f.negate=true
predicates=err
predicates.err.type=ValueMatches
predicates.err.pattern=ERROR`, transforms.Record{Topic: "a", Value: []byte("INFO fine")}, false, "", ""},
		{"ValueMatches never matches a null", `transforms=f
transforms.f.type=Filter
transforms.f.predicate=any
predicates=any
predicates.any.type=ValueMatches
predicates.any.pattern=.*`, transforms.Record{Topic: "a"}, true, "a", ""},
		{"RecordIsTombstone", `transforms=f
transforms.f.type=Filter
transforms.f.predicate=t
predicates=t
predicates.t.type=org.apache.kafka.connect.transforms.predicates.RecordIsTombstone`, transforms.Record{Topic: "a"}, false, "", ""},
		{"RecordIsTombstone negated keeps a tombstone", `transforms=f
transforms.f.type=Filter
transforms.f.predicate=t
transforms.f.negate=true
predicates=t
predicates.t.type=RecordIsTombstone`, transforms.Record{Topic: "a"}, true, "a", ""},
		{"TopicNameMatches is a full match", `transforms=r
transforms.r.type=RegexRouter
transforms.r.regex=.*
transforms.r.replacement=routed
transforms.r.predicate=p
predicates=p
predicates.p.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches
predicates.p.pattern=log`, transforms.Record{Topic: "logs"}, true, "logs", ""},
		{"TopicNameMatches matching", `transforms=r
transforms.r.type=RegexRouter
transforms.r.regex=.*
transforms.r.replacement=routed
transforms.r.predicate=p
predicates=p
predicates.p.type=TopicNameMatches
predicates.p.pattern=log.*`, transforms.Record{Topic: "logs"}, true, "routed", ""},
		{"InsertHeader then DropHeaders, in order", `transforms=i,j,d
transforms.i.type=org.apache.kafka.connect.transforms.InsertHeader
transforms.i.header=app
transforms.i.value.literal=web
transforms.j.type=InsertHeader
transforms.j.header=tmp
transforms.j.value.literal=1
transforms.d.type=org.apache.kafka.connect.transforms.DropHeaders
transforms.d.headers=tmp,old`, transforms.Record{Topic: "a", Headers: []kgo.RecordHeader{{Key: "old", Value: []byte("o")}, {Key: "keep", Value: []byte("k")}}}, true, "a", "keep=k,app=web"},
		{"HasHeaderKey", `transforms=f
transforms.f.type=Filter
transforms.f.predicate=h
predicates=h
predicates.h.type=org.apache.kafka.connect.transforms.predicates.HasHeaderKey
predicates.h.name=skip`, transforms.Record{Topic: "a", Headers: []kgo.RecordHeader{{Key: "skip"}}}, false, "", ""},
		{"HasHeaderKey negated", `transforms=f
transforms.f.type=Filter
transforms.f.predicate=h
transforms.f.negate=true
predicates=h
predicates.h.type=HasHeaderKey
predicates.h.name=skip`, transforms.Record{Topic: "a", Headers: []kgo.RecordHeader{{Key: "skip"}}}, true, "a", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, unused := parse(t, tc.conf)
			if len(unused) > 0 {
				t.Errorf("unused keys %v", unused)
			}
			in := tc.in
			orig := append([]kgo.RecordHeader(nil), in.Headers...)
			keep, err := c.Apply(&in)
			if err != nil {
				t.Fatal(err)
			}
			if keep != tc.keep {
				t.Fatalf("keep = %v, want %v", keep, tc.keep)
			}
			if !keep {
				return
			}
			if in.Topic != tc.topic {
				t.Errorf("topic = %q, want %q", in.Topic, tc.topic)
			}
			var hs []string
			for _, h := range in.Headers {
				hs = append(hs, h.Key+"="+string(h.Value))
			}
			if got := strings.Join(hs, ","); got != tc.headers && !(tc.headers == "" && len(tc.in.Headers) > 0) {
				t.Errorf("headers = %q, want %q", got, tc.headers)
			}
			for i, h := range tc.in.Headers { // the given slice is not changed
				if h.Key != orig[i].Key {
					t.Errorf("input header %d changed to %q", i, h.Key)
				}
			}
		})
	}
}

func TestTimestampRouterNeedsATimestamp(t *testing.T) {
	c, _ := parse(t, "transforms=t\ntransforms.t.type=TimestampRouter\n")
	_, err := c.Apply(&transforms.Record{Topic: "a"})
	var se *transforms.StepError
	if !errors.As(err, &se) || se.Class != transforms.TimestampRouterClass || !strings.Contains(err.Error(), "Timestamp missing on record") {
		t.Fatalf("err = %v", err)
	}
}

func TestNoTransforms(t *testing.T) {
	c, unused := parse(t, "name=x\n")
	if c != nil || len(unused) > 0 {
		t.Fatalf("chain %v, unused %v", c, unused)
	}
	r := transforms.Record{Topic: "a"}
	if keep, err := c.Apply(&r); !keep || err != nil { // the nil chain keeps all
		t.Fatal(keep, err)
	}
	if got := c.Route("a", day); got != "a" {
		t.Fatal(got)
	}
}

func TestUnusedKeys(t *testing.T) {
	_, unused := parse(t, `transforms=r
transforms.r.type=RegexRouter
transforms.r.regex=a
transforms.r.replacement=b
transforms.r.regexx=typo
transforms.gone.type=Filter
predicates.p.pattern=x`)
	want := "predicates.p.pattern,transforms.gone.type,transforms.r.regexx"
	if got := strings.Join(unused, ","); got != want {
		t.Fatalf("unused = %s, want %s", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"transforms=a\n", `c.properties: transforms.a.type: "" is missing; set it to the class of the transformation`},
		{"transforms=a\ntransforms.a.type=com.example.Nope\n", `c.properties: transforms.a.type: "com.example.Nope" Class com.example.Nope could not be found`},
		{"transforms=a\ntransforms.a.type=RegexRouter\ntransforms.a.replacement=x\n", "c.properties: transforms.a.regex: missing required key"},
		{"transforms=a\ntransforms.a.type=RegexRouter\ntransforms.a.regex=(\ntransforms.a.replacement=x\n", `c.properties: transforms.a.regex: "(" is not a valid regular expression`},
		{"transforms=a\ntransforms.a.type=RegexRouter\ntransforms.a.regex=(a)\ntransforms.a.replacement=$2\n", `transforms.a.replacement: "$2" is not a valid replacement for transforms.a.regex: No group 2`},
		{"transforms=a\ntransforms.a.type=RegexRouter\ntransforms.a.regex=a\ntransforms.a.replacement=$x\n", `Illegal group reference`},
		{"transforms=a\ntransforms.a.type=TimestampRouter\ntransforms.a.timestamp.format=yyyyQ\n", `transforms.a.timestamp.format: "yyyyQ" is not a date format known here: Illegal pattern character 'Q'`},
		{"transforms=a\ntransforms.a.type=Filter\ntransforms.a.predicate=p\n", `c.properties: transforms.a.predicate: "p" names a predicate that is not in predicates ()`},
		{"transforms=a\ntransforms.a.type=Filter\ntransforms.a.negate=true\n", `c.properties: transforms.a.negate: "true" Config 'transforms.a.negate' was provided but there is no config 'transforms.a.predicate' defining a predicate to be negated.`},
		{"transforms=a\ntransforms.a.type=Filter\ntransforms.a.predicate=p\ntransforms.a.negate=maybe\npredicates=p\npredicates.p.type=RecordIsTombstone\n", `transforms.a.negate: "maybe" is not a boolean`},
		{"predicates=p\npredicates.p.type=TopicNameMatches\n", "c.properties: predicates.p.pattern: missing required key"},
		{"predicates=p\npredicates.p.type=ValueMatches\npredicates.p.pattern=a(?=b)\n", `predicates.p.pattern: "a(?=b)" is not a valid regular expression`},
		{"predicates=p\npredicates.p.type=HasHeaderKey\npredicates.p.name=\n", `predicates.p.name: "" `},
		{"predicates=p\npredicates.p.type=org.apache.kafka.connect.transforms.Filter\n", `predicates.p.type: "org.apache.kafka.connect.transforms.Filter" Class org.apache.kafka.connect.transforms.Filter could not be found: not a predicate`},
		{"transforms=a\ntransforms.a.type=DropHeaders\ntransforms.a.headers=\n", `transforms.a.headers: "" Empty list`},
		{"transforms=a\ntransforms.a.type=InsertHeader\ntransforms.a.header=h\n", `transforms.a.value.literal: missing required key`},
	} {
		err := parseErr(t, tc.conf)
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %s", tc.conf, err, tc.want)
		}
		var ce *config.Error
		if !errors.As(err, &ce) {
			t.Errorf("%q: %v is no *config.Error", tc.conf, err)
		}
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	err := parseErr(t, "transforms=a,b\ntransforms.a.type=Nope\ntransforms.b.type=RegexRouter\npredicates=p\npredicates.p.type=TopicNameMatches\n")
	for _, want := range []string{"transforms.a.type", "transforms.b.regex", "transforms.b.replacement", "predicates.p.pattern"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not name %s", err, want)
		}
	}
}

func TestRoute(t *testing.T) {
	c, _ := parse(t, "transforms=r\ntransforms.r.type=RegexRouter\ntransforms.r.regex=access\ntransforms.r.replacement=web-access\n")
	if got := c.Route("access", day); got != "web-access" {
		t.Fatal(got)
	}
}
