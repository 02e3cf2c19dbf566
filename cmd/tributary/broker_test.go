package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/config/security/pemtest"
)

// brokerProc is `tributary broker` running as a child process.
type brokerProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string

	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan struct{}
	err    error
}

var listenLine = regexp.MustCompile(`msg=listening .*addr=(\S+)`)

// runBroker starts the real binary with the given server.properties and
// waits until it logs the address it listens on.
func runBroker(t *testing.T, propsFile string) *brokerProc {
	t.Helper()
	p := &brokerProc{t: t, exited: make(chan struct{})}
	p.cmd = exec.Command(tributaryBinary(t), "broker", propsFile)
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listenLine.FindStringSubmatch(line); m != nil {
				select {
				case addrCh <- m[1]:
				default:
				}
			}
		}
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	select {
	case p.addr = <-addrCh:
	case <-p.exited:
		t.Fatalf("broker exited before listening: %v\n%s", p.err, p.log())
	case <-time.After(2 * time.Minute):
		t.Fatalf("broker did not log its address\n%s", p.log())
	}
	return p
}

func (p *brokerProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// stop sends sig and returns the exit code.
func (p *brokerProc) stop(sig syscall.Signal) int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		p.t.Fatalf("broker did not exit on %v\n%s", sig, p.log())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		p.t.Fatal(p.err)
	}
	return 0
}

// writeServerProps writes a server.properties: the lines of base (a file, or
// none) followed by the given lines, which override it.
func writeServerProps(t *testing.T, base string, lines ...string) string {
	t.Helper()
	var data []byte
	if base != "" {
		var err error
		if data, err = os.ReadFile(base); err != nil {
			t.Fatal(err)
		}
	}
	data = append(data, '\n')
	data = append(data, strings.Join(lines, "\n")+"\n"...)
	path := filepath.Join(t.TempDir(), "server.properties")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func brokerCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestBrokerCommandLifecycle(t *testing.T) {
	data := t.TempDir()
	props := writeServerProps(t, "../../testdata/kafka/server.properties", "listeners=PLAINTEXT://127.0.0.1:0", "log.dirs="+data, "num.partition=3")
	p := runBroker(t, props)
	for _, want := range []string{
		"level=WARN msg=\"The configuration 'zookeeper.connect' was supplied but isn't a known config\" file=" + props,
		"level=WARN msg=\"The configuration 'num.partition' was supplied but isn't a known config; did you mean 'num.partitions'?\" file=" + props,
		"log_dirs=[" + data + "]"} {
		if !strings.Contains(p.log(), want) {
			t.Errorf("start-up log lacks %q:\n%s", want, p.log())
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(brokerCtx(t, 30*time.Second), &kgo.Record{Topic: "auto", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("produce to an auto-created topic: %v", err)
	}
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, p.log())
	}
	if !strings.Contains(p.log(), "broker stopped") {
		t.Fatalf("no clean stop logged:\n%s", p.log())
	}
	if _, err := os.Stat(filepath.Join(data, ".kafka_cleanshutdown")); err != nil {
		t.Fatalf("clean-shutdown marker: %v", err)
	}
}

func TestBrokerCommandErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"broker", "a", "b"}, 2, "accepts at most 1 arg"},
		{[]string{"broker", "/no/such/server.properties"}, 1, "/no/such/server.properties: file does not exist"},
		{[]string{"broker", writeServerProps(t, "", "num.partitions=zero", "listeners=TLS://x:1")}, 1, `num.partitions: "zero" is not a number`},
		{[]string{"broker", writeServerProps(t, "", "listeners=SSL://127.0.0.1:0")}, 1, "an SSL listener needs a key and certificate"},
		{[]string{"broker", writeServerProps(t, "", "listeners=SASL_PLAINTEXT://127.0.0.1:0")}, 1, "enables GSSAPI on listener SASL_PLAINTEXT"},
		{[]string{"broker", writeServerProps(t, "", "listeners=TLS://127.0.0.1:0")}, 1, "uses security protocol TLS"},
	} {
		code, _, stderr := runArgs(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

// TestBrokerSurvivesSIGKILL produces with acks=all to the real binary while
// a group commits offsets, kills it with SIGKILL mid-stream, restarts it on
// the same data and finds every acknowledged record at the offset it was
// acknowledged with and the group's last acknowledged commit.
func TestBrokerSurvivesSIGKILL(t *testing.T) {
	data := t.TempDir()
	props := writeServerProps(t, "", "listeners=PLAINTEXT://127.0.0.1:0", "log.dirs="+data, "log.segment.bytes=200000")
	p := runBroker(t, props)
	adm := kadm.NewClient(kafkatest.Client(t, p.addr))
	if _, err := adm.CreateTopic(brokerCtx(t, 30*time.Second), 3, 1, nil, "durable"); err != nil {
		t.Fatal(err)
	}

	type pos struct {
		p int32
		o int64
	}
	var (
		mu    sync.Mutex
		acked = map[pos]string{}
	)
	prod := kafkatest.Client(t, p.addr, kgo.DefaultProduceTopic("durable"), kgo.RequestRetries(2), kgo.RecordRetries(2))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	// Simple (generation -1) commits of an ever larger offset, one at a
	// time: after the crash the group's offset is at least the last one
	// acknowledged and at most the last one sent.
	var committedAcked, committedSent int64
	commitAdm := kadm.NewClient(kafkatest.Client(t, p.addr, kgo.RequestRetries(0)))
	wg.Add(2)
	go func() {
		defer wg.Done()
		for n := int64(1); ctx.Err() == nil; n++ {
			var offs kadm.Offsets
			offs.Add(kadm.Offset{Topic: "durable", Partition: 0, At: n, LeaderEpoch: -1})
			mu.Lock()
			committedSent = n
			mu.Unlock()
			resp, err := commitAdm.CommitOffsets(ctx, "durable-group", offs)
			if err == nil && resp.Ok() {
				mu.Lock()
				committedAcked = n
				mu.Unlock()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			v := fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", i%200))
			prod.Produce(ctx, &kgo.Record{Key: []byte(strconv.Itoa(i % 50)), Value: []byte(v)}, func(r *kgo.Record, err error) {
				if err == nil {
					mu.Lock()
					acked[pos{r.Partition, r.Offset}] = string(r.Value)
					mu.Unlock()
				}
			})
		}
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		mu.Lock()
		n, c := len(acked), committedAcked
		mu.Unlock()
		if n >= 20000 && c >= 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d records acknowledged", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Kill(); err != nil { // SIGKILL, mid-stream
		t.Fatal(err)
	}
	<-p.exited
	cancel()
	prod.Close()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()

	p2 := runBroker(t, props)
	if !strings.Contains(p2.log(), "not shut down cleanly") {
		t.Errorf("restart did not notice the crash:\n%s", p2.log())
	}
	adm2 := kadm.NewClient(kafkatest.Client(t, p2.addr))
	fetched, err := adm2.FetchOffsets(brokerCtx(t, 30*time.Second), "durable-group")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := fetched.Lookup("durable", 0); !ok || o.Err != nil || o.At < committedAcked || o.At > committedSent {
		t.Errorf("group offset after SIGKILL: %+v (found %v); acknowledged %d, sent %d", o, ok, committedAcked, committedSent)
	} else {
		t.Logf("group offset %d after SIGKILL: last acknowledged commit %d, last sent %d", o.At, committedAcked, committedSent)
	}
	ends, err := adm2.ListEndOffsets(brokerCtx(t, 30*time.Second), "durable")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { want[o.Partition] = o.Offset })
	cons := kafkatest.Client(t, p2.addr, kgo.ConsumeTopics("durable"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := map[pos]string{}
	cctx := brokerCtx(t, 2*time.Minute)
	for done := false; !done; {
		fs := cons.PollFetches(cctx)
		if cctx.Err() != nil {
			t.Fatalf("consumed %d records of %v", len(got), want)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) { got[pos{r.Partition, r.Offset}] = string(r.Value) })
		done = true
		for part, end := range want {
			if end > 0 {
				if _, ok := got[pos{part, end - 1}]; !ok {
					done = false
				}
			}
		}
	}
	missing := 0
	for k, v := range acked {
		if got[k] != v {
			if missing < 5 {
				t.Errorf("acknowledged record %s at %d/%d: found %q", v, k.p, k.o, got[k])
			}
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged records lost or changed", missing, len(acked))
	}
	t.Logf("%d acknowledged records, all present after SIGKILL (%d stored)", len(acked), len(got))
	if code := p2.stop(syscall.SIGINT); code != 0 {
		t.Fatalf("exit %d after SIGINT", code)
	}
}

// TestClientsAgainstBrokerBinary starts `tributary broker` with
// testdata/server.properties (on a free port of localhost and a temporary
// log dir) and has kcat (librdkafka), franz-go and sarama each produce and
// consume.
func TestClientsAgainstBrokerBinary(t *testing.T) {
	props := writeServerProps(t, "../../testdata/server.properties", "listeners=PLAINTEXT://localhost:0", "log.dirs="+t.TempDir())
	p := runBroker(t, props)
	port := p.addr[strings.LastIndex(p.addr, ":")+1:]
	addr := "localhost:" + port
	const n = 1000
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf("line %d %s", i, strings.Repeat("z", i%40)))
	}
	want := strings.Join(lines, "\n")

	t.Run("kcat", func(t *testing.T) {
		kcat, err := exec.LookPath("kcat")
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("kcat is not installed")
			}
			t.Skip("kcat is not installed")
		}
		adm := kadm.NewClient(kafkatest.Client(t, addr))
		if _, err := adm.CreateTopic(brokerCtx(t, 30*time.Second), 1, 1, nil, "kcat"); err != nil {
			t.Fatal(err)
		}
		ctx := brokerCtx(t, 2*time.Minute)
		produce := exec.CommandContext(ctx, kcat, "-P", "-b", addr, "-t", "kcat", "-X", "acks=all", "-X", "enable.idempotence=true")
		produce.Stdin = strings.NewReader(want + "\n")
		if out, err := produce.CombinedOutput(); err != nil {
			t.Fatalf("kcat -P: %v\n%s", err, out)
		}
		consume := exec.CommandContext(ctx, kcat, "-C", "-b", addr, "-t", "kcat", "-o", "beginning", "-e", "-q")
		out, err := consume.Output()
		if err != nil {
			t.Fatalf("kcat -C: %v", err)
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != want {
			t.Fatalf("kcat consumed %d bytes, want %d", len(got), len(want))
		}
		// kcat reads what franz-go wrote, too.
		cl := kafkatest.Client(t, addr)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "kcat", Value: []byte("from franz-go")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		out, err = exec.CommandContext(ctx, kcat, "-C", "-b", addr, "-t", "kcat", "-o", "-1", "-e", "-q").Output()
		if err != nil || strings.TrimSpace(string(out)) != "from franz-go" {
			t.Fatalf("kcat -o -1: %v %q", err, out)
		}
	})

	t.Run("franz-go", func(t *testing.T) {
		ctx := brokerCtx(t, time.Minute)
		cl := kafkatest.Client(t, addr, kgo.DefaultProduceTopic("franz"), kgo.AllowAutoTopicCreation())
		var recs []*kgo.Record
		for _, l := range lines {
			recs = append(recs, &kgo.Record{Value: []byte(l)})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		cons := kafkatest.Client(t, addr, kgo.ConsumeTopics("franz"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		var got []string
		for len(got) < n {
			fs := cons.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("consumed %d", len(got))
			}
			fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		}
		if strings.Join(got, "\n") != want {
			t.Fatal("franz-go consumed something else")
		}
	})

	t.Run("sarama", func(t *testing.T) {
		cfg := sarama.NewConfig()
		cfg.Producer.Return.Successes = true
		cfg.Producer.RequiredAcks = sarama.WaitForAll
		cfg.Producer.Idempotent = true
		cfg.Net.MaxOpenRequests = 1
		prod, err := sarama.NewSyncProducer([]string{addr}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var msgs []*sarama.ProducerMessage
		for _, l := range lines {
			msgs = append(msgs, &sarama.ProducerMessage{Topic: "sarama", Value: sarama.StringEncoder(l)})
		}
		if err := prod.SendMessages(msgs); err != nil {
			t.Fatal(err)
		}
		prod.Close()
		cons, err := sarama.NewConsumer([]string{addr}, sarama.NewConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer cons.Close()
		pc, err := cons.ConsumePartition("sarama", 0, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		var got []string
		timeout := time.After(time.Minute)
		for len(got) < n {
			select {
			case m := <-pc.Messages():
				got = append(got, string(m.Value))
			case <-timeout:
				t.Fatalf("consumed %d", len(got))
			}
		}
		if strings.Join(got, "\n") != want {
			t.Fatal("sarama consumed something else")
		}
	})

	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// testTLSFiles makes a CA and a broker certificate for 127.0.0.1 and
// localhost, written as PEM files: the broker's key store (key and
// chain) and the CA as a trust store.
func testTLSFiles(t *testing.T) (keystore, truststore string) {
	t.Helper()
	return pemtest.New(t, []net.IP{net.IPv4(127, 0, 0, 1)}, "localhost").Files(t)
}

// TestBrokerCommandTLS runs `tributary broker` with an SSL listener and a
// PLAINTEXT one beside it.
func TestBrokerCommandTLS(t *testing.T) {
	keystore, truststore := testTLSFiles(t)
	props := writeServerProps(t, "", "listeners=SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0",
		"log.dirs="+t.TempDir(), "ssl.keystore.type=PEM", "ssl.keystore.location="+keystore,
		"ssl.client.auth=none", "listener.name.ssl.ssl.enabled.protocols=TLSv1.3")
	p := runBroker(t, props)
	if strings.Contains(p.log(), "isn't a known config") && strings.Contains(p.log(), "listener.name.ssl") {
		t.Fatalf("per-listener key reported unused:\n%s", p.log())
	}
	pool := x509.NewCertPool()
	data, _ := os.ReadFile(truststore)
	pool.AppendCertsFromPEM(data)
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.addr), kgo.AllowAutoTopicCreation(), kgo.DialTLSConfig(&tls.Config{RootCAs: pool}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(brokerCtx(t, 30*time.Second), &kgo.Record{Topic: "tls", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("produce over TLS: %v\n%s", err, p.log())
	}
	// TLS 1.2 is refused on that listener.
	if _, err := tls.Dial("tcp", p.addr, &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12}); err == nil {
		t.Fatal("TLS 1.2 accepted with ssl.enabled.protocols=TLSv1.3")
	}
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.log())
	}
}

// TestToolsAgainstSecuredBroker runs topics, console-producer,
// console-consumer and consumer-groups against a SASL_SSL broker with
// their property files (--command-config, --producer.config,
// --consumer.config), and checks that the wrong password is refused.
func TestToolsAgainstSecuredBroker(t *testing.T) {
	keystore, truststore := testTLSFiles(t)
	addr := startBroker(t, "listeners=SASL_SSL://127.0.0.1:0",
		"ssl.keystore.type=PEM", "ssl.keystore.location="+keystore,
		"sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512",
		`listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";`,
		`listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required user_bob="bob-secret";`)
	client := func(mech, module, user, pass string) string {
		return writeServerProps(t, "", "security.protocol=SASL_SSL", "sasl.mechanism="+mech,
			"sasl.jaas.config=org.apache.kafka.common.security."+module+` required username="`+user+`" password="`+pass+`";`,
			"ssl.truststore.type=PEM", "ssl.truststore.location="+truststore)
	}
	plainProps := client("PLAIN", "plain.PlainLoginModule", "alice", "alice-secret")
	scramProps := client("SCRAM-SHA-512", "scram.ScramLoginModule", "bob", "bob-secret")

	if r := runTool(t, "", "topics", "--bootstrap-server", addr, "--command-config", plainProps, "--create", "--topic", "secure", "--partitions", "1", "--replication-factor", "1"); r.code != 0 {
		t.Fatalf("topics --create: %v", r)
	}
	if r := runTool(t, "", "topics", "--bootstrap-server", addr, "--command-config", scramProps, "--list"); r.code != 0 || !strings.Contains(r.stdout, "secure") {
		t.Fatalf("topics --list: %v", r)
	}
	if r := runTool(t, "one\ntwo\n", "console-producer", "--bootstrap-server", addr, "--topic", "secure", "--producer.config", scramProps); r.code != 0 {
		t.Fatalf("console-producer: %v", r)
	}
	r := runTool(t, "", "console-consumer", "--bootstrap-server", addr, "--topic", "secure", "--from-beginning",
		"--max-messages", "2", "--group", "secure-g", "--consumer.config", plainProps)
	if r.code != 0 || r.stdout != "one\ntwo\n" {
		t.Fatalf("console-consumer: %v", r)
	}
	if r := runTool(t, "", "consumer-groups", "--bootstrap-server", addr, "--command-config", scramProps, "--describe", "--group", "secure-g"); r.code != 0 || !strings.Contains(r.stdout, "secure") {
		t.Fatalf("consumer-groups --describe: %v", r)
	}
	// The wrong password, and no SASL at all, are refused.
	bad := client("PLAIN", "plain.PlainLoginModule", "alice", "wrong")
	if r := runTool(t, "", "topics", "--bootstrap-server", addr, "--command-config", bad, "--list"); r.code == 0 || strings.Contains(r.stderr, "wrong") || !strings.Contains(r.stderr, "SASL_AUTHENTICATION_FAILED") {
		t.Fatalf("wrong password: %v", r)
	}
	if r := runTool(t, "", "topics", "--bootstrap-server", addr, "--list"); r.code == 0 {
		t.Fatalf("no credentials: %v", r)
	}
}

// TestWorkerAgainstSecuredBroker runs connect-standalone against a
// SASL_SSL broker with the client settings under producer. and consumer.,
// as Kafka Connect takes them.
func TestWorkerAgainstSecuredBroker(t *testing.T) {
	keystore, truststore := testTLSFiles(t)
	addr := startBroker(t, "listeners=SASL_SSL://127.0.0.1:0",
		"ssl.keystore.type=PEM", "ssl.keystore.location="+keystore,
		"sasl.enabled.mechanisms=SCRAM-SHA-256",
		`listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required user_connect="connect-secret";`)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	if err := os.WriteFile(in, []byte("alpha\nbeta\ngamma\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	worker := []string{"bootstrap.servers=" + addr, "offset.storage.file.filename=" + filepath.Join(dir, "offsets"), "listeners=http://127.0.0.1:0"}
	for _, p := range []string{"producer.", "consumer.", "admin."} {
		worker = append(worker, p+"security.protocol=SASL_SSL", p+"sasl.mechanism=SCRAM-SHA-256",
			p+`sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="connect-secret";`,
			p+"ssl.truststore.location="+truststore)
	}
	wf := writeProps(t, filepath.Join(dir, "worker.properties"), worker...)
	sf := writeProps(t, filepath.Join(dir, "source.properties"), "name=src", "connector.class=FileStreamSource", "file="+in, "topic=secure-lines")
	kf := writeProps(t, filepath.Join(dir, "sink.properties"), "name=sink", "connector.class=FileStreamSink", "file="+out, "topics=secure-lines")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan toolResult, 1)
	go func() { done <- runToolCtx(t, ctx, "", "connect-standalone", wf, sf, kf) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		data, _ := os.ReadFile(out)
		if string(data) == "alpha\nbeta\ngamma\n" {
			break
		}
		select {
		case r := <-done:
			cancel()
			t.Fatalf("connect-standalone exited: %v", r)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("sink file %q after 60s; worker: %v", data, <-done)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if r := <-done; r.code != 0 {
		t.Fatalf("connect-standalone: %v", r)
	}
}
