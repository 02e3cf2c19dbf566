package connect

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
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

type byteArrayConverter struct{}

func (byteArrayConverter) FromConnect(dst, v []byte) []byte {
	if v == nil {
		return nil
	}
	return append(dst, v...)
}

func (byteArrayConverter) ToConnect(b []byte) ([]byte, error) { return b, nil }

// jsonConverter is Kafka's JsonConverter for string values: with
// schemas.enable the envelope {"schema":{"type":"string","optional":false},
// "payload":"..."}, without it the bare JSON string.
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
		dst = appendJSONString(dst, v)
		return append(dst, envelopeTail...)
	}
	return appendJSONString(dst, v)
}

var errEnvelope = errors.New(`JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields; if you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration`)

func (c jsonConverter) ToConnect(b []byte) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	if c.schemas {
		// Fast path: the envelope this converter writes, with a payload
		// that needs no unescaping.
		if len(b) >= len(envelopeHead)+len(envelopeTail)+2 && bytes.HasPrefix(b, []byte(envelopeHead)) && b[len(b)-1] == '}' {
			p := b[len(envelopeHead) : len(b)-1]
			if s, ok := plainJSONString(p); ok {
				return s, nil
			}
		}
		env, err := parseJSON(b)
		if err != nil {
			return nil, err
		}
		schema, payload := env.get("schema"), env.get("payload")
		if env.kind != 'o' || len(env.keys) != 2 || schema == nil || payload == nil {
			return nil, errEnvelope
		}
		s, err := parseSchema(schema)
		if err != nil {
			return nil, fmt.Errorf("converting the envelope's schema: %w", err)
		}
		out, null, err := appendWithSchema(nil, s, payload)
		if err != nil {
			return nil, fmt.Errorf("converting the payload: %w", err)
		}
		if null {
			return nil, nil
		}
		return nonNil(out), nil
	}
	if s, ok := plainJSONString(trimJSONSpace(b)); ok {
		return s, nil
	}
	n, err := parseJSON(trimJSONSpace(b))
	if err != nil {
		return nil, err
	}
	if n.kind == 'n' {
		return nil, nil
	}
	return nonNil(appendSchemaless(nil, &n)), nil
}

// nonNil keeps an empty string apart from a null.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// plainJSONString returns the content of a JSON string literal that holds
// no escape and no control character, without copying.
func plainJSONString(p []byte) ([]byte, bool) {
	if len(p) < 2 || p[0] != '"' || p[len(p)-1] != '"' {
		return nil, false
	}
	s := p[1 : len(p)-1]
	for _, c := range s {
		if c == '\\' || c == '"' || c < 0x20 {
			return nil, false
		}
	}
	// Invalid UTF-8 takes the general path, which replaces each bad byte.
	return s, utf8.Valid(s)
}

// trimJSONSpace cuts JSON's whitespace (space, tab, CR, LF) from both ends;
// other spaces, such as a vertical tab or U+00A0, are not JSON's and stay,
// for the parser to refuse.
func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal the way Jackson writes
// it: ", \ and control characters escaped, other characters as UTF-8, and
// invalid UTF-8 replaced by U+FFFD (as Java does when it decodes the line).
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
