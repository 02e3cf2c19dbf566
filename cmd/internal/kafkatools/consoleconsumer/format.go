package consoleconsumer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/tributary-io/tributary/connect/data"
	"math"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recordFormatter writes consumed records as Kafka's DefaultMessageFormatter
// does. Its properties (--property) are print.timestamp, print.partition,
// print.offset, print.headers, print.key, print.value (each true or false;
// only print.value defaults to true), key.separator (default tab, between
// the printed fields), line.separator (default newline), headers.separator
// (default ","), null.literal (printed for a null key, value or header
// value; default "null"), and key.deserializer, value.deserializer and
// headers.deserializer (Kafka's deserializer class names).
//
// The fields of one record, in order: "CreateTime:1700000000000" (or
// LogAppendTime, or NO_TIMESTAMP), "Partition:0", "Offset:42", the headers
// "k1:v1,k2:v2" (or NO_HEADERS), the key, the value.
type recordFormatter struct {
	printTimestamp, printPartition, printOffset, printHeaders, printKey, printValue bool

	keySep, lineSep, headersSep, nullLiteral []byte

	keyDeser, valueDeser, headersDeser deserializer
}

// deserializer appends the printable form of b to dst, or fails as Kafka's
// deserializer of the same name would.
type deserializer func(dst, b []byte) ([]byte, error)

func newRecordFormatter(props map[string]string) (*recordFormatter, error) {
	f := &recordFormatter{
		printValue:  true,
		keySep:      []byte("\t"),
		lineSep:     []byte("\n"),
		headersSep:  []byte(","),
		nullLiteral: []byte("null"),
	}
	isTrue := func(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }
	for k, v := range props {
		var err error
		switch k {
		case "print.timestamp":
			f.printTimestamp = isTrue(v)
		case "print.partition":
			f.printPartition = isTrue(v)
		case "print.offset":
			f.printOffset = isTrue(v)
		case "print.headers":
			f.printHeaders = isTrue(v)
		case "print.key":
			f.printKey = isTrue(v)
		case "print.value":
			f.printValue = isTrue(v)
		case "key.separator":
			f.keySep = []byte(v)
		case "line.separator":
			f.lineSep = []byte(v)
		case "headers.separator":
			f.headersSep = []byte(v)
		case "null.literal":
			f.nullLiteral = []byte(v)
		case "key.deserializer":
			f.keyDeser, err = deserializerFor(v)
		case "value.deserializer":
			f.valueDeser, err = deserializerFor(v)
		case "headers.deserializer":
			f.headersDeser, err = deserializerFor(v)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	return f, nil
}

// appendRecord appends r's printed form to dst. On a deserializer error dst
// is returned as it was.
func (f *recordFormatter) appendRecord(dst []byte, r *kgo.Record) ([]byte, error) {
	start := len(dst)
	fail := func(err error) ([]byte, error) { return dst[:start], err }
	sep := func(more bool) {
		if more {
			dst = append(dst, f.keySep...)
		} else {
			dst = append(dst, f.lineSep...)
		}
	}
	if f.printTimestamp {
		switch r.Attrs.TimestampType() {
		case 0:
			dst = append(dst, "CreateTime:"...)
			dst = strconv.AppendInt(dst, r.Timestamp.UnixMilli(), 10)
		case 1:
			dst = append(dst, "LogAppendTime:"...)
			dst = strconv.AppendInt(dst, r.Timestamp.UnixMilli(), 10)
		default:
			dst = append(dst, "NO_TIMESTAMP"...)
		}
		sep(f.printPartition || f.printOffset || f.printHeaders || f.printKey || f.printValue)
	}
	if f.printPartition {
		dst = append(dst, "Partition:"...)
		dst = strconv.AppendInt(dst, int64(r.Partition), 10)
		sep(f.printOffset || f.printHeaders || f.printKey || f.printValue)
	}
	if f.printOffset {
		dst = append(dst, "Offset:"...)
		dst = strconv.AppendInt(dst, r.Offset, 10)
		sep(f.printHeaders || f.printKey || f.printValue)
	}
	if f.printHeaders {
		if len(r.Headers) == 0 {
			dst = append(dst, "NO_HEADERS"...)
		}
		for i, h := range r.Headers {
			if i > 0 {
				dst = append(dst, f.headersSep...)
			}
			dst = append(dst, h.Key...)
			dst = append(dst, ':')
			var err error
			if dst, err = f.appendField(dst, h.Value, f.headersDeser); err != nil {
				return fail(err)
			}
		}
		sep(f.printKey || f.printValue)
	}
	if f.printKey {
		var err error
		if dst, err = f.appendField(dst, r.Key, f.keyDeser); err != nil {
			return fail(err)
		}
		sep(f.printValue)
	}
	if f.printValue {
		var err error
		if dst, err = f.appendField(dst, r.Value, f.valueDeser); err != nil {
			return fail(err)
		}
		dst = append(dst, f.lineSep...)
	}
	return dst, nil
}

func (f *recordFormatter) appendField(dst, b []byte, d deserializer) ([]byte, error) {
	switch {
	case b == nil:
		return append(dst, f.nullLiteral...), nil
	case d == nil:
		return append(dst, b...), nil
	}
	return d(dst, b)
}

// deserializerFor maps Kafka's deserializer class names (fully qualified
// or not) to their printed forms.
func deserializerFor(class string) (deserializer, error) {
	name := strings.TrimSpace(class)
	name = name[strings.LastIndex(name, ".")+1:]
	switch name {
	case "StringDeserializer", "ByteArrayDeserializer", "BytesDeserializer", "ByteBufferDeserializer":
		return nil, nil
	case "LongDeserializer":
		return fixedInt("LongDeserializer", 8), nil
	case "IntegerDeserializer":
		return fixedInt("IntegerDeserializer", 4), nil
	case "ShortDeserializer":
		return fixedInt("ShortDeserializer", 2), nil
	case "DoubleDeserializer":
		return func(dst, b []byte) ([]byte, error) {
			if len(b) != 8 {
				return dst, errors.New("Size of data received by Deserializer is not 8") //nolint:staticcheck // Kafka's message
			}
			return data.AppendJavaDouble(dst, math.Float64frombits(binary.BigEndian.Uint64(b)), 64), nil
		}, nil
	case "FloatDeserializer":
		return func(dst, b []byte) ([]byte, error) {
			if len(b) != 4 {
				return dst, errors.New("Size of data received by Deserializer is not 4") //nolint:staticcheck // Kafka's message
			}
			return data.AppendJavaDouble(dst, float64(math.Float32frombits(binary.BigEndian.Uint32(b))), 32), nil
		}, nil
	case "UUIDDeserializer":
		return func(dst, b []byte) ([]byte, error) {
			if !isUUID(b) {
				return dst, errors.New("Error parsing data into UUID") //nolint:staticcheck // Kafka's message
			}
			return append(dst, strings.ToLower(string(b))...), nil
		}, nil
	case "VoidDeserializer":
		return func(dst, b []byte) ([]byte, error) {
			return dst, errors.New("Data should be null for a VoidDeserializer.") //nolint:staticcheck // Kafka's message
		}, nil
	}
	return nil, fmt.Errorf("unknown deserializer %q: want one of Kafka's String, ByteArray, Bytes, Long, Integer, Short, Double, Float, UUID or Void deserializers", class)
}

func fixedInt(name string, size int) deserializer {
	return func(dst, b []byte) ([]byte, error) {
		if len(b) != size {
			return dst, fmt.Errorf("Size of data received by %s is not %d", name, size) //nolint:staticcheck // Kafka's message
		}
		var v int64
		switch size {
		case 8:
			v = int64(binary.BigEndian.Uint64(b))
		case 4:
			v = int64(int32(binary.BigEndian.Uint32(b)))
		default:
			v = int64(int16(binary.BigEndian.Uint16(b)))
		}
		return strconv.AppendInt(dst, v, 10), nil
	}
}

func isUUID(b []byte) bool {
	if len(b) != 36 {
		return false
	}
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
