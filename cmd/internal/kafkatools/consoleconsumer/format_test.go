package consoleconsumer

import (
	"encoding/binary"
	"github.com/tributary-io/tributary/connect/data"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRecordFormatter(t *testing.T) {
	ts := time.UnixMilli(1700000000123)
	rec := &kgo.Record{Key: []byte("k"), Value: []byte("v"), Partition: 3, Offset: 9, Timestamp: ts,
		Headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b", Value: nil}}}
	bare := &kgo.Record{Timestamp: ts}
	tests := []struct {
		props map[string]string
		rec   *kgo.Record
		want  string
	}{
		{nil, rec, "v\n"},
		{nil, bare, "null\n"},
		{map[string]string{"print.key": "true"}, rec, "k\tv\n"},
		{map[string]string{"print.key": "TRUE ", "print.value": "false"}, rec, "k\n"},
		{map[string]string{"print.value": "false"}, rec, ""},
		{map[string]string{"print.timestamp": "true"}, rec, "CreateTime:1700000000123\tv\n"},
		{map[string]string{"print.partition": "true", "print.offset": "true"}, rec, "Partition:3\tOffset:9\tv\n"},
		{map[string]string{"print.headers": "true"}, rec, "a:1,b:null\tv\n"},
		{map[string]string{"print.headers": "true", "headers.separator": ";", "null.literal": "-"}, rec, "a:1;b:-\tv\n"},
		{map[string]string{"print.headers": "true"}, bare, "NO_HEADERS\tnull\n"},
		{map[string]string{"print.key": "true", "null.literal": "<none>"}, bare, "<none>\t<none>\n"},
		{map[string]string{"print.key": "true", "key.separator": "=", "line.separator": "|"}, rec, "k=v|"},
		{map[string]string{"print.timestamp": "true", "print.partition": "true", "print.offset": "true", "print.headers": "true", "print.key": "true", "print.value": "false"}, rec,
			"CreateTime:1700000000123\tPartition:3\tOffset:9\ta:1,b:null\tk\n"},
		{map[string]string{"print.timestamp": "true", "print.value": "false"}, rec, "CreateTime:1700000000123\n"},
	}
	for _, tt := range tests {
		f, err := newRecordFormatter(tt.props)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.appendRecord([]byte("prefix:"), tt.rec)
		if err != nil || string(got) != "prefix:"+tt.want {
			t.Errorf("%v: got %q, %v; want %q", tt.props, got, err, tt.want)
		}
	}
}

func TestDeserializers(t *testing.T) {
	be := func(n int, v uint64) []byte {
		b := binary.BigEndian.AppendUint64(nil, v)
		return b[8-n:]
	}
	tests := []struct {
		class string
		in    []byte
		want  string
		err   string
	}{
		{"org.apache.kafka.common.serialization.StringDeserializer", []byte("héllo"), "héllo", ""},
		{"ByteArrayDeserializer", []byte{1, 2}, "\x01\x02", ""},
		{"org.apache.kafka.common.serialization.LongDeserializer", be(8, 1<<40), "1099511627776", ""},
		{"LongDeserializer", be(8, ^uint64(0)), "-1", ""},
		{"LongDeserializer", []byte{1}, "", "Size of data received by LongDeserializer is not 8"},
		{"IntegerDeserializer", be(4, 0xfffffffe), "-2", ""},
		{"IntegerDeserializer", be(8, 1), "", "Size of data received by IntegerDeserializer is not 4"},
		{"ShortDeserializer", be(2, 300), "300", ""},
		{"DoubleDeserializer", be(8, 0x3ff0000000000000), "1.0", ""},
		{"DoubleDeserializer", be(4, 0), "", "Size of data received by Deserializer is not 8"},
		{"FloatDeserializer", be(4, 0x40490fdb), "3.1415927", ""},
		{"UUIDDeserializer", []byte("123E4567-e89b-12d3-a456-426614174000"), "123e4567-e89b-12d3-a456-426614174000", ""},
		{"UUIDDeserializer", []byte("not-a-uuid"), "", "Error parsing data into UUID"},
		{"VoidDeserializer", []byte("x"), "", "Data should be null for a VoidDeserializer."},
	}
	for _, tt := range tests {
		d, err := deserializerFor(tt.class)
		if err != nil {
			t.Fatalf("%s: %v", tt.class, err)
		}
		f := &recordFormatter{nullLiteral: []byte("null")}
		got, err := f.appendField(nil, tt.in, d)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s %x: err %v, want %q", tt.class, tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%s %x: got %q, %v; want %q", tt.class, tt.in, got, err, tt.want)
		}
	}
}

func TestJavaFloat(t *testing.T) {
	tests := []struct {
		f    float64
		bits int
		want string
	}{
		{1, 64, "1.0"}, {-2.5, 64, "-2.5"}, {100, 64, "100.0"}, {0.001, 64, "0.001"}, {1234567.5, 64, "1234567.5"},
		{1e7, 64, "1.0E7"}, {1.5e10, 64, "1.5E10"}, {0.0001, 64, "1.0E-4"}, {-3.25e-5, 64, "-3.25E-5"},
		{0, 64, "0.0"}, {-1 / posInf(), 64, "-0.0"}, {posInf(), 64, "Infinity"}, {-posInf(), 64, "-Infinity"},
		{float64(float32(0.1)), 32, "0.1"},
	}
	for _, tt := range tests {
		if got := string(data.AppendJavaDouble(nil, tt.f, tt.bits)); got != tt.want {
			t.Errorf("AppendJavaDouble(%v, %d) = %q, want %q", tt.f, tt.bits, got, tt.want)
		}
	}
}

func posInf() float64 { return float64(1) / zero }

var zero float64
