package config

import (
	"strings"
	"testing"
)

func TestTopicName(t *testing.T) {
	long := strings.Repeat("x", 250)
	tests := []struct {
		name string
		want string // the error, "" for a legal name
	}{
		{"Teste", ""},
		{"log-test", ""},
		{"a.b", ""},
		{"a_b", ""},
		{"A-Z.0_9", ""},
		{"...", ""},
		{strings.Repeat("x", 249), ""},
		{"", "Topic name is illegal, it can't be empty"},
		{".", `Topic name cannot be "." or ".."`},
		{"..", `Topic name cannot be "." or ".."`},
		{long, "Topic name is illegal, it can't be longer than 249 characters, topic name: " + long},
		{strings.Repeat("ü", 200), `Topic name "` + strings.Repeat("ü", 200) + `" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`},
		{"a b", `Topic name "a b" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`},
		{"a/b", `Topic name "a/b" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`},
		{"../etc", `Topic name "../etc" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`},
		{"ä", `Topic name "ä" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`},
		{"a\x00b", "Topic name \"a\x00b\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"},
	}
	for _, tt := range tests {
		err := TopicName(tt.name)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.name, err)
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("%q: err %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestTopicCollision(t *testing.T) {
	tests := []struct {
		a, b    string
		collide bool
	}{
		{"metrics.cpu", "metrics_cpu", true},
		{"a.b_c", "a_b.c", true},
		{"metrics.cpu", "metrics.cpu", true},
		{"metrics.cpu", "metrics-cpu", false},
		{"Metrics_cpu", "metrics_cpu", false},
	}
	for _, tt := range tests {
		if got := TopicCollisionKey(tt.a) == TopicCollisionKey(tt.b); got != tt.collide {
			t.Errorf("%q and %q collide: %v, want %v", tt.a, tt.b, got, tt.collide)
		}
	}
	if got, want := TopicCollision("metrics_cpu", "metrics.cpu").Error(), "Topic 'metrics_cpu' collides with existing topic: metrics.cpu"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTopicCollisionWarning(t *testing.T) {
	warning := "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both."
	for name, want := range map[string]string{
		"metrics.by_host": warning,
		"a_b.c":           warning,
		"metrics.plain":   "",
		"metrics_plain":   "",
		"plain":           "",
	} {
		if got := TopicCollisionWarning(name); got != want {
			t.Errorf("%q: %q, want %q", name, got, want)
		}
	}
}
