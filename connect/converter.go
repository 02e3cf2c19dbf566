package connect

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tributary-io/tributary/connect/data"
)

// Converter turns a connector's string data into the bytes stored in Kafka
// and back, as Kafka Connect's converters do.
type Converter interface {
	// FromConnect appends the serialized form of the string v to dst. A nil
	// v is a null; the converter then returns nil (a null in Kafka).
	FromConnect(dst, v []byte) []byte
	// ToConnect converts stored bytes into what a sink writes: the Java
	// text (toString) of the value Kafka's converter makes of them, so a
	// string's bytes as they are, a JSON object as {k=v} (see
	// javatext.go); nil for a null. The result may share memory with b.
	ToConnect(b []byte) ([]byte, error)
	// ToData converts stored bytes into Connect's data, as the converter's
	// toConnectData: a schema (nil: none) and a value (package data).
	ToData(b []byte) (*data.Schema, any, error)
	// FromData appends the serialized form of a value of Connect's data,
	// as the converter's fromConnectData; nil for a null.
	FromData(dst []byte, s *data.Schema, v any) ([]byte, error)
}

// The converter classes, by Kafka's names.
const (
	StringConverterClass    = "org.apache.kafka.connect.storage.StringConverter"
	JSONConverterClass      = "org.apache.kafka.connect.json.JsonConverter"
	ByteArrayConverterClass = "org.apache.kafka.connect.converters.ByteArrayConverter"
	// SimpleHeaderConverterClass is Kafka's default header.converter.
	SimpleHeaderConverterClass = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
)

// CheckHeaderConverter accepts the header.converter classes Kafka ships
// (full name or simple class name). The file connectors' records carry only
// the source's position headers, which no sink writes, so a header
// converter has nothing to convert; it is accepted and checked.
func CheckHeaderConverter(class string) error {
	switch class[strings.LastIndex(class, ".")+1:] {
	case "SimpleHeaderConverter", "StringConverter", "JsonConverter", "ByteArrayConverter":
		return nil
	}
	return fmt.Errorf("is not a known header converter (%s, %s, %s or %s)", SimpleHeaderConverterClass, StringConverterClass, JSONConverterClass, ByteArrayConverterClass)
}

// NewConverter returns the converter of a class (full name or the simple
// class name). schemasEnable is the JsonConverter's schemas.enable.
func NewConverter(class string, schemasEnable bool) (Converter, error) {
	short := class[strings.LastIndex(class, ".")+1:]
	switch short {
	case "StringConverter":
		return stringConverter{}, nil
	case "JsonConverter":
		return jsonConverter{schemas: schemasEnable}, nil
	case "ByteArrayConverter":
		return byteArrayConverter{}, nil
	}
	return nil, fmt.Errorf("is not a known converter (%s, %s or %s)", StringConverterClass, JSONConverterClass, ByteArrayConverterClass)
}

type stringConverter struct{}

func (stringConverter) FromConnect(dst, v []byte) []byte {
	if v == nil {
		return nil
	}
	return append(dst, v...)
}

func (stringConverter) ToConnect(b []byte) ([]byte, error) { return b, nil }

// ToData is the StringConverter's: an optional string.
func (stringConverter) ToData(b []byte) (*data.Schema, any, error) {
	if b == nil {
		return data.OptionalStringSchema, nil, nil
	}
	return data.OptionalStringSchema, string(b), nil
}

// FromData writes the value's Java text (toString), as the StringConverter.
func (stringConverter) FromData(dst []byte, _ *data.Schema, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return nonNil(data.AppendJava(dst, v)), nil
}

type byteArrayConverter struct{}

func (byteArrayConverter) FromConnect(dst, v []byte) []byte {
	if v == nil {
		return nil
	}
	return append(dst, v...)
}

func (byteArrayConverter) ToConnect(b []byte) ([]byte, error) { return b, nil }

// ToData is the ByteArrayConverter's: optional bytes.
func (byteArrayConverter) ToData(b []byte) (*data.Schema, any, error) {
	if b == nil {
		return data.OptionalBytesSchema, nil, nil
	}
	return data.OptionalBytesSchema, b, nil
}

// FromData takes bytes only, as the ByteArrayConverter, with its messages.
// A string (a file source's line) is taken as its bytes.
func (byteArrayConverter) FromData(dst []byte, s *data.Schema, v any) ([]byte, error) {
	if s != nil && s.Type != data.Bytes && s.Type != data.String {
		return nil, data.Errorf("Invalid schema type for ByteArrayConverter: %s", s.Type)
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return append(dst, x...), nil
	case string:
		return append(dst, x...), nil
	}
	return nil, data.Errorf("ByteArrayConverter is not compatible with objects of type class %s", data.JavaClass(v))
}

// jsonConverter is Kafka's JsonConverter: with schemas.enable the envelope
// {"schema":...,"payload":...}, without it the bare JSON. Strings, which
// is what file sources give, take fast paths.
type jsonConverter struct{ schemas bool }

const (
	envelopeHead = `{"schema":{"type":"string","optional":false},"payload":`
	envelopeTail = `}`
)

func (c jsonConverter) FromConnect(dst, v []byte) []byte {
	if v == nil {
		return nil
	}
	if c.schemas {
		dst = append(dst, envelopeHead...)
		dst = data.AppendJSONString(dst, v)
		return append(dst, envelopeTail...)
	}
	return data.AppendJSONString(dst, v)
}

func (c jsonConverter) ToConnect(b []byte) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	// Fast paths: a string, bare or in the envelope this converter
	// writes, that needs no unescaping.
	if c.schemas {
		if len(b) >= len(envelopeHead)+len(envelopeTail)+2 && bytes.HasPrefix(b, []byte(envelopeHead)) && b[len(b)-1] == '}' {
			if s, ok := data.PlainJSONString(b[len(envelopeHead) : len(b)-1]); ok {
				return s, nil
			}
		}
	} else if s, ok := data.PlainJSONString(bytes.Trim(b, " \t\r\n")); ok {
		return s, nil
	}
	_, v, err := data.DecodeJSON(b, c.schemas)
	if err != nil || v == nil {
		return nil, err
	}
	return nonNil(data.AppendJava(nil, v)), nil
}

func (c jsonConverter) ToData(b []byte) (*data.Schema, any, error) {
	return data.DecodeJSON(b, c.schemas)
}

func (c jsonConverter) FromData(dst []byte, s *data.Schema, v any) ([]byte, error) {
	return data.AppendJSON(dst, s, v, c.schemas)
}

// nonNil keeps an empty string apart from a null.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
