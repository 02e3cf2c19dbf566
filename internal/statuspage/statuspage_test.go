package statuspage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/broker/brokertest"
	"github.com/tributary-io/tributary/internal/statuspage"
)

// startBroker starts the bundled broker on a free port of 127.0.0.1 with
// its data in a temporary folder; the page reaches it over TCP.
func startBroker(t *testing.T) string {
	t.Helper()
	return brokertest.Start(t).Addr()
}

func startKfake(t *testing.T) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// clusters runs a test against the bundled broker and against kfake.
func clusters(t *testing.T, test func(t *testing.T, addr string, ours bool)) {
	t.Run("broker", func(t *testing.T) { test(t, startBroker(t), true) })
	t.Run("kfake", func(t *testing.T) { test(t, startKfake(t), false) })
}

func newClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func createTopic(t *testing.T, addr, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(newClient(t, addr)).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
}

func produce(t *testing.T, addr string, recs ...*kgo.Record) {
	t.Helper()
	cl := newClient(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// serve starts the page for the cluster at addr behind an HTTP server.
func serve(t *testing.T, addr string) string {
	t.Helper()
	page, err := statuspage.New(statuspage.Config{Brokers: []string{addr}, REST: "/", Metrics: "/metrics"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(page.Close)
	mux := http.NewServeMux()
	mux.Handle(statuspage.Path, page)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// get fetches url and decodes its JSON into v (when v is not nil); it
// returns the status code and the body.
func get(t *testing.T, url string, v any) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", url, err, body)
		}
	}
	return resp.StatusCode, string(body)
}

type topicsResp struct {
	Topics []struct {
		Name       string `json:"name"`
		Internal   bool   `json:"internal"`
		Records    int64  `json:"records"`
		SizeBytes  *int64 `json:"size_bytes"`
		Partitions []struct {
			Partition   int32  `json:"partition"`
			Leader      int32  `json:"leader"`
			StartOffset int64  `json:"start_offset"`
			EndOffset   int64  `json:"end_offset"`
			SizeBytes   *int64 `json:"size_bytes"`
		} `json:"partitions"`
	} `json:"topics"`
	SizesError string `json:"sizes_error"`
}

type messagesResp struct {
	Topic      string `json:"topic"`
	N          int    `json:"n"`
	Complete   bool   `json:"complete"`
	Partitions []struct {
		Partition   int32 `json:"partition"`
		StartOffset int64 `json:"start_offset"`
		EndOffset   int64 `json:"end_offset"`
		From        int64 `json:"from"`
	} `json:"partitions"`
	Records []struct {
		Partition int32  `json:"partition"`
		Offset    int64  `json:"offset"`
		Timestamp int64  `json:"timestamp"`
		Key       []byte `json:"key"`
		Value     []byte `json:"value"`
		Headers   []struct {
			Key   string `json:"key"`
			Value []byte `json:"value"`
		} `json:"headers"`
	} `json:"records"`
}

// TestTopics: every topic with its partitions' leaders, start and end
// offsets, and sizes where the cluster reports them.
func TestTopics(t *testing.T) {
	clusters(t, func(t *testing.T, addr string, ours bool) {
		base := serve(t, addr)
		createTopic(t, addr, "orders", 3)
		var recs []*kgo.Record
		for i := range 5 {
			recs = append(recs, &kgo.Record{Topic: "orders", Partition: 0, Value: fmt.Appendf(nil, "order %d", i)})
		}
		recs = append(recs, &kgo.Record{Topic: "orders", Partition: 2, Value: []byte("late")})
		produce(t, addr, recs...)

		var tr topicsResp
		if code, body := get(t, base+"/ui/api/topics", &tr); code != http.StatusOK {
			t.Fatalf("topics: %d %s", code, body)
		}
		var found bool
		for _, topic := range tr.Topics {
			if topic.Name != "orders" {
				continue
			}
			found = true
			if topic.Internal || topic.Records != 6 || len(topic.Partitions) != 3 {
				t.Fatalf("orders: %+v", topic)
			}
			for i, want := range []int64{5, 0, 1} {
				p := topic.Partitions[i]
				if p.Partition != int32(i) || p.StartOffset != 0 || p.EndOffset != want || p.Leader < 0 {
					t.Errorf("orders partition %d: %+v, want end offset %d", i, p, want)
				}
			}
			if ours {
				if topic.SizeBytes == nil || *topic.SizeBytes <= 0 || topic.Partitions[0].SizeBytes == nil || *topic.Partitions[0].SizeBytes <= 0 {
					t.Errorf("orders: no sizes from the bundled broker (%s): %+v", tr.SizesError, topic)
				}
			}
		}
		if !found {
			t.Fatalf("orders not listed: %+v", tr)
		}
	})
}

// TestGroups: a group's committed offsets and lag per partition, as
// kafka-consumer-groups.sh --describe gives them.
func TestGroups(t *testing.T) {
	clusters(t, func(t *testing.T, addr string, _ bool) {
		base := serve(t, addr)
		createTopic(t, addr, "clicks", 2)
		var recs []*kgo.Record
		for i := range 10 {
			recs = append(recs, &kgo.Record{Topic: "clicks", Partition: int32(i % 2), Value: []byte("c")})
		}
		produce(t, addr, recs...)
		adm := kadm.NewClient(newClient(t, addr))
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		var offs kadm.Offsets
		offs.Add(kadm.Offset{Topic: "clicks", Partition: 0, At: 2, LeaderEpoch: -1})
		offs.Add(kadm.Offset{Topic: "clicks", Partition: 1, At: 5, LeaderEpoch: -1})
		if resp, err := adm.CommitOffsets(ctx, "readers", offs); err != nil || resp.Error() != nil {
			t.Fatalf("commit: %v %v", err, resp.Error())
		}

		var gr struct {
			Groups []struct {
				Group      string `json:"group"`
				State      string `json:"state"`
				Lag        int64  `json:"lag"`
				Partitions []struct {
					Topic     string `json:"topic"`
					Partition int32  `json:"partition"`
					Committed int64  `json:"committed"`
					EndOffset int64  `json:"end_offset"`
					Lag       int64  `json:"lag"`
				} `json:"partitions"`
			} `json:"groups"`
		}
		if code, body := get(t, base+"/ui/api/groups", &gr); code != http.StatusOK {
			t.Fatalf("groups: %d %s", code, body)
		}
		if len(gr.Groups) != 1 || gr.Groups[0].Group != "readers" {
			t.Fatalf("groups: %+v", gr)
		}
		g := gr.Groups[0]
		if g.State != "Empty" || g.Lag != 3 || len(g.Partitions) != 2 {
			t.Fatalf("readers: %+v", g)
		}
		for i, want := range []struct{ committed, lag int64 }{{2, 3}, {5, 0}} {
			p := g.Partitions[i]
			if p.Topic != "clicks" || p.Partition != int32(i) || p.Committed != want.committed || p.EndOffset != 5 || p.Lag != want.lag {
				t.Errorf("readers partition %d: %+v, want committed %d lag %d", i, p, want.committed, want.lag)
			}
		}
	})
}

// TestMessages: the last n records of each partition (or of one), with
// keys, headers and values as bytes, in partition and offset order.
func TestMessages(t *testing.T) {
	clusters(t, func(t *testing.T, addr string, _ bool) {
		base := serve(t, addr)
		createTopic(t, addr, "logs", 2)
		var recs []*kgo.Record
		for i := range 30 {
			recs = append(recs, &kgo.Record{
				Topic: "logs", Partition: int32(i % 2),
				Key:     fmt.Appendf(nil, "k%d", i),
				Value:   fmt.Appendf(nil, "line %d", i),
				Headers: []kgo.RecordHeader{{Key: "file", Value: []byte("/var/log/app.log")}, {Key: "bin", Value: []byte{0, 0xff}}},
			})
		}
		recs = append(recs, &kgo.Record{Topic: "logs", Partition: 0, Value: []byte{0xde, 0xad, 0xbe, 0xef}}) // no key, binary
		produce(t, addr, recs...)

		var mr messagesResp
		if code, body := get(t, base+"/ui/api/messages?topic=logs&n=3", &mr); code != http.StatusOK {
			t.Fatalf("messages: %d %s", code, body)
		}
		if !mr.Complete || mr.N != 3 || len(mr.Partitions) != 2 || len(mr.Records) != 6 {
			t.Fatalf("messages: %+v", mr)
		}
		wantVals := []string{"line 26", "line 28", "\xde\xad\xbe\xef", "line 25", "line 27", "line 29"}
		wantOffs := []int64{13, 14, 15, 12, 13, 14}
		for i, r := range mr.Records {
			if string(r.Value) != wantVals[i] || r.Offset != wantOffs[i] || r.Partition != int32(i/3) || r.Timestamp <= 0 {
				t.Errorf("record %d: partition %d offset %d value %q, want partition %d offset %d value %q", i, r.Partition, r.Offset, r.Value, i/3, wantOffs[i], wantVals[i])
			}
		}
		last := mr.Records[2]
		if last.Key != nil || len(last.Headers) != 0 {
			t.Errorf("keyless record: key %q headers %v", last.Key, last.Headers)
		}
		first := mr.Records[0]
		if string(first.Key) != "k26" || len(first.Headers) != 2 || first.Headers[0].Key != "file" || string(first.Headers[0].Value) != "/var/log/app.log" || !bytes.Equal(first.Headers[1].Value, []byte{0, 0xff}) {
			t.Errorf("record 0: key %q headers %+v", first.Key, first.Headers)
		}

		mr = messagesResp{}
		if code, body := get(t, base+"/ui/api/messages?topic=logs&partition=1&n=500", &mr); code != http.StatusOK {
			t.Fatalf("messages of partition 1: %d %s", code, body)
		}
		if len(mr.Partitions) != 1 || mr.Partitions[0].From != 0 || len(mr.Records) != 15 || mr.Records[14].Offset != 14 {
			t.Fatalf("messages of partition 1: %d records, partitions %+v", len(mr.Records), mr.Partitions)
		}

		// An empty topic answers no records at once.
		createTopic(t, addr, "quiet", 1)
		mr = messagesResp{}
		if code, body := get(t, base+"/ui/api/messages?topic=quiet", &mr); code != http.StatusOK || len(mr.Records) != 0 || !mr.Complete || mr.N != 20 {
			t.Fatalf("empty topic: %d %s", code, body)
		}
	})
}

// TestMessagesTransactional: a partition that ends in a transaction's
// commit marker is read to its end; the marker is not shown.
func TestMessagesTransactional(t *testing.T) {
	clusters(t, func(t *testing.T, addr string, _ bool) {
		base := serve(t, addr)
		createTopic(t, addr, "txn", 1)
		cl := newClient(t, addr, kgo.TransactionalID("statuspage-test"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "txn", Value: fmt.Appendf(nil, "t%d", i)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var mr messagesResp
		if code, body := get(t, base+"/ui/api/messages?topic=txn&n=10", &mr); code != http.StatusOK {
			t.Fatalf("messages: %d %s", code, body)
		}
		if !mr.Complete || len(mr.Records) != 3 || string(mr.Records[2].Value) != "t2" || mr.Partitions[0].EndOffset != 4 {
			t.Fatalf("transactional topic: %+v", mr)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("the browse took %v: it waited for the marker instead of seeing it", d)
		}
	})
}

// TestBadRequests: each malformed or unknown input answers a JSON error
// that names what was wrong, and asks nothing of the cluster that would
// change it (an unknown topic is not created).
func TestBadRequests(t *testing.T) {
	clusters(t, func(t *testing.T, addr string, _ bool) {
		base := serve(t, addr)
		createTopic(t, addr, "known", 2)
		for _, c := range []struct {
			query string
			code  int
			msg   string
		}{
			{"", 400, "topic is missing"},
			{"topic=a/b", 400, `topic name "a/b" is illegal`},
			{"topic=..", 400, `topic name ".." is illegal`},
			{"topic=" + strings.Repeat("x", 250), 400, "250 characters is illegal"},
			{"topic=known&n=0", 400, `n "0" is not a number of records from 1 to 500`},
			{"topic=known&n=501", 400, `n "501" is not a number`},
			{"topic=known&n=lots", 400, `n "lots" is not a number`},
			{"topic=known&partition=-1", 400, `partition "-1" is not a partition number`},
			{"topic=known&partition=x", 400, `partition "x" is not a partition number`},
			{"topic=known&partition=2", 404, "topic known has no partition 2 (it has 2)"},
			{"topic=unknown", 404, "topic unknown does not exist"},
		} {
			code, body := get(t, base+"/ui/api/messages?"+c.query, nil)
			var e struct {
				ErrorCode int    `json:"error_code"`
				Message   string `json:"message"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || code != c.code || e.ErrorCode != c.code || !strings.Contains(e.Message, c.msg) {
				t.Errorf("?%s: %d %s, want %d with %q", c.query, code, body, c.code, c.msg)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tds, err := kadm.NewClient(newClient(t, addr)).ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tds.Has("unknown") {
			t.Error("browsing an unknown topic created it")
		}
		if code, body := get(t, base+"/ui/api/nothing", nil); code != 404 || !strings.Contains(body, `"error_code":404`) {
			t.Errorf("unknown endpoint: %d %s", code, body)
		}
		resp, err := http.PostForm(base+"/ui/api/messages", url.Values{"topic": {"known"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: %d, want 405", resp.StatusCode)
		}
	})
}

// TestPageFiles: the page, its script and the vendored chart library are
// served from the binary, and the config endpoint says what the page polls.
func TestPageFiles(t *testing.T) {
	base := serve(t, "127.0.0.1:1") // no cluster needed
	for path, want := range map[string]string{
		"/ui/":                        `<script src="app.js">`,
		"/ui/app.js":                  "parseProm",
		"/ui/style.css":               "@media",
		"/ui/uplot/uPlot.iife.min.js": "uPlot",
		"/ui/uplot/LICENSE":           "MIT",
	} {
		code, body := get(t, base+path, nil)
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want 200 with %q", path, code, want)
		}
	}
	var cfg map[string]string
	if code, body := get(t, base+"/ui/api/config", &cfg); code != 200 || cfg["rest"] != "/" || cfg["metrics"] != "/metrics" || cfg["title"] != "Tributary" {
		t.Errorf("config: %d %s", code, body)
	}
	if code, _ := get(t, base+"/ui/nothing.js", nil); code != http.StatusNotFound {
		t.Errorf("a missing file: %d, want 404", code)
	}
}

// TestUnreachableCluster: the endpoints answer 502 naming the cluster.
func TestUnreachableCluster(t *testing.T) {
	page, err := statuspage.New(statuspage.Config{
		Brokers:    []string{"127.0.0.1:1"},
		ClientOpts: []kgo.Opt{kgo.RetryTimeout(time.Second), kgo.RequestRetries(1)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer page.Close()
	srv := httptest.NewServer(page)
	defer srv.Close()
	for _, path := range []string{"topics", "groups", "messages?topic=x"} {
		code, body := get(t, srv.URL+"/ui/api/"+path, nil)
		if code != http.StatusBadGateway || !strings.Contains(body, "127.0.0.1:1") {
			t.Errorf("%s: %d %s, want 502 naming the broker", path, code, body)
		}
	}
	page.Close() // idempotent
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  statuspage.Config
		want string
	}{
		{statuspage.Config{}, "no seed brokers"},
		{statuspage.Config{Brokers: []string{" "}}, "an empty seed broker"},
		{statuspage.Config{Brokers: []string{"h:1"}, REST: "http://elsewhere/"}, "REST path http://elsewhere/ does not start with /"},
		{statuspage.Config{Brokers: []string{"h:1"}, Metrics: "metrics"}, "Metrics path metrics"},
	} {
		if _, err := statuspage.New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}
