package consumerlag

import (
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{}, `missing required argument "[group]"`},
		{Options{Groups: []string{""}}, "--group needs a group id"},
		{Options{Groups: []string{"g"}, MaxLag: -5}, "--max-lag -5: must be 0 or more"},
	} {
		if err := tc.o.Check(); err == nil || !usage.Is(err) || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	var b strings.Builder
	writeTable(&b, []Row{
		{Group: "a-rather-long-group-name", Topic: "t", Partition: 0, Current: 5, End: 9, Lag: 4},
		{Group: "a-rather-long-group-name", Topic: "t", Partition: 1, Current: -1, End: 3, Lag: 3},
	})
	want := "\n" +
		"GROUP                    TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG\n" +
		"a-rather-long-group-name t               0          5               9               4\n" +
		"a-rather-long-group-name t               1          -               3               3\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestRun checks a group that keeps up and one that falls behind, on the
// bundled broker.
func TestRun(t *testing.T) {
	addr := kafkatest.StartBroker(t)
	kafkatest.CreateTopic(t, addr, "t", 1)
	var recs []*kgo.Record
	for range 5 {
		recs = append(recs, &kgo.Record{Topic: "t", Value: []byte("x")})
	}
	kafkatest.Produce(t, addr, recs...)
	adm := kadm.NewClient(kafkatest.Client(t, addr))
	var offs kadm.Offsets
	offs.AddOffset("t", 0, 2, -1)
	if err := adm.CommitAllOffsets(t.Context(), "behind", offs); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err := Run(t.Context(), Options{Bootstrap: addr, Groups: []string{"behind"}, MaxLag: 2}, &out)
	if !errors.Is(err, ErrLagging) || !strings.Contains(err.Error(), "on t-0 (lag 3)") {
		t.Errorf("%v\n%s", err, out.String())
	}
	out.Reset()
	if err := Run(t.Context(), Options{Bootstrap: addr, Groups: []string{"behind"}, MaxLag: 3}, &out); err != nil || !strings.HasSuffix(out.String(), "its largest lag is 3 (t-0).\n") {
		t.Errorf("%v\n%s", err, out.String())
	}
}
