package config

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxTopicNameLength is the longest topic name Kafka accepts, in
// characters.
const MaxTopicNameLength = 249

// TopicName checks a topic name against Kafka's rules, with Kafka's
// messages: 1 to MaxTopicNameLength characters, each an ASCII letter or
// digit, '.', '_' or '-', and not "." or "..". A name that passes can be
// used as part of a path and never leaves its folder.
//
// The broker applies it to every name a request brings, and the tools
// before they ask the broker, so both say the same thing.
func TopicName(name string) error {
	switch {
	case name == "":
		return errors.New("Topic name is illegal, it can't be empty") //nolint:staticcheck // Kafka's message
	case name == "." || name == "..":
		return errors.New(`Topic name cannot be "." or ".."`) //nolint:staticcheck // Kafka's message
	case utf8.RuneCountInString(name) > MaxTopicNameLength:
		return fmt.Errorf("Topic name is illegal, it can't be longer than %d characters, topic name: %s", MaxTopicNameLength, name) //nolint:staticcheck // Kafka's message
	}
	for _, c := range []byte(name) {
		legal := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !legal {
			return fmt.Errorf("Topic name \"%s\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", name) //nolint:staticcheck // Kafka's message
		}
	}
	return nil
}

// TopicCollisionKey returns the form in which two topic names collide:
// Kafka's metric names turn '.' into '_', so "metrics.cpu" and
// "metrics_cpu" would share their metrics, and Kafka refuses the second.
// Names with equal keys collide.
func TopicCollisionKey(name string) string {
	return strings.ReplaceAll(name, ".", "_")
}

// TopicCollision is Kafka's error for a new topic whose name collides with
// an existing topic's (see TopicCollisionKey).
func TopicCollision(name, existing string) error {
	return fmt.Errorf("Topic '%s' collides with existing topic: %s", name, existing) //nolint:staticcheck // Kafka's message
}

// TopicCollisionWarning returns the warning that kafka-topics.sh prints when
// it creates a topic whose name has both a '.' and a '_', which may one day
// collide with another topic's (see TopicCollisionKey); "" for other names.
func TopicCollisionWarning(name string) string {
	if strings.Contains(name, ".") && strings.Contains(name, "_") {
		return "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both."
	}
	return ""
}
