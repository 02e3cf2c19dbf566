package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tributary-io/tributary/config"
)

// Flags that Kafka's tools once took and that primers still type: the
// tools accept them, so that such a command line works word for word.

// addZookeeperFlag adds --zookeeper, which Kafka's topics, consumer-groups
// and console tools took before they talked to brokers. It is accepted and
// not used: the tool warns about it (toolclient.WarnZookeeper).
func addZookeeperFlag(f *pflag.FlagSet, dst *string) {
	f.StringVar(dst, "zookeeper", "", "accepted for old habits and not used: the tool talks to --bootstrap-server")
}

// addBrokerListFlag adds --broker-list, the older name of
// --bootstrap-server in the Kafka tools that had it (console-producer,
// consumer-perf-test). It gives --bootstrap-server its value unless
// --bootstrap-server is given, before or after it, as Kafka's tools do.
func addBrokerListFlag(f *pflag.FlagSet) {
	f.Var(olderName{f.Lookup("bootstrap-server")}, "broker-list", "the older name of --bootstrap-server; ignored when --bootstrap-server is given")
}

// olderName is a flag that sets another flag's value unless that flag was
// given itself.
type olderName struct{ newer *pflag.Flag }

func (o olderName) Set(v string) error {
	if o.newer.Changed {
		return nil
	}
	return o.newer.Value.Set(v)
}

func (o olderName) String() string { return "" }
func (o olderName) Type() string   { return o.newer.Value.Type() }

// suggestFlag adds "did you mean" to the error of a flag the command does
// not have, naming the flag of the command closest to what was typed (by
// config.Closest), if one is. A long name typed after one dash
// (-from-beginning) is matched whole against the long names.
func suggestFlag(cmd *cobra.Command, err error) error {
	var unknown *pflag.NotExistError
	if !errors.As(err, &unknown) {
		return err
	}
	typed := unknown.GetSpecifiedName()
	if group := unknown.GetSpecifiedShortnames(); len(group) > 1 {
		typed, _, _ = strings.Cut(group, "=")
	}
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	if meant := config.Closest(typed, names); meant != "" {
		return fmt.Errorf("%w (did you mean --%s?)", err, meant)
	}
	return err
}
