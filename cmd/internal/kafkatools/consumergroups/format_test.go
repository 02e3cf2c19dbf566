package consumergroups

import (
	"strings"
	"testing"
	"time"
)

func TestWriteOffsetsTable(t *testing.T) {
	var b strings.Builder
	writeOffsetsTable(&b, []groupOffsetRow{
		{Group: "g1", Topic: "a-rather-long-topic-name", Partition: 0, Current: 5, End: 9, Consumer: "consumer-1-abc", Host: "/127.0.0.1", ClientID: "consumer-1"},
		{Group: "g1", Topic: "t", Partition: 1, Current: -1, End: 3, Consumer: "-", Host: "-", ClientID: "-"},
		{Group: "g1", Consumer: "idle-member", Host: "/10.0.0.1", ClientID: "c", Current: -1, End: -1},
	})
	want := "\n" +
		"GROUP           TOPIC                    PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID\n" +
		"g1              a-rather-long-topic-name 0          5               9               4               consumer-1-abc  /127.0.0.1      consumer-1\n" +
		"g1              t                        1          -               3               -               -               -               -\n" +
		"g1              -                        -          -               -               -               idle-member     /10.0.0.1       c\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteMembersTable(t *testing.T) {
	var b strings.Builder
	writeMembersTable(&b, []groupMemberRow{
		{Group: "g", Consumer: "m1", Host: "/h", ClientID: "c1", Assignment: map[string][]int32{"t": {1, 0}, "a": {2}}},
		{Group: "g", Consumer: "m2", InstanceID: "static-1", Host: "/h", ClientID: "c2", Assignment: map[string][]int32{}},
	}, true)
	want := "\n" +
		"GROUP           CONSUMER-ID     GROUP-INSTANCE-ID HOST            CLIENT-ID       #PARTITIONS     ASSIGNMENT\n" +
		"g               m1                                /h              c1              3               a(2), t(0,1)\n" +
		"g               m2              static-1          /h              c2              0               -\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestWriteStateTable(t *testing.T) {
	var b strings.Builder
	writeStateTable(&b, groupState{Group: "g1", Coordinator: "localhost:9092  (1)", Strategy: "range", State: "Stable", Members: 2})
	want := "\nGROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                #MEMBERS" +
		"\ng1              localhost:9092  (1)       range                Stable               2\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestParseKafkaDateTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 in UTC
	}{
		{"2024-03-01T10:20:30.123", "2024-03-01T10:20:30.123Z"},
		{"2024-03-01T10:20:30", "2024-03-01T10:20:30Z"},
		{"2024-03-01T10:20:30.000Z", "2024-03-01T10:20:30Z"},
		{"2024-03-01T10:20:30.000+01:00", "2024-03-01T09:20:30Z"},
		{"2024-03-01T10:20:30.000-0230", "2024-03-01T12:50:30Z"},
		{"2024-03-01T10:20:30.000+01", "2024-03-01T09:20:30Z"},
	}
	for _, tt := range tests {
		got, err := parseKafkaDateTime(tt.in)
		if err != nil || got.UTC().Format(time.RFC3339Nano) != tt.want {
			t.Errorf("%s: %v %v, want %s", tt.in, got.UTC(), err, tt.want)
		}
	}
	for _, bad := range []string{"2024-03-01", "2024-03-01T25:00:00", "yesterday"} {
		if _, err := parseKafkaDateTime(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseISODuration(t *testing.T) {
	tests := map[string]time.Duration{
		"PT1H":       time.Hour,
		"PT1H30M":    90 * time.Minute,
		"P1D":        24 * time.Hour,
		"P2DT3H4M5S": 51*time.Hour + 4*time.Minute + 5*time.Second,
		"PT0.5S":     500 * time.Millisecond,
		"pt10m":      10 * time.Minute,
		"-PT1M":      -time.Minute,
		"PT0S":       0,
	}
	for in, want := range tests {
		if got, err := parseISODuration(in); err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "P", "PT", "1H", "PT1X", "P1H"} {
		if _, err := parseISODuration(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseResetCSV(t *testing.T) {
	rows, err := parseResetCSV("t,0,5\nt,1,6\n\n", "g")
	if err != nil || len(rows) != 2 || rows[1] != (resetRow{"g", "t", 1, 6}) {
		t.Fatalf("%v %v", rows, err)
	}
	rows, err = parseResetCSV("g1,t,0,5\ng2,t,0,7\n", "")
	if err != nil || rows[1] != (resetRow{"g2", "t", 0, 7}) {
		t.Fatalf("%v %v", rows, err)
	}
	for _, bad := range []string{"t,0", "t,x,1", "t,0,1"} {
		if _, err := parseResetCSV(bad, ""); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestClampOffset(t *testing.T) {
	if got, w := clampOffset(5, 2, 9, "t-0"); got != 5 || w != "" {
		t.Errorf("in range: %d %q", got, w)
	}
	if got, w := clampOffset(12, 2, 9, "t-0"); got != 9 || w != "New offset (12) is higher than latest offset for topic partition t-0. Value will be set to 9." {
		t.Errorf("above: %d %q", got, w)
	}
	if got, w := clampOffset(1, 2, 9, "t-0"); got != 2 || w != "New offset (1) is lower than earliest offset for topic partition t-0. Value will be set to 2." {
		t.Errorf("below: %d %q", got, w)
	}
}
