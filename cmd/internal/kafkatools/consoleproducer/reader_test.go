package consoleproducer

import (
	"strings"
	"testing"
)

func TestLineReader(t *testing.T) {
	tests := []struct {
		props   map[string]string
		line    string
		key     *string
		value   *string
		headers string // k=v;k2=<nil>
		err     string
	}{
		{nil, "plain\tline", nil, ptr("plain\tline"), "", ""},
		{map[string]string{"parse.key": "true"}, "k\tv\tw", ptr("k"), ptr("v\tw"), "", ""},
		{map[string]string{"parse.key": "true", "key.separator": "::"}, "k::v", ptr("k"), ptr("v"), "", ""},
		{map[string]string{"parse.key": "true"}, "nokey", nil, nil, "", "No key separator found on line number 7: 'nokey'"},
		{map[string]string{"parse.key": "true", "ignore.error": "true"}, "nokey", nil, ptr("nokey"), "", ""},
		{map[string]string{"parse.headers": "true"}, "a:1,b:2\tv", nil, ptr("v"), "a=1;b=2", ""},
		{map[string]string{"parse.headers": "true", "parse.key": "true"}, "a:1\tk\tv", ptr("k"), ptr("v"), "a=1", ""},
		{map[string]string{"parse.headers": "true"}, "noheaders", nil, nil, "", "No headers delimiter found on line number 7: 'noheaders'"},
		{map[string]string{"parse.headers": "true"}, "a1\tv", nil, nil, "", "No header key separator found in pair 'a1' on line number 7"},
		{map[string]string{"parse.headers": "true", "ignore.error": "true"}, "a1\tv", nil, ptr("v"), "a1=<nil>", ""},
		{map[string]string{"parse.headers": "true", "headers.separator": ";", "headers.key.separator": "="}, "a=1;b=2\tv", nil, ptr("v"), "a=1;b=2", ""},
		{map[string]string{"null.marker": "<null>"}, "<null>", nil, nil, "", ""},
		{map[string]string{"parse.headers": "true", "null.marker": "N"}, "h:N\tv", nil, ptr("v"), "h=<nil>", ""},
		{map[string]string{"parse.headers": "true", "null.marker": "N"}, "N:v\tv", nil, nil, "", "Header keys should not be equal to the null marker 'N' as they can't be null"},
		{map[string]string{"parse.headers": "true", "null.marker": "N"}, "N\tv", nil, ptr("v"), "", ""},
	}
	for _, tt := range tests {
		r, err := newLineReader("t", tt.props)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := r.record(tt.line, 7)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%v %q: err %v, want %q", tt.props, tt.line, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v %q: %v", tt.props, tt.line, err)
			continue
		}
		if !sameBytes(rec.Key, tt.key) || !sameBytes(rec.Value, tt.value) {
			t.Errorf("%v %q: key %q value %q", tt.props, tt.line, rec.Key, rec.Value)
		}
		var hs []string
		for _, h := range rec.Headers {
			v := "<nil>"
			if h.Value != nil {
				v = string(h.Value)
			}
			hs = append(hs, h.Key+"="+v)
		}
		if got := strings.Join(hs, ";"); got != tt.headers {
			t.Errorf("%v %q: headers %q, want %q", tt.props, tt.line, got, tt.headers)
		}
		if rec.Topic != "t" {
			t.Errorf("topic %q", rec.Topic)
		}
	}
}

func TestLineReaderConfigErrors(t *testing.T) {
	for _, props := range []map[string]string{
		{"headers.delimiter": ","},
		{"headers.delimiter": ":"},
		{"headers.separator": ":"},
		{"null.marker": "\t"},
		{"null.marker": ","},
		{"null.marker": ":"},
		{"key.separator": ""},
	} {
		if _, err := newLineReader("t", props); err == nil {
			t.Errorf("%v accepted", props)
		}
	}
}

func ptr(s string) *string { return &s }

func sameBytes(b []byte, s *string) bool {
	if s == nil {
		return b == nil
	}
	return b != nil && string(b) == *s
}
