package connect

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tributary-io/tributary/config"
)

// Topic creation groups (KIP-158): a source connector's topics are created
// with the settings of the first group in topic.creation.groups whose
// include patterns match the topic and whose exclude patterns do not, and
// with topic.creation.default.* otherwise. A group's partitions and
// replication factor default to the default group's; its other keys are
// topic configs passed to CreateTopics as they are (cleanup.policy,
// retention.ms, ...).
const creationPrefix = "topic.creation."

// creationGroup is one group's patterns and what a topic of it is created
// with.
type creationGroup struct {
	name             string
	include, exclude []*regexp.Regexp
	partitions       int32
	replication      int16
	configs          map[string]string
}

// topicCreation is a source connector's groups, in order, the default one
// last.
type topicCreation []creationGroup

// parseTopicCreation reads the topic.creation.* keys of a connector file;
// errors name the file and key.
func parseTopicCreation(vals *config.Values) (topicCreation, error) {
	props, source := vals.Originals(), vals.Source()
	keyErr := func(key, value, reason string) error {
		return &config.Error{Source: source, Key: key, Value: value, Reason: reason}
	}
	def := creationGroup{name: "default", partitions: -1, replication: -1, configs: map[string]string{}}
	if vals.Has("topic.creation.default.partitions") {
		def.partitions = int32(vals.Int("topic.creation.default.partitions"))
		def.replication = int16(vals.Int("topic.creation.default.replication.factor"))
	}
	var names []string
	if raw := strings.TrimSpace(props[creationPrefix+"groups"]); raw != "" {
		for _, n := range strings.Split(raw, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	groups := make(topicCreation, 0, len(names)+1)
	seen := map[string]bool{"default": true}
	for _, n := range names {
		if seen[n] {
			return nil, keyErr(creationPrefix+"groups", props[creationPrefix+"groups"], fmt.Sprintf("names %q twice (or names the default group)", n))
		}
		seen[n] = true
		groups = append(groups, creationGroup{name: n, partitions: def.partitions, replication: def.replication, configs: map[string]string{}})
	}
	groups = append(groups, def)
	byName := map[string]*creationGroup{}
	for i := range groups {
		byName[groups[i].name] = &groups[i]
	}
	for key, value := range props {
		rest, ok := strings.CutPrefix(key, creationPrefix)
		if !ok || rest == "groups" {
			continue
		}
		name, setting, ok := strings.Cut(rest, ".")
		g := byName[name]
		if !ok || g == nil {
			return nil, keyErr(key, value, "names no group of topic.creation.groups")
		}
		switch setting {
		case "include", "exclude":
			var res []*regexp.Regexp
			for _, p := range strings.Split(value, ",") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				re, err := regexp.Compile("^(?:" + p + ")$")
				if err != nil {
					return nil, keyErr(key, value, fmt.Sprintf("has %q, which is not a regular expression", p))
				}
				res = append(res, re)
			}
			if setting == "include" {
				g.include = res
			} else {
				g.exclude = res
			}
		case "partitions", "replication.factor":
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil || n < 1 && n != -1 {
				return nil, keyErr(key, value, "must be -1 (the broker's default) or at least 1")
			}
			if setting == "partitions" {
				g.partitions = int32(n)
			} else {
				g.replication = int16(n)
			}
		default:
			g.configs[setting] = value
		}
	}
	for _, g := range groups[:len(groups)-1] {
		if len(g.include) == 0 {
			return nil, keyErr(creationPrefix+g.name+".include", "", "must list the topics (names or regular expressions) of group "+g.name)
		}
	}
	return groups, nil
}

// forTopic returns the group a topic is created with.
func (tc topicCreation) forTopic(topic string) creationGroup {
	matches := func(res []*regexp.Regexp) bool {
		for _, re := range res {
			if re.MatchString(topic) {
				return true
			}
		}
		return false
	}
	for _, g := range tc[:len(tc)-1] {
		if matches(g.include) && !matches(g.exclude) {
			return g
		}
	}
	return tc[len(tc)-1]
}
