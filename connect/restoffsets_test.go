package connect_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

type offsetsBody struct {
	Offsets []struct {
		Partition map[string]any `json:"partition"`
		Offset    map[string]any `json:"offset"`
	} `json:"offsets"`
}

func (fc *fileCluster) offsets() offsetsBody {
	fc.t.Helper()
	var o offsetsBody
	getJSON(fc.t, fc.base+"/connectors/"+fiConnector+"/offsets", &o)
	return o
}

// TestRESTModifyOffsets: PATCH and DELETE /connectors/{name}/offsets
// answer 400 with Kafka's messages on a running connector and on bad
// entries; on a stopped one they change what GET shows (a source's
// position alone, as Kafka shows it) and, for a source, the offsets file
// at once.
func TestRESTModifyOffsets(t *testing.T) {
	fileClusters(t, func(t *testing.T, fc *fileCluster) {
		file := fc.startSource()
		part := `{"filename":` + quote(file) + `}`
		patch := func(entries string) (int, string) {
			code, b := httpDo(t, "PATCH", fc.base+"/connectors/"+fiConnector+"/offsets", `{"offsets":[`+entries+`]}`)
			var e restErr
			json.Unmarshal(b, &e)
			return code, e.Message
		}
		if code, msg := patch(`{"partition":` + part + `,"offset":{"position":1}}`); code != 400 ||
			msg != "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/test-connector/stop' endpoint" {
			t.Errorf("alter while running: %d %s", code, msg)
		}
		if code, b := httpDo(t, "DELETE", fc.base+"/connectors/"+fiConnector+"/offsets", ""); code != 400 {
			t.Errorf("reset while running: %d %s", code, b)
		}
		fc.stop()
		if o := fc.offsets(); len(o.Offsets) != 1 || !reflect.DeepEqual(o.Offsets[0].Offset, map[string]any{"position": float64(35)}) {
			t.Errorf("offsets of the stopped source: %+v", o)
		}
		for entries, want := range map[string]string{
			``: "Partitions / offsets need to be provided for an alter offsets request",
			`{"partition":` + part + `,"offset":{"pos":1}}`:        "Offset objects should either be null or contain the key 'position'",
			`{"partition":` + part + `,"offset":{"position":-1}}`:  "The value for the 'position' key in the offset should be a non-negative value",
			`{"partition":` + part + `,"offset":{"position":"x"}}`: "The value for the 'position' key in the offset is expected to be a Long value",
			`{"offset":{"position":1}}`:                            "Partition objects cannot be null",
		} {
			if code, msg := patch(entries); code != 400 || msg != want {
				t.Errorf("alter %s: %d %q, want 400 %q", entries, code, msg, want)
			}
		}
		fc.alterOffsets(part, `{"position":28}`)
		if o := fc.offsets(); len(o.Offsets) != 1 || !reflect.DeepEqual(o.Offsets[0].Offset, map[string]any{"position": float64(28)}) {
			t.Errorf("offsets after alter: %+v", o)
		}
		b, _ := os.ReadFile(filepath.Join(fc.dir, "connect.offsets"))
		if !strings.Contains(string(b), `"value":{"position":28,`) {
			t.Errorf("offsets file after alter:\n%s", b)
		}
		fc.resetOffsets()
		if o := fc.offsets(); len(o.Offsets) != 1 || !reflect.DeepEqual(o.Offsets[0].Offset, map[string]any{"position": float64(0)}) {
			t.Errorf("offsets after reset: %+v", o)
		}
		fc.alterOffsets(part, `null`)
		if o := fc.offsets(); len(o.Offsets) != 0 {
			t.Errorf("offsets after removing the entry: %+v", o)
		}
		if code, b := httpDo(t, "DELETE", fc.base+"/connectors/nope/offsets", ""); code != 404 {
			t.Errorf("reset of an unknown connector: %d %s", code, b)
		}
	})
}

// TestRESTModifySinkOffsets: a stopped sink's group offsets are altered,
// removed and reset over REST, and GET shows them in Kafka's shape.
func TestRESTModifySinkOffsets(t *testing.T) {
	fileClusters(t, func(t *testing.T, fc *fileCluster) {
		fc.startSink()
		fc.stop()
		shown := func() string {
			var parts []string
			for _, e := range fc.offsets().Offsets {
				parts = append(parts, fmt.Sprintf("%v/%v@%v", e.Partition["kafka_topic"], e.Partition["kafka_partition"], e.Offset["kafka_offset"]))
			}
			return strings.Join(parts, ",")
		}
		if got := shown(); got != fiTopic+"/0@5" {
			t.Errorf("offsets of the stopped sink: %s", got)
		}
		code, b := httpDo(t, "PATCH", fc.base+"/connectors/"+fiConnector+"/offsets", `{"offsets":[{"partition":{"kafka_topic":"x"},"offset":{"kafka_offset":1}}]}`)
		if code != 400 || !strings.Contains(string(b), "must contain the keys 'kafka_topic' and 'kafka_partition'") {
			t.Errorf("alter without kafka_partition: %d %s", code, b)
		}
		fc.alterOffsets(`{"kafka_topic":"`+fiTopic+`","kafka_partition":"0"}`, `{"kafka_offset":"2"}`) // numbers as strings, as Kafka takes them
		if got := shown(); got != fiTopic+"/0@2" {
			t.Errorf("offsets after alter: %s", got)
		}
		fc.alterOffsets(`{"kafka_topic":"`+fiTopic+`","kafka_partition":0}`, `null`)
		if got := shown(); got != "" {
			t.Errorf("offsets after removing the partition: %s", got)
		}
		fc.resetOffsets()
		fc.resetOffsets() // idempotent, as Kafka's
		if got := shown(); got != "" {
			t.Errorf("offsets after reset: %s", got)
		}
	})
}
