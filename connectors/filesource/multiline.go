package filesource

import (
	"fmt"
	"regexp"
	"time"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

// multiline groups consecutive lines into one record (an event), as
// Filebeat's multiline settings do: a line is part of a group when it
// matches pattern (or, with negate, when it does not). With match=after
// such a line joins the line before it; with match=before it joins the
// line after it. An event's lines are joined with "\n"; its position is
// the end of its last line, so a restart reads a whole event again or not
// at all.
type multiline struct {
	re       *regexp.Regexp
	negate   bool
	after    bool
	maxLines int
	maxBytes int
	timeout  time.Duration
}

// presets are common stack traces: pattern, negate, match.
var presets = map[string][3]string{
	// Java: "\tat ...", "... 5 more", "Caused by:", "Suppressed:", and
	// the exception line itself, joined to the log line before them.
	"java": {`^[[:space:]]+(at |\.\.\. [0-9]+ (more|common frames omitted))|^[[:space:]]*(Caused by|Suppressed):|^[[:alpha:]_$][[:alnum:]_$.]*(Exception|Error|Throwable)(: .*)?$`, "false", "after"},
	// Python: the traceback, its indented frames, its last line, and the
	// chained tracebacks' separators.
	"python": {`^Traceback \(most recent call last\):|^[[:space:]]+|^[[:alpha:]_][[:alnum:]_.]*(Error|Exception|Warning|Exit|Interrupt|Iteration)(: .*)?$|^During handling of the above exception|^The above exception was the direct cause|^$`, "false", "after"},
	// Go: a panic's goroutine dumps, frames, and "exit status".
	"go": {`^[[:space:]]|^$|^goroutine [0-9]+ \[|^[^[:space:]]+\(.*\)$|^created by |^\[signal |^exit status `, "false", "after"},
}

// multilineKeys declares the multiline settings.
func multilineKeys() []config.Key {
	return []config.Key{
		{Name: "multiline.pattern", Importance: config.Medium, Type: config.String,
			Doc: "Regular expression (Go's RE2 syntax) of the lines that belong to an event with the line before (multiline.match=after) or after (before) them; unset, each line is a record. Events are sent as one record, lines joined with \\n, positioned at the end of their last line."},
		{Name: "multiline.negate", Importance: config.Medium, Type: config.Bool, Default: "false", HasDefault: true,
			Doc: "When true, the lines that do not match multiline.pattern are the ones joined (as in multiline.pattern=^\\d{4}- with negate=true: every line not starting with a date continues the event)."},
		{Name: "multiline.match", Importance: config.Medium, Type: config.String, Default: "after", HasDefault: true, Validate: config.OneOf("after", "before"),
			Doc: "after: a joined line goes with the line before it; before: with the line after it (a line ending in \\ continued on the next)."},
		{Name: "multiline.preset", Importance: config.Medium, Type: config.String, Validate: config.OneOf("java", "python", "go"),
			Doc: "A ready pattern for stack traces: java (at ..., Caused by:, ... N more, the exception line), python (Traceback and its frames) or go (a panic's goroutines); multiline.pattern, negate and match, when set, win."},
		{Name: "multiline.max.lines", Importance: config.Low, Type: config.Int, Default: "500", HasDefault: true, Validate: config.AtLeast(1),
			Doc: "Most lines in one event; the lines after them start a new event (counted as split in the status)."},
		{Name: "multiline.max.bytes", Importance: config.Low, Type: config.Int, Validate: config.AtLeast(1),
			Doc: "Most bytes in one event, at most max.line.bytes (its default); a line that would make an event longer starts a new one (counted as split)."},
		{Name: "multiline.timeout.ms", Importance: config.Low, Type: config.Duration, Default: "5000", HasDefault: true, Validate: config.AtLeast(1),
			Doc: "An event whose file has not grown for this long is sent as it is, without waiting for the line that would end it."},
	}
}

// parseMultiline reads the multiline settings; nil when lines are records.
func parseMultiline(cfg *config.Values, maxLine int) (*multiline, error) {
	pat, negate, match := cfg.String("multiline.pattern"), cfg.Bool("multiline.negate"), cfg.String("multiline.match")
	if p, ok := presets[cfg.String("multiline.preset")]; ok {
		if !cfg.IsSet("multiline.pattern") {
			pat = p[0]
		}
		if !cfg.IsSet("multiline.negate") {
			negate = p[1] == "true"
		}
		if !cfg.IsSet("multiline.match") {
			match = p[2]
		}
	}
	if pat == "" {
		return nil, nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, &config.Error{Source: cfg.Source(), Key: "multiline.pattern", Value: pat, Reason: "is not a regular expression: " + err.Error()}
	}
	ml := &multiline{re: re, negate: negate, after: match == "after", maxLines: cfg.Int("multiline.max.lines"),
		maxBytes: maxLine, timeout: cfg.Duration("multiline.timeout.ms")}
	if cfg.IsSet("multiline.max.bytes") {
		if n := cfg.Int("multiline.max.bytes"); n > maxLine {
			return nil, &config.Error{Source: cfg.Source(), Key: "multiline.max.bytes", Value: fmt.Sprint(n),
				Reason: fmt.Sprintf("is more than max.line.bytes (%d), the most a record may hold; raise max.line.bytes too", maxLine)}
		} else {
			ml.maxBytes = n
		}
	}
	return ml, nil
}

// group takes lines just cut from the file and returns the events they
// complete, keeping the last event's lines (t.pend) until a line shows
// where it ends, its limits are reached, or multiline.timeout.ms passes.
func (t *Task) group(lines []connect.SourceRecord) []connect.SourceRecord {
	out := t.ready
	t.ready = nil
	ml := t.ml
	for _, l := range lines {
		if n := len(t.pend); n > 0 && l.Start != t.pend[n-1].Position {
			out = t.flushEvent(out) // not the line after: read again from elsewhere
		}
		joins := ml.re.Match(l.Value) != ml.negate
		switch {
		case len(t.pend) == 0:
		case ml.after && !joins:
			out = t.flushEvent(out)
		case len(t.pend) >= ml.maxLines || t.pendBytes+1+len(l.Value) > ml.maxBytes:
			out = t.flushEvent(out)
			t.progMu.Lock()
			t.over.Split++
			t.progMu.Unlock()
		}
		t.pend = append(t.pend, l)
		if len(t.pend) == 1 {
			t.pendBytes = len(l.Value)
		} else {
			t.pendBytes += 1 + len(l.Value)
		}
		if !ml.after && !joins {
			out = t.flushEvent(out)
		}
	}
	if len(lines) > 0 {
		t.pendAt = time.Now()
	}
	return out
}

// flushEvent appends the pending event to out as one record.
func (t *Task) flushEvent(out []connect.SourceRecord) []connect.SourceRecord {
	switch len(t.pend) {
	case 0:
		return out
	case 1:
		out = append(out, t.pend[0])
	default:
		v := make([]byte, 0, t.pendBytes)
		for i, l := range t.pend {
			if i > 0 {
				v = append(v, '\n')
			}
			v = append(v, l.Value...)
		}
		ev := t.pend[0]
		ev.Value, ev.Position, ev.Proof = v, t.pend[len(t.pend)-1].Position, ""
		out = append(out, ev)
	}
	clear(t.pend)
	t.pend, t.pendBytes = t.pend[:0], 0
	return out
}

// events groups lines into events, and gives the last one the proof of
// its position.
func (t *Task) events(lines []connect.SourceRecord) []connect.SourceRecord {
	out := t.group(lines)
	t.proveLast(out)
	return out
}

// proveLast sets the proof of the last record's position.
func (t *Task) proveLast(recs []connect.SourceRecord) {
	if n := len(recs); n > 0 && t.f != nil {
		recs[n-1].Proof = t.proofAt(recs[n-1].Position)
	}
}

// timedOut sends the pending event once its file has been idle for
// multiline.timeout.ms.
func (t *Task) timedOut() []connect.SourceRecord {
	if len(t.pend) == 0 || time.Since(t.pendAt) < t.ml.timeout {
		return nil
	}
	out := t.flushEvent(nil)
	t.proveLast(out)
	return out
}
