package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-io/tributary/cmd/internal/accesslog"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
)

// TestWalkthrough follows DESIGN.md's walkthrough word for word (tool name
// and host:port aside) with the real binary, against the bundled broker and
// against kfake: a topic created the old way, lines typed into a console
// producer showing up in a console consumer that keeps printing, a log
// shipped by connect-standalone, and consumers sharing or not sharing a
// topic by group.
func TestWalkthrough(t *testing.T) {
	bin := tributaryBinary(t)
	for _, c := range toolClusters() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := &walkthrough{t: t, bin: bin, addr: c.start(t), dir: t.TempDir()}
			t.Run("1 topic", w.createTopic)
			t.Run("2-3 produce and consume", w.produceAndConsume)
			t.Run("4 log shipping", w.shipLog)
			t.Run("5 groups", w.groups)
		})
	}
}

type walkthrough struct {
	t    *testing.T
	bin  string
	addr string
	dir  string
}

// wtProc is one running tributary process of the walkthrough.
type wtProc struct {
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	stdout, stderr lockedBuffer
	done           chan struct{}
}

func (w *walkthrough) start(t *testing.T, args ...string) *wtProc {
	t.Helper()
	p := &wtProc{done: make(chan struct{})}
	p.cmd = exec.Command(w.bin, args...)
	p.cmd.Dir = w.dir
	// A race-enabled binary otherwise sleeps a second before it exits.
	p.cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // ends with the process
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// run runs a command to its end.
func (w *walkthrough) run(t *testing.T, args ...string) toolResult {
	t.Helper()
	p := w.start(t, args...)
	p.stdin.Close()
	return toolResult{p.exit(t, 60*time.Second), p.stdout.String(), p.stderr.String()}
}

func (p *wtProc) exit(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("%v did not exit within %v:\n%s", p.cmd.Args[1:], within, p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// stop sends sig and waits for a clean exit: 0 for connect-standalone and
// the broker, 128 plus the signal's number for Kafka's tools (130 after
// Ctrl-C), as Kafka's scripts exit.
func (p *wtProc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.cmd.Process.Signal(sig)
	want := 128 + int(sig)
	if cmd := p.cmd.Args[1]; cmd == "connect-standalone" || cmd == "broker" {
		want = 0
	}
	if code := p.exit(t, 60*time.Second); code != want {
		t.Fatalf("%v: exit %d after %v, want %d:\n%s", p.cmd.Args[1:], code, sig, want, p.stderr.String())
	}
}

func (p *wtProc) typeLine(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// waitOutput waits until the process has printed want (and nothing else).
func (p *wtProc) waitOutput(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for p.stdout.String() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%v printed %q, want %q\nstderr:\n%s", p.cmd.Args[1:], p.stdout.String(), want, p.stderr.String())
		}
		select {
		case <-p.done:
			t.Fatalf("%v exited:\nstdout:\n%s\nstderr:\n%s", p.cmd.Args[1:], p.stdout.String(), p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Step 1: "topics --create --zookeeper localhost:2181 --replication-factor 1
// --partitions 1 --topic Teste" warns that ZooKeeper is not used and talks
// to the broker; "topics --list" shows Teste.
func (w *walkthrough) createTopic(t *testing.T) {
	r := w.run(t, "topics", "--create", "--zookeeper", "localhost:2181", "--replication-factor", "1", "--partitions", "1", "--topic", "Teste", "--bootstrap-server", w.addr)
	wantErr := "Warning: --zookeeper localhost:2181 is not used: tributary talks to the broker at " + w.addr + " (--bootstrap-server) instead.\n"
	if r.code != 0 || r.stdout != "Created topic Teste.\n" || r.stderr != wantErr {
		t.Fatalf("%v", r)
	}
	r = w.run(t, "topics", "--list", "--bootstrap-server", w.addr)
	if r.code != 0 || !slices.Contains(strings.Split(r.stdout, "\n"), "Teste") {
		t.Fatalf("--list: %v", r)
	}
}

// Steps 2 and 3: each line typed into "console-producer --broker-list H:P
// --topic Teste" is a message; "console-consumer --bootstrap-server H:P
// --topic Teste --from-beginning" prints what was typed and keeps printing.
func (w *walkthrough) produceAndConsume(t *testing.T) {
	producer := w.start(t, "console-producer", "--broker-list", w.addr, "--topic", "Teste")
	producer.typeLine(t, "This is a message")
	producer.typeLine(t, "This is another message")

	consumer := w.start(t, "console-consumer", "--bootstrap-server", w.addr, "--topic", "Teste", "--from-beginning")
	want := "This is a message\nThis is another message\n"
	consumer.waitOutput(t, want)

	for i := range 3 {
		line := fmt.Sprintf("typed while the consumer runs %d", i)
		producer.typeLine(t, line)
		want += line + "\n"
		consumer.waitOutput(t, want)
	}

	producer.stdin.Close() // end of input: everything sent, exit 0
	if code := producer.exit(t, 30*time.Second); code != 0 || producer.stdout.String() != "" || producer.stderr.String() != "" {
		t.Fatalf("producer: exit %d, stdout %q, stderr %q", code, producer.stdout.String(), producer.stderr.String())
	}
	consumer.stop(t, syscall.SIGINT)
	if got := consumer.stderr.String(); got != "Processed a total of 5 messages\n" {
		t.Fatalf("consumer stderr %q", got)
	}
}

// Step 4: connect-standalone with a worker file, a file source
// (file=access_log_small.txt, topic=log-test) and a file sink
// (file=logout.txt, topics=log-test) copies the access log into the topic
// and the topic into logout.txt; lines appended later show up in
// logout.txt and in a console consumer of log-test while the worker runs.
func (w *walkthrough) shipLog(t *testing.T) {
	log, err := os.ReadFile("../../testdata/access_log_small.txt")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(w.dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("access_log_small.txt", string(log))
	write("worker.properties", "bootstrap.servers="+w.addr+"\n"+
		"key.converter=org.apache.kafka.connect.storage.StringConverter\n"+
		"value.converter=org.apache.kafka.connect.storage.StringConverter\n"+
		"offset.storage.file.filename=connect.offsets\n"+
		"offset.flush.interval.ms=10000\n"+
		"listeners=http://127.0.0.1:0\n")
	write("source.properties", "name=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile=access_log_small.txt\ntopic=log-test\n")
	write("sink.properties", "name=local-file-sink\nconnector.class=FileStreamSink\ntasks.max=1\nfile=logout.txt\ntopics=log-test\n")

	worker := w.start(t, "connect-standalone", "worker.properties", "source.properties", "sink.properties")
	out := filepath.Join(w.dir, "logout.txt")
	waitFile := func(want []byte) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			got, _ := os.ReadFile(out)
			if bytes.Equal(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("logout.txt has %d bytes, want %d\nworker:\n%s", len(got), len(want), worker.stderr.String())
			}
			select {
			case <-worker.done:
				t.Fatalf("connect-standalone exited:\n%s", worker.stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	waitFile(log)

	consumer := w.start(t, "console-consumer", "--bootstrap-server", w.addr, "--topic", "log-test", "--from-beginning")
	consumer.waitOutput(t, string(log))

	var more bytes.Buffer
	if err := accesslog.New(7, time.Date(2026, 3, 12, 14, 0, 0, 0, time.UTC)).WriteLines(&more, 20); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(w.dir, "access_log_small.txt"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.SplitAfter(more.Bytes(), []byte("\n")) {
		f.Write(line) // one line at a time, as a web server appends
	}
	f.Close()
	all := append(slices.Clip(log), more.Bytes()...)
	waitFile(all)
	consumer.waitOutput(t, string(all))

	consumer.stop(t, syscall.SIGINT)
	worker.stop(t, syscall.SIGTERM)
}

// Step 5: a topic has many consumers, each with its own position. The
// consumers of one group share the partitions; a consumer of another group
// gets every message.
func (w *walkthrough) groups(t *testing.T) {
	if r := w.run(t, "topics", "--bootstrap-server", w.addr, "--create", "--topic", "shared", "--partitions", "2"); r.code != 0 {
		t.Fatalf("%v", r)
	}
	consume := func(group string) *wtProc {
		return w.start(t, "console-consumer", "--bootstrap-server", w.addr, "--topic", "shared", "--group", group, "--from-beginning")
	}
	a, b := consume("g1"), consume("g1")
	other := consume("g2")

	// Wait for g1's two members to hold one partition each, and g2's one
	// member both.
	w.waitMembers(t, "g1", "1", "1")
	w.waitMembers(t, "g2", "2")

	producer := w.start(t, "console-producer", "--bootstrap-server", w.addr, "--topic", "shared", "--property", "parse.key=true", "--property", "key.separator=:")
	var all []string
	for i := range 40 {
		producer.typeLine(t, fmt.Sprintf("user-%d:message %d", i, i))
		all = append(all, fmt.Sprintf("message %d", i))
	}
	producer.stdin.Close()
	if code := producer.exit(t, 30*time.Second); code != 0 {
		t.Fatalf("producer exit %d: %s", code, producer.stderr.String())
	}

	lines := func(p *wtProc) []string {
		s := strings.TrimSuffix(p.stdout.String(), "\n")
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	kafkatest.Eventually(t, 30*time.Second, "every message reaches both groups", func() bool {
		return len(lines(a))+len(lines(b)) >= len(all) && len(lines(other)) >= len(all)
	})
	shared := append(lines(a), lines(b)...)
	slices.Sort(shared)
	gotOther := lines(other)
	slices.Sort(gotOther)
	want := slices.Clone(all)
	slices.Sort(want)
	if !slices.Equal(shared, want) {
		t.Fatalf("g1's members together printed %d messages, not each of the %d once: %q / %q", len(shared), len(all), lines(a), lines(b))
	}
	if len(lines(a)) == 0 || len(lines(b)) == 0 {
		t.Fatalf("one member of g1 got nothing: %d and %d messages", len(lines(a)), len(lines(b)))
	}
	if !slices.Equal(gotOther, want) {
		t.Fatalf("g2 printed %q", lines(other))
	}

	for _, p := range []*wtProc{a, b, other} {
		p.stop(t, syscall.SIGINT)
	}
	// Each group keeps its own position: both have consumed everything.
	for _, g := range []string{"g1", "g2"} {
		r := w.run(t, "consumer-groups", "--bootstrap-server", w.addr, "--describe", "--group", g)
		if r.code != 0 || strings.Count(r.stdout, "\n"+g+" ") != 2 || !lagZero(r.stdout) {
			t.Fatalf("%s: %v", g, r)
		}
	}
}

// waitMembers polls consumer-groups --describe --members until the group's
// members hold the given numbers of partitions.
func (w *walkthrough) waitMembers(t *testing.T, group string, partitions ...string) {
	t.Helper()
	slices.Sort(partitions)
	var last toolResult
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		last = w.run(t, "consumer-groups", "--bootstrap-server", w.addr, "--describe", "--group", group, "--members")
		var got []string
		for _, line := range strings.Split(last.stdout, "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == group {
				got = append(got, f[len(f)-1])
			}
		}
		slices.Sort(got)
		if slices.Equal(got, partitions) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("group %s: members never held %v partitions:\n%v", group, partitions, last)
}

// lagZero reports whether every row of a describe table has LAG 0.
func lagZero(table string) bool {
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && f[0] != "GROUP" && f[5] != "0" {
			return false
		}
	}
	return true
}

// readmeWalkthrough reads the commands of the README's "Learning Kafka"
// section, in order, as typed there ("./tributary" dropped).
func readmeWalkthrough(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "## Learning Kafka")
	j := strings.Index(s[i+1:], "\n## ")
	if i < 0 || j < 0 {
		t.Fatal("README.md has no Learning Kafka section")
	}
	var cmds [][]string
	for _, m := range regexp.MustCompile("\\./tributary ([^`\\n]+)").FindAllStringSubmatch(s[i:i+1+j], -1) {
		if args := strings.Fields(m[1]); len(args) > 1 {
			cmds = append(cmds, args)
		}
	}
	return cmds
}

// TestREADMEWalkthrough follows the README's walkthrough as a new user
// does, in one sitting: each command read from the README and typed as
// written, from a folder holding the repository's testdata, with the
// broker of step 1 still running when connect-standalone starts in step 4
// (which then uses it) and afterwards. The README's addresses are fixed
// (localhost:9092, the worker's REST API on 8083): the test is skipped when
// something else holds them.
func TestREADMEWalkthrough(t *testing.T) {
	cmds := readmeWalkthrough(t)
	want := []string{
		"broker testdata/server.properties",
		"topics --create --zookeeper localhost:2181 --replication-factor 1 --partitions 1 --topic Teste",
		"topics --list --bootstrap-server localhost:9092",
		"console-producer --broker-list localhost:9092 --topic Teste",
		"console-consumer --bootstrap-server localhost:9092 --topic Teste --from-beginning",
		"connect-standalone testdata/connect-standalone.properties testdata/connect-file-source.properties testdata/connect-file-sink.properties",
		"console-consumer --bootstrap-server localhost:9092 --topic log-test --from-beginning",
		"console-consumer --bootstrap-server localhost:9092 --topic log-test --group g1",
		"consumer-groups --bootstrap-server localhost:9092 --describe --group g1",
	}
	var got []string
	for _, c := range cmds {
		got = append(got, strings.Join(c, " "))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the README's walkthrough is now:\n%s\nthis test follows:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, addr := range []string{"127.0.0.1:9092", "127.0.0.1:8083"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("%s is taken here (%v); the README's walkthrough needs it", addr, err)
		}
		ln.Close()
	}

	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "testdata", "output"), 0o755)
	for _, f := range []string{"server.properties", "connect-standalone.properties", "connect-file-source.properties", "connect-file-sink.properties", "access_log_small.txt"} {
		b, err := os.ReadFile(filepath.Join("../../testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "testdata", f), b, 0o644)
	}
	w := &walkthrough{t: t, bin: tributaryBinary(t), addr: "localhost:9092", dir: dir}

	// Step 1.
	brk := w.start(t, cmds[0]...)
	brk.waitLog(t, "msg=listening")
	if r := w.run(t, cmds[1]...); r.code != 0 || r.stdout != "Created topic Teste.\n" || !strings.Contains(r.stderr, "--zookeeper localhost:2181 is not used") {
		t.Fatalf("step 1, create: %v", r)
	}
	if r := w.run(t, cmds[2]...); r.code != 0 || !slices.Contains(strings.Split(r.stdout, "\n"), "Teste") {
		t.Fatalf("step 1, list: %v", r)
	}

	// Steps 2 and 3, and the primers' consumer with --zookeeper.
	producer := w.start(t, cmds[3]...)
	producer.typeLine(t, "This is a message")
	producer.typeLine(t, "This is another message")
	typed := "This is a message\nThis is another message\n"
	consumer := w.start(t, cmds[4]...)
	consumer.waitOutput(t, typed)
	primer := w.start(t, "console-consumer", "--bootstrap-server", "localhost:9092", "--zookeeper", "localhost:2181", "--topic", "Teste", "--from-beginning")
	primer.waitOutput(t, typed)
	producer.typeLine(t, "typed while both consume")
	typed += "typed while both consume\n"
	consumer.waitOutput(t, typed)
	primer.waitOutput(t, typed)
	consumer.stop(t, syscall.SIGINT)
	primer.stop(t, syscall.SIGINT)
	producer.stdin.Close()
	if code := producer.exit(t, 30*time.Second); code != 0 {
		t.Fatalf("producer: exit %d: %s", code, producer.stderr.String())
	}

	// Step 4, with step 1's broker still running.
	worker := w.start(t, cmds[5]...)
	worker.waitLog(t, "a Kafka broker already answers on 127.0.0.1:9092")
	sample, _ := os.ReadFile(filepath.Join(dir, "testdata", "access_log_small.txt"))
	out := filepath.Join(dir, "testdata", "output", "logout.txt")
	waitFileIs(t, worker, out, sample)
	logConsumer := w.start(t, cmds[6]...)
	logConsumer.waitOutput(t, string(sample))
	var more bytes.Buffer
	if err := accesslog.New(11, time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)).WriteLines(&more, 10); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "testdata", "output", "access_log.txt"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(more.Bytes())
	f.Close()
	all := append(slices.Clip(sample), more.Bytes()...)
	waitFileIs(t, worker, out, all)
	logConsumer.waitOutput(t, string(all))
	logConsumer.stop(t, syscall.SIGINT)

	// Step 5: a consumer in group g1 (from the end: the group is new), and
	// its description.
	member := w.start(t, cmds[7]...)
	kafkatest.Eventually(t, 30*time.Second, "g1 has a member on log-test", func() bool {
		r := w.run(t, cmds[8]...)
		return r.code == 0 && strings.Contains(r.stdout, "log-test") && strings.Contains(r.stdout, "console-consumer")
	})
	member.stop(t, syscall.SIGINT)
	worker.stop(t, syscall.SIGTERM)

	// The topics outlive the worker: they are the broker's of step 1.
	if r := w.run(t, "topics", "--list", "--bootstrap-server", "localhost:9092"); !slices.Contains(strings.Split(r.stdout, "\n"), "log-test") {
		t.Fatalf("after the worker stopped: %v", r)
	}
	brk.stop(t, syscall.SIGTERM)
}

// waitLog waits until the process has logged want.
func (p *wtProc) waitLog(t *testing.T, want string) {
	t.Helper()
	kafkatest.Eventually(t, 60*time.Second, fmt.Sprintf("%v logs %q", p.cmd.Args[1:], want), func() bool {
		select {
		case <-p.done:
			t.Fatalf("%v exited:\n%s", p.cmd.Args[1:], p.stderr.String())
		default:
		}
		return strings.Contains(p.stderr.String(), want)
	})
}

// waitFileIs waits until path holds want while p runs.
func waitFileIs(t *testing.T, p *wtProc, path string, want []byte) {
	t.Helper()
	kafkatest.Eventually(t, 60*time.Second, path+" holds what was shipped", func() bool {
		select {
		case <-p.done:
			t.Fatalf("%v exited:\n%s", p.cmd.Args[1:], p.stderr.String())
		default:
		}
		got, _ := os.ReadFile(path)
		return bytes.Equal(got, want)
	})
}
