package consoleproducer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// lineReader turns one line of the console producer's input into a record,
// as Kafka's LineMessageReader does. Its properties (--property) are:
//
//	parse.key             the line holds a key before key.separator (default false)
//	key.separator         between key and value (default tab)
//	parse.headers         the line starts with headers before headers.delimiter (default false)
//	headers.delimiter     between the headers and the key or value (default tab)
//	headers.separator     between two headers (default ",")
//	headers.key.separator between a header's key and value (default ":")
//	ignore.error          a missing separator is not an error (default false)
//	null.marker           a key, value or header value equal to it is null
//
// A line with headers and a key reads "h1:v1,h2:v2<TAB>key<TAB>value".
type lineReader struct {
	topic          string
	parseKey       bool
	keySep         string
	parseHeaders   bool
	headersDelim   string
	headersSep     string
	headersKeySep  string
	ignoreError    bool
	nullMarker     string
	haveNullMarker bool
}

func newLineReader(topic string, props map[string]string) (*lineReader, error) {
	r := &lineReader{
		topic:         topic,
		keySep:        "\t",
		headersDelim:  "\t",
		headersSep:    ",",
		headersKeySep: ":",
	}
	isTrue := func(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }
	for k, v := range props {
		switch k {
		case "parse.key":
			r.parseKey = isTrue(v)
		case "key.separator":
			r.keySep = v
		case "parse.headers":
			r.parseHeaders = isTrue(v)
		case "headers.delimiter":
			r.headersDelim = v
		case "headers.separator":
			r.headersSep = v
		case "headers.key.separator":
			r.headersKeySep = v
		case "ignore.error":
			r.ignoreError = isTrue(v)
		case "null.marker":
			r.nullMarker, r.haveNullMarker = v, true
		}
	}
	for _, s := range []struct{ name, v string }{
		{"key.separator", r.keySep}, {"headers.delimiter", r.headersDelim},
		{"headers.separator", r.headersSep}, {"headers.key.separator", r.headersKeySep},
	} {
		if s.v == "" {
			return nil, fmt.Errorf("%s may not be empty", s.name)
		}
	}
	switch {
	case r.headersDelim == r.headersSep:
		return nil, errors.New("headers.delimiter and headers.separator may not be equal")
	case r.headersDelim == r.headersKeySep:
		return nil, errors.New("headers.delimiter and headers.key.separator may not be equal")
	case r.headersSep == r.headersKeySep:
		return nil, errors.New("headers.separator and headers.key.separator may not be equal")
	}
	if r.haveNullMarker {
		for _, s := range []struct{ name, v string }{
			{"key.separator", r.keySep}, {"headers.separator", r.headersSep},
			{"headers.delimiter", r.headersDelim}, {"headers.key.separator", r.headersKeySep},
		} {
			if s.v == r.nullMarker {
				return nil, fmt.Errorf("null.marker and %s may not be equal", s.name)
			}
		}
	}
	return r, nil
}

func (r *lineReader) isNull(s string) bool { return r.haveNullMarker && s == r.nullMarker }

// record parses line number lineNo (counted from 1) into a record.
func (r *lineReader) record(line string, lineNo int) (*kgo.Record, error) {
	rec := &kgo.Record{Topic: r.topic}
	rest := line
	if r.parseHeaders {
		headers, after, ok := strings.Cut(rest, r.headersDelim)
		switch {
		case ok:
			rest = after
			if !r.isNull(headers) {
				hs, err := r.splitHeaders(headers, lineNo)
				if err != nil {
					return nil, err
				}
				rec.Headers = hs
			}
		case !r.ignoreError:
			return nil, fmt.Errorf("No headers delimiter found on line number %d: '%s'", lineNo, line) //nolint:staticcheck // Kafka's message
		}
	}
	if r.parseKey {
		key, after, ok := strings.Cut(rest, r.keySep)
		switch {
		case ok:
			rest = after
			if !r.isNull(key) {
				rec.Key = append([]byte{}, key...)
			}
		case !r.ignoreError:
			return nil, fmt.Errorf("No key separator found on line number %d: '%s'", lineNo, line) //nolint:staticcheck // Kafka's message
		}
	}
	if !r.isNull(rest) {
		rec.Value = append([]byte{}, rest...) // empty, not null, for an empty line
	}
	return rec, nil
}

func (r *lineReader) splitHeaders(headers string, lineNo int) ([]kgo.RecordHeader, error) {
	pairs := strings.Split(headers, r.headersSep)
	hs := make([]kgo.RecordHeader, 0, len(pairs))
	for _, pair := range pairs {
		k, v, ok := strings.Cut(pair, r.headersKeySep)
		if !ok {
			if !r.ignoreError {
				return nil, fmt.Errorf("No header key separator found in pair '%s' on line number %d", pair, lineNo) //nolint:staticcheck // Kafka's message
			}
			hs = append(hs, kgo.RecordHeader{Key: pair})
			continue
		}
		if r.isNull(k) {
			return nil, fmt.Errorf("Header keys should not be equal to the null marker '%s' as they can't be null", r.nullMarker) //nolint:staticcheck // Kafka's message
		}
		h := kgo.RecordHeader{Key: k}
		if !r.isNull(v) {
			h.Value = []byte(v)
		}
		hs = append(hs, h)
	}
	return hs, nil
}
