package data

// JSON as Kafka's JsonConverter reads and writes it.

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jnode is one parsed JSON value, objects keeping their keys in order.
type jnode struct {
	kind  byte     // 'n' null, 'b' boolean, '0' number, 's' string, 'a' array, 'o' object
	text  string   // a string's content, a number's literal, "true" or "false"
	items []jnode  // an array's items or an object's values
	keys  []string // an object's keys
}

// get returns an object's member, or nil.
func (n *jnode) get(key string) *jnode {
	for i, k := range n.keys {
		if k == key {
			return &n.items[i]
		}
	}
	return nil
}

// parseJSON parses one JSON value. Of a key given twice, the first place
// and the last value are kept, as Jackson's ObjectNode does.
func parseJSON(b []byte) (jnode, error) {
	if !json.Valid(b) {
		var v any
		err := json.Unmarshal(b, &v)
		return jnode{}, fmt.Errorf("converting bytes to JSON: %w", err)
	}
	p := jparser{b: b}
	return p.value()
}

// jparser reads JSON that json.Valid accepted, so it checks no syntax.
type jparser struct {
	b []byte
	i int
}

func (p *jparser) skip() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\r' || p.b[p.i] == '\n') {
		p.i++
	}
}

func (p *jparser) value() (jnode, error) {
	p.skip()
	switch c := p.b[p.i]; c {
	case 'n':
		p.i += 4
		return jnode{kind: 'n'}, nil
	case 't':
		p.i += 4
		return jnode{kind: 'b', text: "true"}, nil
	case 'f':
		p.i += 5
		return jnode{kind: 'b', text: "false"}, nil
	case '"':
		s, err := p.str()
		return jnode{kind: 's', text: s}, err
	case '[', '{':
		n := jnode{kind: 'a'}
		if c == '{' {
			n.kind = 'o'
		}
		p.i++
		for {
			p.skip()
			if p.b[p.i] == ']' || p.b[p.i] == '}' {
				p.i++
				return n, nil
			}
			if p.b[p.i] == ',' {
				p.i++
				p.skip()
			}
			var key string
			if n.kind == 'o' {
				k, err := p.str()
				if err != nil {
					return jnode{}, err
				}
				key = k
				p.skip()
				p.i++ // ':'
			}
			v, err := p.value()
			if err != nil {
				return jnode{}, err
			}
			if n.kind == 'o' {
				if old := n.get(key); old != nil {
					*old = v
					continue
				}
				n.keys = append(n.keys, key)
			}
			n.items = append(n.items, v)
		}
	}
	start := p.i
	for p.i < len(p.b) && strings.IndexByte("+-.0123456789eE", p.b[p.i]) >= 0 {
		p.i++
	}
	return jnode{kind: '0', text: string(p.b[start:p.i])}, nil
}

// str reads a string literal at p.i.
func (p *jparser) str() (string, error) {
	start := p.i
	p.i++
	escaped := false
	for p.b[p.i] != '"' {
		if p.b[p.i] == '\\' {
			escaped = true
			p.i++
		}
		p.i++
	}
	p.i++
	lit := p.b[start:p.i]
	if s, ok := PlainJSONString(lit); ok && !escaped {
		return string(s), nil
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return "", fmt.Errorf("converting bytes to JSON: %w", err)
	}
	return s, nil
}

// isIntegral says whether Jackson reads a JSON number as an integer: no
// fraction and no exponent.
func isIntegral(num string) bool { return !strings.ContainsAny(num, ".eE") }

// int64Of is Jackson's longValue() of a JSON number: the integer part, its
// low 64 bits when it does not fit (BigInteger.longValue, and
// BigDecimal.longValue for a number with a fraction or exponent).
func int64Of(num string) int64 {
	if len(num) <= 18 {
		if v, err := strconv.ParseInt(num, 10, 64); err == nil {
			return v
		}
	}
	mant, exp := num, 0
	if i := strings.IndexAny(num, "eE"); i >= 0 {
		mant = num[:i]
		e, err := strconv.Atoi(num[i+1:])
		if err != nil || e > 1<<20 {
			return 0 // 10^e is a multiple of 2^64
		}
		if e < -1<<20 {
			return 0
		}
		exp = e
	}
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		exp -= len(mant) - i - 1
		mant = mant[:i] + mant[i+1:]
	}
	if exp < 0 {
		if -exp >= len(mant) {
			return 0
		}
		mant = mant[:len(mant)+exp]
		exp = 0
	}
	if exp >= 64 {
		return 0
	}
	var x big.Int
	x.SetString(mant, 10)
	if exp > 0 {
		x.Mul(&x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil))
	}
	if neg {
		x.Neg(&x)
	}
	// Two's complement low 64 bits.
	mod := new(big.Int).Lsh(big.NewInt(1), 64)
	x.Mod(&x, mod)
	return int64(x.Uint64())
}

// parseDecimal reads a JSON number as a BigDecimal: its digits and scale
// (the number of digits after the point, less the exponent).
func parseDecimal(num string) (*big.Int, int, bool) {
	mant, exp := num, 0
	if i := strings.IndexAny(num, "eE"); i >= 0 {
		mant = num[:i]
		e, err := strconv.Atoi(num[i+1:])
		if err != nil || e > math.MaxInt32 || e < math.MinInt32 {
			return nil, 0, false
		}
		exp = e
	}
	scale := -exp
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		scale += len(mant) - i - 1
		mant = mant[:i] + mant[i+1:]
	}
	v, ok := new(big.Int).SetString(mant, 10)
	return v, scale, ok
}

// PlainJSONString returns the content of a JSON string literal that holds
// no escape and no control character, without copying.
func PlainJSONString(p []byte) ([]byte, bool) {
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

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string literal the way Jackson writes
// it: ", \ and control characters escaped, other characters as UTF-8, and
// invalid UTF-8 replaced by U+FFFD (as Java does when it decodes the line).
func AppendJSONString(dst, s []byte) []byte {
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
