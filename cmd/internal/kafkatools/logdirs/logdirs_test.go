package logdirs

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

func TestReportJSON(t *testing.T) {
	storage := javaException(kerr.KafkaStorageError)
	r := report{Version: 1, Brokers: []brokerReport{{Broker: 1, LogDirs: []dirReport{
		{LogDir: "/data/a<b>", Partitions: []partitionReport{{Partition: "t-0", Size: 120, OffsetLag: 0}, {Partition: "t-1", Size: 7, OffsetLag: 2, IsFuture: true}}},
		{LogDir: "/data/broken", Error: storage},
	}}}}
	b, _ := r.MarshalJSON()
	want := `{"brokers":[{"broker":1,"logDirs":[{"partitions":[{"partition":"t-0","size":120,"offsetLag":0,"isFuture":false},{"partition":"t-1","size":7,"offsetLag":2,"isFuture":true}],"error":null,"logDir":"/data/a<b>"},{"partitions":[],"error":"org.apache.kafka.common.errors.KafkaStorageException","logDir":"/data/broken"}]}],"version":1}`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	if got := *javaException(kerr.ReplicaNotAvailable); got != "org.apache.kafka.common.errors.ReplicaNotAvailableException" {
		t.Errorf("generic name: %s", got)
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{}, `missing required argument "[describe]"`},
		{Options{Describe: true, BrokerList: "1,x"}, `--broker-list "1,x": "x" is not a broker id`},
	} {
		if err := tc.o.Check(); err == nil || !usage.Is(err) || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
	o := Options{Describe: true, BrokerList: "3,1,,3"}
	if ids, err := o.brokers(); err != nil || len(ids) != 2 || ids[0] != 1 || ids[1] != 3 {
		t.Errorf("brokers %v %v", ids, err)
	}
}

func TestRunAgainstKfake(t *testing.T) {
	addr := kafkatest.StartKfake(t)
	kafkatest.CreateTopic(t, addr, "kf", 1)
	var out strings.Builder
	if err := Run(t.Context(), Options{Bootstrap: addr, Describe: true, TopicList: "kf"}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if len(lines) != 4 || lines[0] != "Querying brokers for log directories information" || !strings.HasPrefix(lines[1], "Received log directory information from brokers ") ||
		!strings.Contains(lines[2], `{"partition":"kf-0","size":`) || !strings.HasSuffix(lines[2], `],"version":1}`) {
		t.Errorf("%q", lines)
	}
}
