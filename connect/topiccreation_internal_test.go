package connect

import (
	"strings"
	"testing"

	"github.com/tributary-io/tributary/config"
)

func creationOf(t *testing.T, kv map[string]string) (topicCreation, error) {
	t.Helper()
	m := map[string]string{"name": "src", "connector.class": "X", "topic": "t"}
	for k, v := range kv {
		m[k] = v
	}
	vals, err := SourceDef("X", config.Key{Name: "topic", Type: config.String}).Parse(config.FromMap("src.properties", m))
	if err != nil {
		t.Fatal(err)
	}
	return parseTopicCreation(vals)
}

// TestTopicCreationGroups: the first listed group that includes a topic
// and does not exclude it gives its settings; groups inherit the default
// group's partitions and replication factor; other keys are topic configs.
func TestTopicCreationGroups(t *testing.T) {
	tc, err := creationOf(t, map[string]string{
		"topic.creation.default.partitions":         "2",
		"topic.creation.default.replication.factor": "1",
		"topic.creation.default.retention.ms":       "1000",
		"topic.creation.groups":                     "compacted, logs",
		"topic.creation.compacted.include":          "state-.*, config",
		"topic.creation.compacted.cleanup.policy":   "compact",
		"topic.creation.logs.include":               "logs-.*, state-logs",
		"topic.creation.logs.exclude":               "logs-debug",
		"topic.creation.logs.partitions":            "6",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		topic, group string
		parts        int32
		configs      string
	}{
		{"state-a", "compacted", 2, "cleanup.policy=compact"},
		{"config", "compacted", 2, "cleanup.policy=compact"},
		{"state-logs", "compacted", 2, "cleanup.policy=compact"}, // the first group listed wins
		{"logs-web", "logs", 6, ""},
		{"logs-debug", "default", 2, "retention.ms=1000"}, // excluded from logs
		{"configs", "default", 2, "retention.ms=1000"},    // patterns match whole names
	} {
		g := tc.forTopic(c.topic)
		var cfgs []string
		for k, v := range g.configs {
			cfgs = append(cfgs, k+"="+v)
		}
		if g.name != c.group || g.partitions != c.parts || g.replication != 1 || strings.Join(cfgs, ",") != c.configs {
			t.Errorf("%s: group %s, %d partitions, rf %d, configs %v; want %s, %d, 1, %s", c.topic, g.name, g.partitions, g.replication, cfgs, c.group, c.parts, c.configs)
		}
	}
}

func TestTopicCreationErrors(t *testing.T) {
	for _, c := range []struct {
		kv   map[string]string
		want string
	}{
		{map[string]string{"topic.creation.groups": "a"}, `src.properties: topic.creation.a.include: "" must list the topics`},
		{map[string]string{"topic.creation.groups": "a", "topic.creation.a.include": "(x"}, `topic.creation.a.include: "(x" has "(x", which is not a regular expression`},
		{map[string]string{"topic.creation.b.include": "x"}, `topic.creation.b.include: "x" names no group of topic.creation.groups`},
		{map[string]string{"topic.creation.groups": "a,a", "topic.creation.a.include": "x"}, `names "a" twice`},
		{map[string]string{"topic.creation.groups": "a", "topic.creation.a.include": "x", "topic.creation.a.partitions": "0"}, `topic.creation.a.partitions: "0" must be -1`},
	} {
		_, err := creationOf(t, c.kv)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.kv, err, c.want)
		}
	}
}
