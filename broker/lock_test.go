package broker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// TestLogDirLocked: a second broker on a log dir that a running broker
// holds is refused at start with an error naming the folder and the
// holder's pid, and the first broker's data is untouched; after the first
// stops, the folder can be used again.
func TestLogDirLocked(t *testing.T) {
	dir := t.TempDir()
	first := startBrokerIn(t, dir)
	createTopic(t, first.addr, "kept", 1, nil)
	before := dirState(t, dir)

	b, err := New(brokerConfig(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = b.Start(ctx)
	b.Close(ctx)
	want := fmt.Sprintf("log dir %s is in use by another broker (%s is held by another process (pid %d)); stop that broker, or give this one other log.dirs", dir, filepath.Join(dir, lockFile), os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second broker's start: %v\nwant an error containing %q", err, want)
	}
	if after := dirState(t, dir); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Fatalf("the refused broker changed the log dir:\nbefore %v\nafter  %v", before, after)
	}

	first.stop()
	again := startBrokerIn(t, dir)
	topics, err := kadm.NewClient(newClient(t, again.addr)).ListTopics(ctx)
	if err != nil || !topics.Has("kept") {
		t.Fatalf("topics after the first broker stopped and another started: %v %v", topics.Names(), err)
	}
}
