package main

import (
	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/consumergroups"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
)

func newConsumerGroupsCmd(a *app) *cobra.Command {
	var o consumergroups.Options
	cmd := &cobra.Command{
		Use:   "consumer-groups",
		Short: "List, describe, delete consumer groups and reset their offsets (kafka-consumer-groups.sh)",
		Long: `List, describe and delete consumer groups, and reset or delete their committed
offsets, with the flags and output of Kafka's kafka-consumer-groups.sh.
Exactly one action is required: --list, --describe, --delete,
--reset-offsets or --delete-offsets.

--reset-offsets needs a scope (--all-topics, or --topic T or T:0,1), one
way to compute the new offsets (--to-earliest, --to-latest, --to-current,
--to-offset N, --shift-by N, --to-datetime, --by-duration or --from-file)
and --execute to apply them; without it the plan is only shown. The group
must have no active members.`,
		Example: `  tributary consumer-groups --bootstrap-server localhost:9092 --list
  tributary consumer-groups --bootstrap-server localhost:9092 --describe --group g1
  tributary consumer-groups --bootstrap-server localhost:9092 --reset-offsets --group g1 --topic log-test --to-earliest --execute`,
		Args: usageArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := optionalFlagValue(cmd.Flags(), "state", &o.State, args); err != nil {
				return err
			}
			o.Changed, o.Logger = cmd.Flags().Changed, a.log
			return consumergroups.Run(cmd.Context(), o, a.stdout, a.stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Bootstrap, "bootstrap-server", toolclient.DefaultBootstrap, "the Kafka broker(s) to connect to, host:port[,host:port...]")
	addZookeeperFlag(f, &o.Zookeeper)
	f.StringVar(&o.CommandConfig, "command-config", "", "property file of admin client settings")
	f.Int64Var(&o.TimeoutMs, "timeout", 5000, "how long in ms to wait for the group's answers")
	f.BoolVar(&o.List, "list", false, "list all consumer groups")
	f.BoolVar(&o.Describe, "describe", false, "describe a consumer group: its partitions, committed offsets and lag")
	f.BoolVar(&o.Delete, "delete", false, "delete consumer groups (they must have no active members)")
	f.BoolVar(&o.ResetOffsets, "reset-offsets", false, "reset the committed offsets of a group that has no active members")
	f.BoolVar(&o.DeleteOffsets, "delete-offsets", false, "delete the committed offsets of a group's topics")
	f.StringArrayVar(&o.Groups, "group", nil, "the consumer group to act on (repeatable)")
	f.BoolVar(&o.AllGroups, "all-groups", false, "act on all consumer groups")
	f.StringArrayVar(&o.Topics, "topic", nil, "with --reset-offsets or --delete-offsets: a topic, or topic:0,1,2 for some partitions (repeatable)")
	f.BoolVar(&o.AllTopics, "all-topics", false, "with --reset-offsets: every topic the group has committed offsets for")
	f.BoolVar(&o.Members, "members", false, "with --describe: list the group's members")
	f.BoolVar(&o.Offsets, "offsets", false, "with --describe: list the group's partitions and lag (the default)")
	f.BoolVar(&o.Verbose, "verbose", false, "with --describe --members: show each member's assignment")
	f.StringVar(&o.State, "state", "", "with --describe: show the group's state; with --list: show states, or only groups in the given comma-separated states")
	f.Lookup("state").NoOptDefVal = " "
	f.BoolVar(&o.DryRun, "dry-run", false, "with --reset-offsets: only show the new offsets (the default)")
	f.BoolVar(&o.Execute, "execute", false, "with --reset-offsets: commit the new offsets")
	f.BoolVar(&o.Export, "export", false, "with --reset-offsets: print the plan as CSV, for --from-file")
	f.BoolVar(&o.ToEarliest, "to-earliest", false, "reset to the earliest offset")
	f.BoolVar(&o.ToLatest, "to-latest", false, "reset to the latest offset")
	f.BoolVar(&o.ToCurrent, "to-current", false, "reset to the current committed offset (the latest where there is none)")
	f.Int64Var(&o.ToOffset, "to-offset", 0, "reset to this offset")
	f.Int64Var(&o.ShiftBy, "shift-by", 0, "shift the committed offset by n, which may be negative")
	f.StringVar(&o.ToDatetime, "to-datetime", "", "reset to the first offset at or after this time, YYYY-MM-DDTHH:mm:SS.sss (UTC unless a zone follows)")
	f.StringVar(&o.ByDuration, "by-duration", "", "reset to the first offset at or after this long ago, as PnDTnHnMnS")
	f.StringVar(&o.FromFile, "from-file", "", "reset to the offsets of a CSV file (topic,partition,offset or group,topic,partition,offset)")
	return cmd
}
