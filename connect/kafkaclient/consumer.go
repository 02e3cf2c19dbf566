package kafkaclient

import (
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// callerKeys are the consumer keys that ConsumerOptions leaves to its
// caller, which runs the group itself.
var callerKeys = []string{"group.id", "group.instance.id", "enable.auto.commit"}

// ConsumerOptions translates consumer properties for a consumer whose
// group membership and commits its caller decides (Kafka Connect's sink
// consumers): group.id, group.instance.id and enable.auto.commit are left
// out. A partition without a committed offset is read from its start
// unless auto.offset.reset says otherwise, as Kafka Connect's consumers
// are, and the client logs to log. Errors name the key and value.
func ConsumerOptions(props map[string]string, log *slog.Logger) ([]kgo.Opt, error) {
	p := make(map[string]string, len(props))
	for k, v := range props {
		p[k] = v
	}
	for _, k := range callerKeys {
		delete(p, k)
	}
	res, err := Options(p, Consumer)
	if err != nil {
		return nil, err
	}
	return append([]kgo.Opt{
		kgo.WithLogger(Logger(log)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, res.Opts...), nil
}

// FetchPools lends a consumer the record slices and decompression buffers
// of fetches already handled, instead of new ones for every fetch. A
// record goes back with Record.Recycle, once nothing refers to it or its
// key and value. The pools are sync.Pools, so an idle client lets go of
// them at the next collections.
func FetchPools() kgo.Opt { return kgo.WithPools(&fetchPool{}) }

type fetchPool struct {
	recs sync.Pool // *[]kgo.Record
	bufs sync.Pool // *[]byte
}

// GetRecords implements kgo.PoolRecords.
func (p *fetchPool) GetRecords(n int) []kgo.Record {
	if s, ok := p.recs.Get().(*[]kgo.Record); ok && cap(*s) >= n {
		return (*s)[:0]
	}
	return make([]kgo.Record, 0, roundPow2(n))
}

// PutRecords implements kgo.PoolRecords.
func (p *fetchPool) PutRecords(s []kgo.Record) { p.recs.Put(&s) }

// GetDecompressBytes implements kgo.PoolDecompressBytes.
func (p *fetchPool) GetDecompressBytes(compressed []byte, _ kgo.CompressionCodecType) []byte {
	if b, ok := p.bufs.Get().(*[]byte); ok && cap(*b) >= 2*len(compressed) {
		return (*b)[:0]
	}
	return make([]byte, 0, roundPow2(4*len(compressed)))
}

// PutDecompressBytes implements kgo.PoolDecompressBytes.
func (p *fetchPool) PutDecompressBytes(b []byte) { p.bufs.Put(&b) }

// roundPow2 is the least power of two of 64 or more that is at least n.
func roundPow2(n int) int {
	c := 64
	for c < n {
		c <<= 1
	}
	return c
}
