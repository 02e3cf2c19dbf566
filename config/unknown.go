package config

import (
	"log/slog"
	"strings"
)

// Closest returns the defined key a mistyped name most likely meant, for
// "did you mean": the key at the smallest edit distance (letters inserted,
// deleted, replaced or two neighbours swapped) when that distance is at
// most 2, or at most 1 for names of 4 characters or fewer. It returns ""
// when no key is that close, or when two keys are equally close.
func (d *Def) Closest(name string) string {
	return Closest(name, d.names())
}

func (d *Def) names() []string {
	out := make([]string, len(d.keys))
	for i, k := range d.keys {
		out[i] = k.Name
	}
	return out
}

// Closest is Def.Closest over any list of names (flags, commands).
func Closest(name string, candidates []string) string {
	limit := 2
	if len(name) <= 4 {
		limit = 1
	}
	best, bestD, tie := "", limit+1, false
	for _, c := range candidates {
		d := editDistance(name, c, limit)
		switch {
		case d < bestD:
			best, bestD, tie = c, d, false
		case d == bestD && c != best:
			tie = true
		}
	}
	if tie || bestD > limit {
		return ""
	}
	return best
}

// editDistance is the optimal-string-alignment distance of a and b (each
// adjacent transposition counting one), or limit+1 as soon as it must
// exceed limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// WarnUnknown logs, at WARN, each key of the file that the definition set
// does not define and that no prefix in passedOn claims (keys read by
// someone else, such as producer.* in a worker file), in Kafka's words,
// naming the file and the defined key it most likely meant.
func (v *Values) WarnUnknown(log *slog.Logger, passedOn ...string) {
	if log == nil {
		return
	}
	for _, k := range v.Unknown() {
		claimed := false
		for _, p := range passedOn {
			claimed = claimed || strings.HasPrefix(k, p)
		}
		if !claimed {
			WarnUnknownKey(log, v.props.source, k, v.def.Closest(k))
		}
	}
}

// WarnUnknownKey logs one unknown key of file at WARN, with the key it
// most likely meant when meant is not "".
func WarnUnknownKey(log *slog.Logger, file, key, meant string) {
	msg := "The configuration '" + key + "' was supplied but isn't a known config"
	if meant != "" {
		msg += "; did you mean '" + meant + "'?"
	}
	log.Warn(msg, "file", file)
}
