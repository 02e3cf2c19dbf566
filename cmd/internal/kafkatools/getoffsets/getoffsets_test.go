package getoffsets

import (
	"strings"
	"testing"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

func TestParseTime(t *testing.T) {
	for in, want := range map[string]int64{
		"latest": -1, "-1": -1, "earliest": -2, "-2": -2, "max-timestamp": -3, "-3": -3,
		"earliest-local": -4, "-4": -4, "latest-tiered": -5, "-5": -5, "0": 0, "1700000000000": 1700000000000,
	} {
		if got, err := ParseTime(in); err != nil || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "now", "-6", "1.5"} {
		if _, err := ParseTime(in); err == nil || !usage.Is(err) {
			t.Errorf("%q: %v, want a usage error", in, err)
		}
	}
}

func TestFilters(t *testing.T) {
	type tp struct {
		topic string
		p     int32
	}
	all := []tp{{"orders", 0}, {"orders", 1}, {"orders", 5}, {"orders-eu", 0}, {"logs", 3}}
	for _, tc := range []struct {
		o    Options
		want []tp
	}{
		{Options{}, all},
		{Options{Topic: "orders"}, []tp{{"orders", 0}, {"orders", 1}, {"orders", 5}}},
		{Options{Topic: "orders.*", Partitions: "0,5"}, []tp{{"orders", 0}, {"orders", 5}, {"orders-eu", 0}}},
		{Options{Topic: "'orders, logs'"}, []tp{{"orders", 0}, {"orders", 1}, {"orders", 5}, {"logs", 3}}},
		{Options{TopicPartitions: "orders:1"}, []tp{{"orders", 1}}},
		{Options{TopicPartitions: "orders:1-5"}, []tp{{"orders", 1}}},
		{Options{TopicPartitions: "orders:1-"}, []tp{{"orders", 1}, {"orders", 5}}},
		{Options{TopicPartitions: "orders:-1,logs"}, []tp{{"orders", 0}, {"logs", 3}}},
		{Options{TopicPartitions: ":0"}, []tp{{"orders", 0}, {"orders-eu", 0}}},
		{Options{TopicPartitions: "orders-.*"}, []tp{{"orders-eu", 0}}},
	} {
		tc.o.Time = "latest"
		if err := tc.o.Check(); err != nil {
			t.Fatalf("%+v: %v", tc.o, err)
		}
		fs, _ := tc.o.filters()
		var got []tp
		for _, x := range all {
			if allowed(fs, x.topic, x.p) {
				got = append(got, x)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%+v: %v, want %v", tc.o, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%+v: %v, want %v", tc.o, got, tc.want)
				break
			}
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{TopicPartitions: "a:0", Topic: "a", Time: "latest"}, "--topic-partitions cannot be used with --topic or --partitions"},
		{Options{TopicPartitions: "a:0", Partitions: "1", Time: "latest"}, "--topic-partitions cannot be used with --topic or --partitions"},
		{Options{TopicPartitions: "a:x", Time: "latest"}, "invalid rule specification: a:x"},
		{Options{TopicPartitions: "a:99999999999", Time: "latest"}, "partition 99999999999 out of range"},
		{Options{Partitions: "0,one", Time: "latest"}, "--partitions expects a comma separated list of numeric partition ids, but received: 0,one"},
		{Options{Topic: "(", Time: "latest"}, "( is an invalid regex"},
		{Options{Time: "yesterday"}, "malformed time argument yesterday"},
	} {
		err := tc.o.Check()
		if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want usage error %q", tc.o, err, tc.want)
		}
	}
}

// TestRunAgainstKfake runs the tool against kfake, a broker this project
// did not write (the bundled broker is tested through the command).
func TestRunAgainstKfake(t *testing.T) {
	addr := kafkatest.StartKfake(t)
	kafkatest.CreateTopic(t, addr, "kf", 2)
	var out, errb strings.Builder
	err := Run(t.Context(), Options{Bootstrap: addr, Topic: "kf", Time: "earliest"}, &out, &errb)
	if err != nil || out.String() != "kf:0:0\nkf:1:0\n" {
		t.Fatalf("%v\n%s%s", err, out.String(), errb.String())
	}
	err = Run(t.Context(), Options{Bootstrap: kafkatest.ClosedAddr(t), Time: "latest"}, &out, &errb)
	if err == nil {
		t.Fatal("no error without a broker")
	}
}
