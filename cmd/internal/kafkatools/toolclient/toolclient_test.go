package toolclient

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
	"github.com/tributary-io/tributary/connect/kafkaclient"
)

func TestNew(t *testing.T) {
	addr := kafkatest.StartBroker(t)
	ctx := context.Background()
	cl, err := New(ctx, nil, map[string]string{"bootstrap.servers": addr, "client.id": "toolclient-test"}, kafkaclient.Admin)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}

	_, err = New(ctx, nil, map[string]string{"bootstrap.servers": addr, "acks": "2"}, kafkaclient.Producer)
	if !usage.Is(err) || !strings.Contains(err.Error(), `acks: "2"`) {
		t.Fatalf("a property that cannot be translated: %v", err)
	}
}

// TestNewUnreachable: a broker that is not there is one error naming the
// address, within ReachTimeout.
func TestNewUnreachable(t *testing.T) {
	addr := kafkatest.ClosedAddr(t)
	start := time.Now()
	_, err := New(context.Background(), nil, map[string]string{"bootstrap.servers": addr}, kafkaclient.Admin)
	if err == nil || usage.Is(err) || !strings.HasPrefix(err.Error(), "cannot reach a broker at "+addr+": ") {
		t.Fatalf("%v", err)
	}
	if d := time.Since(start); d > ReachTimeout+2*time.Second {
		t.Fatalf("took %v", d)
	}
}

// TestProperties: a property file, then key=value arguments over it.
func TestProperties(t *testing.T) {
	if m, err := Properties("", nil); err != nil || len(m) != 0 {
		t.Fatalf("nothing: %v %v", m, err)
	}
	file := filepath.Join(t.TempDir(), "client.properties")
	if err := os.WriteFile(file, []byte("# admin\nclient.id=from-file\nsecurity.protocol = PLAINTEXT\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Properties(file, nil)
	if err != nil || len(m) != 2 || m["client.id"] != "from-file" || m["security.protocol"] != "PLAINTEXT" {
		t.Fatalf("file: %v %v", m, err)
	}
	m, err = Properties(file, []string{"client.id=mine", "key.separator==", "flag", "a=b=c"})
	if err != nil || m["client.id"] != "mine" || m["security.protocol"] != "PLAINTEXT" || m["key.separator"] != "=" || m["flag"] != "" || m["a"] != "b=c" || len(m) != 5 {
		t.Fatalf("arguments over the file: %v %v", m, err)
	}
	if _, err := Properties("/no/such/file", nil); err == nil || usage.Is(err) || !strings.Contains(err.Error(), "/no/such/file: file does not exist") {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := Properties("", []string{"=x"}); !usage.Is(err) || err.Error() != `invalid property "=x": want key=value` {
		t.Fatalf("no key: %v", err)
	}
}

func TestWarnZookeeper(t *testing.T) {
	var b strings.Builder
	WarnZookeeper(&b, "", "localhost:9092")
	if b.Len() != 0 {
		t.Fatalf("no --zookeeper: %q", b.String())
	}
	WarnZookeeper(&b, "zk:2181", "b:9092")
	if want := "Warning: --zookeeper zk:2181 is not used: tributary talks to the broker at b:9092 (--bootstrap-server) instead.\n"; b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}
