package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/internal/statuspage"
)

// browserPath finds the Chromium that CI installs (Debian's chromium). A
// machine without it fails the test, unless TRIBUTARY_NO_BROWSER=1 says to
// skip it.
func browserPath(t *testing.T) string {
	t.Helper()
	if os.Getenv("TRIBUTARY_NO_BROWSER") == "1" {
		t.Skip("TRIBUTARY_NO_BROWSER=1: the status page is not checked in a browser")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found (apt-get install chromium, as .ci/run does); set TRIBUTARY_NO_BROWSER=1 to skip this test")
	return ""
}

// newBrowser starts a headless Chromium for the test, whose pages send
// the extra headers with every request.
func newBrowser(t *testing.T, headers map[string]any) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browserPath(t)),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	setHeaders := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers(headers)})
		return chromedp.Void{}, err
	}
	if err := chromedp.Do(ctx, setHeaders); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// pollJS waits until the JavaScript expression is truthy in the page; the
// failure shows the server's log.
func pollJS(t *testing.T, ctx context.Context, what, expr string, log func() string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(60*time.Second), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		shot(t, ctx, "statuspage-failed.png")
		t.Fatalf("%s: %v\nserver log:\n%s", what, err, log())
	}
}

// shot writes a screenshot of the whole page under testdata/output.
func shot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	dir := filepath.Join("..", "..", "testdata", "output")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// TestStatusPage loads the worker's status page in a real headless
// Chromium while the walkthrough's pipeline runs (bundled broker, file
// source, file sink) beside a source that fails, behind the REST API's
// basic authentication, and checks what a person would look at: the
// connectors and tasks RUNNING, the failed task FAILED with its error, the
// source file's position moving as lines are appended, the throughput
// chart drawn, the message browser showing records just produced (key,
// header, value, as text and as hex), and the page fitting a phone's
// width. It writes testdata/output/statuspage.png (the README's picture
// comes from it).
func TestStatusPage(t *testing.T) {
	browserPath(t) // fail or skip before starting anything
	dir := walkthroughDir(t)
	in, _ := workingCopy(t, dir)
	missing := filepath.Join(dir, "not-yet", "app.log")
	bad := writeProps(t, filepath.Join(dir, "testdata", "app-source.properties"),
		"name=app-source", "connector.class=FileStreamSource", "topic=app-lines", "file="+missing)
	args := append([]string{
		"--override", "rest.basic.auth.user=admin",
		"--override", "rest.basic.auth.password=s3cret",
	}, embeddedArgs...)
	p := startCS(t, dir, append(args, bad)...)
	rest := loggedAddr(t, p, regexp.MustCompile(`msg="REST API listening" url=(\S+)`), "REST address")
	addr := embeddedAddr(t, p)

	// The page and its endpoints are behind the REST API's authentication.
	for _, path := range []string{"/ui/", "/ui/api/topics"} {
		resp, err := http.Get(rest + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET %s without credentials: %d, want 401", path, resp.StatusCode)
		}
	}

	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:s3cret"))
	ctx := newBrowser(t, map[string]any{"Authorization": auth})
	if err := chromedp.Do(ctx, chromedp.Navigate(rest+"/ui/")); err != nil {
		t.Fatal(err)
	}

	// Connectors and tasks: the pipeline RUNNING, the source whose folder
	// does not exist FAILED with its error.
	for _, sel := range []string{
		`tr[data-connector="local-file-source"][data-task="0"] .state.RUNNING`,
		`tr[data-connector="local-file-sink"][data-task="0"] .state.RUNNING`,
		`tr[data-connector="app-source"][data-task="0"] .state.FAILED`,
	} {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
			shot(t, ctx, "statuspage-failed.png")
			t.Fatalf("waiting for %s: %v\n%s", sel, err, p.stderr.String())
		}
	}
	trace, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tr.trace-row[data-connector="app-source"][data-task="0"] pre`)))
	if err != nil || !strings.Contains(trace, "does not exist") || !strings.Contains(trace, missing) {
		t.Fatalf("the failed task's error on the page: %q (%v)", trace, err)
	}

	// The source file's position on the page moves as lines are appended.
	posJS := `(() => { const c = document.querySelector('#sources tr[data-file$="access_log.txt"] td.position'); return c && c.dataset.value !== '' ? Number(c.dataset.value) : 0; })()`
	pollJS(t, ctx, "the source file's position", posJS+` > 0`, p.stderr.String)
	before, err := chromedp.Run(ctx, chromedp.Evaluate[int64](posJS))
	if err != nil {
		t.Fatal(err)
	}
	csAppend(t, in, 0, 200)
	pollJS(t, ctx, "the position after appending 200 lines", fmt.Sprintf(`%s > %d`, posJS, before), p.stderr.String)
	after, _ := chromedp.Run(ctx, chromedp.Evaluate[int64](posJS))
	t.Logf("source position on the page: %d, then %d", before, after)
	csAppend(t, in, 200, 200) // more traffic for the chart

	// The throughput chart draws: its series has points and its canvas
	// has coloured pixels beyond the axes' grey.
	pollJS(t, ctx, "the throughput chart", `(() => {
		const ch = window.tributaryStatus.charts.sources;
		if (!ch || !ch.plot) return false;
		const pts = ch.plot.data[1].filter((v) => v != null).length;
		const c = document.querySelector('#source-chart canvas');
		if (pts < 2 || !c) return false;
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let coloured = 0;
		for (let i = 0; i < d.length; i += 4) {
			if (d[i + 3] > 0 && Math.abs(d[i] - d[i + 2]) > 60) coloured++;
		}
		return coloured > 50;
	})()`, p.stderr.String)

	// The message browser shows records just produced, key, header and
	// value.
	kafkatest.CreateTopic(t, addr, "browse-me", 1)
	kafkatest.Produce(t, addr,
		&kgo.Record{Topic: "browse-me", Key: []byte("user-42"), Value: []byte("hello from the browser test"),
			Headers: []kgo.RecordHeader{{Key: "trace-id", Value: []byte("abc123")}}},
		&kgo.Record{Topic: "browse-me", Key: []byte("bin"), Value: []byte{0x00, 0xff, 0x10}},
	)
	pollJS(t, ctx, "browse-me in the topic list", `[...document.querySelectorAll('#browse-topic option')].some((o) => o.value === 'browse-me')`, p.stderr.String)
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("browse-topic"), "browse-me"),
		chromedp.Click(chromedp.ID("browse-go")),
		chromedp.WaitVisible(chromedp.CSS(`#messages tr[data-offset="1"]`)),
	); err != nil {
		t.Fatal(err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#messages tr[data-offset="0"]`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"user-42", "trace-id=abc123", "hello from the browser test"} {
		if !strings.Contains(row, want) {
			t.Errorf("message browser row lacks %q: %q", want, row)
		}
	}
	if bin, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#messages tr[data-offset="1"] td.record-value.wide`))); bin != "00 ff 10" {
		t.Errorf("a value that is not UTF-8 shows as %q, want hex 00 ff 10", bin)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("browse-format"), "hex"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('browse-format').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatal(err)
	}
	pollJS(t, ctx, "the value as hex", `document.querySelector('#messages tr[data-offset="0"] td.record-value.wide').textContent.startsWith('68 65 6c 6c 6f')`, p.stderr.String)
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("browse-format"), "text"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('browse-format').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatal(err)
	}

	// Topics and groups: log-test's end offset and the sink's group.
	pollJS(t, ctx, "log-test in the topics", `document.querySelector('#topics tr[data-topic="log-test"][data-partition="0"] td.end') !== null`, p.stderr.String)
	pollJS(t, ctx, "the sink's group", `document.querySelector('#groups tr[data-group="connect-local-file-sink"][data-topic="log-test"]') !== null`, p.stderr.String)

	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "statuspage.png")

	// On a phone's width nothing is wider than the screen.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	pollJS(t, ctx, "the page within a phone's width", `document.documentElement.scrollWidth <= window.innerWidth + 1`, p.stderr.String)
	shot(t, ctx, "statuspage-phone.png")

	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
}

var statusPageLine = regexp.MustCompile(`msg="serving the status page" url=(\S+)`)

// TestStatusPageBroker: `tributary broker` with metrics.listener serves the
// page beside /metrics; it shows the topics with the broker's per-topic
// traffic, browses their records, and says that connectors are the
// worker's to show.
func TestStatusPageBroker(t *testing.T) {
	browserPath(t)
	props := writeServerProps(t, "", "listeners=PLAINTEXT://127.0.0.1:0", "log.dirs="+t.TempDir(), "metrics.listener=http://127.0.0.1:0")
	b := runBroker(t, props)
	var page string
	for deadline := time.Now().Add(30 * time.Second); page == ""; {
		if m := statusPageLine.FindStringSubmatch(b.log()); m != nil {
			page = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("the broker logged no status page:\n%s", b.log())
		} else {
			time.Sleep(20 * time.Millisecond) // polling the log, not a synchronisation
		}
	}
	kafkatest.CreateTopic(t, b.addr, "web", 2)
	kafkatest.Produce(t, b.addr, &kgo.Record{Topic: "web", Partition: 1, Key: []byte("k"), Value: []byte("GET /index.html 200")})

	ctx := newBrowser(t, nil)
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	pollJS(t, ctx, "topic web with its end offsets", `(() => { const c = document.querySelector('#topics tr[data-topic="web"][data-partition="1"] td.end'); return c && c.dataset.value === '1'; })()`, b.log)
	pollJS(t, ctx, "the broker's traffic per topic", `[...document.querySelectorAll('#topics th')].some((th) => th.textContent === 'Msgs in/s')`, b.log)
	note, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#connectors .note`)))
	if err != nil || !strings.Contains(note, "served by the broker") {
		t.Errorf("connectors section on the broker's page: %q (%v)", note, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("browse-topic"), "web"),
		chromedp.Click(chromedp.ID("browse-go")),
		chromedp.WaitVisible(chromedp.CSS(`#messages tr[data-partition="1"][data-offset="0"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if row, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#messages tr[data-offset="0"]`))); !strings.Contains(row, "GET /index.html 200") {
		t.Errorf("message browser: %q", row)
	}
	shot(t, ctx, "statuspage-broker.png")
	if code := b.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d:\n%s", code, b.log())
	}
}

// TestStatusPageFallbacks serves the page beside a stand-in REST API whose
// /metrics is first missing, then lacks some names: the page says so in
// each section, shows the source file's position from the stored offsets
// meanwhile, and reads the metrics (label values with escapes included)
// once they are there.
func TestStatusPageFallbacks(t *testing.T) {
	browserPath(t)
	page, err := statuspage.New(statuspage.Config{Brokers: []string{startKfake(t)}, REST: "/", Metrics: "/metrics"})
	if err != nil {
		t.Fatal(err)
	}
	defer page.Close()
	var position atomic.Int64
	var metrics atomic.Pointer[string]
	position.Store(100)
	mux := http.NewServeMux()
	mux.Handle(statuspage.Path, page)
	mux.HandleFunc("GET /connectors", func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprint(rw, `{"src":{"status":{"name":"src","type":"source","connector":{"state":"RUNNING","worker_id":"w:8083"},
			"tasks":[{"id":0,"state":"RUNNING","worker_id":"w:8083","progress":{"records":3,"records_per_second":0.5,"bytes":30,"size_bytes":1000}}],
			"progress":{"records":3,"records_per_second":0.5,"bytes":30}},
			"info":{"name":"src","type":"source","config":{"file":"/var/log/a b.log","topic":"t"},"tasks":[{"connector":"src","task":0}]}}}`)
	})
	mux.HandleFunc("GET /connectors/src/offsets", func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(rw, `{"offsets":[{"partition":{"filename":"/var/log/a b.log"},"offset":{"position":%d}}]}`, position.Load())
	})
	mux.HandleFunc("GET /metrics", func(rw http.ResponseWriter, r *http.Request) {
		m := metrics.Load()
		if m == nil {
			http.NotFound(rw, r)
			return
		}
		fmt.Fprint(rw, *m)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	log := func() string { return "(stand-in REST API)" }

	ctx := newBrowser(t, nil)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/ui/")); err != nil {
		t.Fatal(err)
	}
	posOf := func(file string) string {
		return fmt.Sprintf(`(() => { const r = [...document.querySelectorAll('#sources tr[data-file]')].find((r) => r.dataset.file === %q); const c = r && r.querySelector('td.position'); return c ? c.dataset.value : ''; })()`, file)
	}
	pollJS(t, ctx, "the position from the stored offsets", posOf("/var/log/a b.log")+` === '100'`, log)
	for _, s := range []string{"sources", "sinks"} {
		note, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#"+s+" .note")))
		if !strings.Contains(note, "serves no /metrics (HTTP 404)") {
			t.Errorf("%s without /metrics says %q", s, note)
		}
	}
	if size, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelectorAll('#sources tr[data-file] td.num')[1].dataset.value`)); size != "1000" {
		t.Errorf("the file's size from the task's progress: %q, want 1000", size)
	}
	position.Store(300)
	pollJS(t, ctx, "the stored position moving", posOf("/var/log/a b.log")+` === '300'`, log)

	text := `# HELP tributary_filesource_file_position_bytes Bytes of the file sent and acknowledged.
# TYPE tributary_filesource_file_position_bytes gauge
tributary_filesource_file_position_bytes{connector="src",file="C:\\logs\\\"q\".log",task="0"} 512
tributary_filesource_file_size_bytes{connector="src",file="C:\\logs\\\"q\".log",task="0"} 2048
`
	metrics.Store(&text)
	pollJS(t, ctx, "the position from /metrics", posOf(`C:\logs\"q".log`)+` === '512'`, log)
	note, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#sources .note")))
	if !strings.Contains(note, "/metrics has no tributary_filesource_file_lag_bytes, tributary_filesource_file_read_bytes_total") {
		t.Errorf("sources with some metrics missing says %q", note)
	}
	note, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#sinks .note")))
	if !strings.Contains(note, "/metrics has no tributary_filesink_file_written_bytes_total, tributary_filesink_file_position_bytes") {
		t.Errorf("sinks without their metrics says %q", note)
	}
}
