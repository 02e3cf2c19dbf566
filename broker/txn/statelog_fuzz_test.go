package txn

import (
	"testing"
	"time"
)

// FuzzStateLog: any file decodes to the records before its first bad one
// without panicking, and each of them encodes back to its bytes.
func FuzzStateLog(f *testing.F) {
	r := record{id: "tx", pid: 4, epoch: 2, lastPID: -1, lastEpoch: -1, timeout: time.Minute,
		state: StateOngoing, start: time.UnixMilli(1000), update: time.UnixMilli(2000),
		partitions: []TopicPartition{{"a", 0}, {"b", 3}}, groups: []string{"g"}}
	f.Add(r.encode(stateMagic[:]))
	f.Add(append(r.encode(stateMagic[:]), 0, 0, 0, 9, 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, dropped, err := decodeStateLog(data)
		if err != nil {
			return
		}
		n := len(stateMagic)
		if len(data) < n {
			return
		}
		for i := range recs {
			n += len(recs[i].encode(nil))
		}
		if n+dropped != len(data) {
			t.Fatalf("%d records end at %d, %d bytes dropped, file %d", len(recs), n, dropped, len(data))
		}
	})
}
