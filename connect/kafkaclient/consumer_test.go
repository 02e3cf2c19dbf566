package kafkaclient

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ConsumerOptions leaves the group to its caller, starts where nothing is
// committed at the log start unless auto.offset.reset says otherwise, and
// translates the rest as Options does.
func TestConsumerOptionsLeaveGroupToCaller(t *testing.T) {
	props := map[string]string{
		"bootstrap.servers":  "127.0.0.1:1",
		"group.id":           "theirs",
		"group.instance.id":  "theirs-1",
		"enable.auto.commit": "true",
		"session.timeout.ms": "12000",
	}
	opts, err := ConsumerOptions(props, nil)
	if err != nil {
		t.Fatal(err)
	}
	if props["group.id"] != "theirs" {
		t.Error("the caller's map was changed")
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if g := cl.OptValue(kgo.ConsumerGroup); g != "" {
		t.Errorf("consumer group %v, want none (the caller's)", g)
	}
	if id, _ := cl.OptValue(kgo.InstanceID).(*string); id != nil {
		t.Errorf("instance id %q, want none (the caller's)", *id)
	}
	if got := cl.OptValue(kgo.SessionTimeout); got != 12*time.Second {
		t.Errorf("session timeout %v, want 12s", got)
	}
	if got, want := cl.OptValue(kgo.ConsumeResetOffset).(kgo.Offset).String(), kgo.NewOffset().AtStart().String(); got != want {
		t.Errorf("reset offset %s, want the start %s", got, want)
	}

	opts, err = ConsumerOptions(map[string]string{"bootstrap.servers": "127.0.0.1:1", "auto.offset.reset": "latest"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl2, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	if got, want := cl2.OptValue(kgo.ConsumeResetOffset).(kgo.Offset).String(), kgo.NewOffset().AtEnd().String(); got != want {
		t.Errorf("auto.offset.reset=latest: reset offset %s, want the end %s", got, want)
	}

	_, err = ConsumerOptions(map[string]string{"auto.offset.reset": "sometimes"}, nil)
	if err == nil || !strings.Contains(err.Error(), `auto.offset.reset: "sometimes" is not one of earliest, latest, none`) {
		t.Errorf("bad auto.offset.reset: %v", err)
	}
}

// The pools hand out room for what is asked, rounded up to a power of two.
func TestFetchPoolSizes(t *testing.T) {
	var p fetchPool
	if s := p.GetRecords(100); len(s) != 0 || cap(s) != 128 {
		t.Errorf("records for 100: len %d cap %d, want 0 and 128", len(s), cap(s))
	}
	if b := p.GetDecompressBytes(make([]byte, 1000), 0); len(b) != 0 || cap(b) != 4096 {
		t.Errorf("buffer for 1000 compressed bytes: len %d cap %d, want 0 and 4096", len(b), cap(b))
	}
	for n, want := range map[int]int{0: 64, 64: 64, 65: 128, 1 << 20: 1 << 20} {
		if got := roundPow2(n); got != want {
			t.Errorf("roundPow2(%d) = %d, want %d", n, got, want)
		}
	}
}
