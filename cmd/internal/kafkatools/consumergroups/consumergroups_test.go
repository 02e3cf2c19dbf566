package consumergroups

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

// TestRun lists and describes a group of the bundled broker over TCP,
// then plans and executes a reset of its offsets.
func TestRun(t *testing.T) {
	addr := kafkatest.StartBroker(t)
	kafkatest.CreateTopic(t, addr, "cg-run", 1)
	var recs []*kgo.Record
	for range 5 {
		recs = append(recs, &kgo.Record{Topic: "cg-run", Value: []byte("x")})
	}
	kafkatest.Produce(t, addr, recs...)
	var offsets kadm.Offsets
	offsets.AddOffset("cg-run", 0, 2, -1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := kadm.NewClient(kafkatest.Client(t, addr)).CommitAllOffsets(ctx, "cg-run-g", offsets); err != nil {
		t.Fatal(err)
	}
	run := func(o Options) (stdout, stderr string, err error) {
		t.Helper()
		o.Bootstrap, o.TimeoutMs = addr, 5000
		var out, errb strings.Builder
		err = Run(context.Background(), o, &out, &errb)
		return out.String(), errb.String(), err
	}

	if out, _, err := run(Options{List: true}); err != nil || out != "cg-run-g\n" {
		t.Fatalf("list: %v %q", err, out)
	}
	out, errOut, err := run(Options{Describe: true, Groups: []string{"cg-run-g"}})
	want := "\n" +
		"GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID\n" +
		"cg-run-g        cg-run          0          2               5               3               -               -               -\n"
	if err != nil || out != want || errOut != "\nConsumer group 'cg-run-g' has no active members.\n" {
		t.Fatalf("describe: %v\n%q\n%q", err, out, errOut)
	}

	reset := Options{ResetOffsets: true, Groups: []string{"cg-run-g"}, Topics: []string{"cg-run"}, ShiftBy: 10, Changed: kafkatest.Changed("shift-by")}
	out, errOut, err = run(reset)
	if err != nil || out != "\nGROUP           TOPIC           PARTITION  NEW-OFFSET\ncg-run-g        cg-run          0          5\n" ||
		!strings.HasPrefix(errOut, "WARN: No action will be performed as the --execute option is missing.") {
		t.Fatalf("dry run: %v\n%q\n%q", err, out, errOut)
	}
	if got := kafkatest.Committed(t, addr, "cg-run-g", "cg-run", 1); got[0] != 2 {
		t.Fatalf("a dry run committed %v", got)
	}
	reset.Execute, reset.Changed = true, kafkatest.Changed("shift-by", "execute")
	if _, _, err := run(reset); err != nil {
		t.Fatalf("execute: %v", err)
	}
	if got := kafkatest.Committed(t, addr, "cg-run-g", "cg-run", 1); got[0] != 5 {
		t.Fatalf("after --execute: committed %v, want 5 (the shift clamped to the log end)", got)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		o    Options
		want string // "" for none
	}{
		{Options{TimeoutMs: 5000}, "exactly one action"},
		{Options{Describe: true, TimeoutMs: 5000}, "--describe takes one of these options: --all-groups, --group"},
		{Options{List: true, State: "sleeping", Changed: kafkatest.Changed("state"), TimeoutMs: 5000}, "invalid state list 'sleeping'"},
		{Options{Describe: true, Groups: []string{"g"}, ToEarliest: true, Changed: kafkatest.Changed("group", "to-earliest"), TimeoutMs: 5000}, "--to-earliest can only be used with --reset-offsets"},
		{Options{ResetOffsets: true, Groups: []string{"g"}, Topics: []string{"t:x"}, ToEarliest: true, Changed: kafkatest.Changed("to-earliest"), TimeoutMs: 5000}, "invalid partition 'x' specified in topic arg 't:x'"},
		{Options{ResetOffsets: true, Groups: []string{"g"}, Topics: []string{"t"}, ByDuration: "1h", Changed: kafkatest.Changed("by-duration"), TimeoutMs: 5000}, "is not an ISO-8601 duration"},
		{Options{List: true}, "--timeout must be positive"},
		{Options{ResetOffsets: true, AllGroups: true, AllTopics: true, ToLatest: true, Changed: kafkatest.Changed("to-latest"), TimeoutMs: 5000}, ""},
	}
	for _, tt := range tests {
		err := tt.o.Check()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.o, err)
		case tt.want != "" && (err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: err %v, want a usage error saying %q", tt.o, err, tt.want)
		}
	}
}
