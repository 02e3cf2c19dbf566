package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-io/tributary/connect/kafkaclient"
)

type consumerGroupsOptions struct {
	bootstrap     string
	commandConfig string
	timeoutMs     int64

	list, describe, del, reset, deleteOffsets bool

	groups    []string
	allGroups bool
	topics    []string
	allTopics bool

	members, offsets, verbose bool
	state                     string

	dryRun, execute, export bool
	toEarliest, toLatest    bool
	toCurrent               bool
	toOffset, shiftBy       int64
	toDatetime, byDuration  string
	fromFile                string
}

func newConsumerGroupsCmd(a *app) *cobra.Command {
	var o consumerGroupsOptions
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
			if err := optionalFlagValue(cmd.Flags(), "state", &o.state, args); err != nil {
				return err
			}
			if err := o.check(cmd.Flags()); err != nil {
				return err
			}
			return o.run(cmd.Context(), a, cmd.Flags())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.bootstrap, "bootstrap-server", defaultBootstrap, "the Kafka broker(s) to connect to, host:port[,host:port...]")
	f.StringVar(&o.commandConfig, "command-config", "", "property file of admin client settings")
	f.Int64Var(&o.timeoutMs, "timeout", 5000, "how long in ms to wait for the group's answers")
	f.BoolVar(&o.list, "list", false, "list all consumer groups")
	f.BoolVar(&o.describe, "describe", false, "describe a consumer group: its partitions, committed offsets and lag")
	f.BoolVar(&o.del, "delete", false, "delete consumer groups (they must have no active members)")
	f.BoolVar(&o.reset, "reset-offsets", false, "reset the committed offsets of a group that has no active members")
	f.BoolVar(&o.deleteOffsets, "delete-offsets", false, "delete the committed offsets of a group's topics")
	f.StringArrayVar(&o.groups, "group", nil, "the consumer group to act on (repeatable)")
	f.BoolVar(&o.allGroups, "all-groups", false, "act on all consumer groups")
	f.StringArrayVar(&o.topics, "topic", nil, "with --reset-offsets or --delete-offsets: a topic, or topic:0,1,2 for some partitions (repeatable)")
	f.BoolVar(&o.allTopics, "all-topics", false, "with --reset-offsets: every topic the group has committed offsets for")
	f.BoolVar(&o.members, "members", false, "with --describe: list the group's members")
	f.BoolVar(&o.offsets, "offsets", false, "with --describe: list the group's partitions and lag (the default)")
	f.BoolVar(&o.verbose, "verbose", false, "with --describe --members: show each member's assignment")
	f.StringVar(&o.state, "state", "", "with --describe: show the group's state; with --list: show states, or only groups in the given comma-separated states")
	f.Lookup("state").NoOptDefVal = " "
	f.BoolVar(&o.dryRun, "dry-run", false, "with --reset-offsets: only show the new offsets (the default)")
	f.BoolVar(&o.execute, "execute", false, "with --reset-offsets: commit the new offsets")
	f.BoolVar(&o.export, "export", false, "with --reset-offsets: print the plan as CSV, for --from-file")
	f.BoolVar(&o.toEarliest, "to-earliest", false, "reset to the earliest offset")
	f.BoolVar(&o.toLatest, "to-latest", false, "reset to the latest offset")
	f.BoolVar(&o.toCurrent, "to-current", false, "reset to the current committed offset (the latest where there is none)")
	f.Int64Var(&o.toOffset, "to-offset", 0, "reset to this offset")
	f.Int64Var(&o.shiftBy, "shift-by", 0, "shift the committed offset by n, which may be negative")
	f.StringVar(&o.toDatetime, "to-datetime", "", "reset to the first offset at or after this time, YYYY-MM-DDTHH:mm:SS.sss (UTC unless a zone follows)")
	f.StringVar(&o.byDuration, "by-duration", "", "reset to the first offset at or after this long ago, as PnDTnHnMnS")
	f.StringVar(&o.fromFile, "from-file", "", "reset to the offsets of a CSV file (topic,partition,offset or group,topic,partition,offset)")
	return cmd
}

var resetScenarios = []string{"to-earliest", "to-latest", "to-current", "to-offset", "shift-by", "to-datetime", "by-duration", "from-file"}

// check validates the combination of flags, as kafka-consumer-groups.sh
// does.
func (o *consumerGroupsOptions) check(f *pflag.FlagSet) error {
	actions := 0
	for _, b := range []bool{o.list, o.describe, o.del, o.reset, o.deleteOffsets} {
		if b {
			actions++
		}
	}
	if actions != 1 {
		return usageErrorf("command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets")
	}
	only := func(flag string, ok bool, with string) error {
		if f.Changed(flag) && !ok {
			return usageErrorf("--%s can only be used with %s", flag, with)
		}
		return nil
	}
	scenarios := 0
	for _, s := range resetScenarios {
		if f.Changed(s) {
			scenarios++
		}
	}
	for _, err := range []error{
		only("group", !o.list, "--describe, --delete, --reset-offsets or --delete-offsets"),
		only("all-groups", o.describe || o.del || o.reset, "--describe, --delete or --reset-offsets"),
		only("topic", o.reset || o.deleteOffsets || o.del, "--reset-offsets or --delete-offsets"),
		only("all-topics", o.reset, "--reset-offsets"),
		only("members", o.describe, "--describe"),
		only("offsets", o.describe, "--describe"),
		only("verbose", o.describe, "--describe"),
		only("state", o.describe || o.list, "--describe or --list"),
		only("dry-run", o.reset, "--reset-offsets"),
		only("execute", o.reset, "--reset-offsets"),
		only("export", o.reset, "--reset-offsets"),
	} {
		if err != nil {
			return err
		}
	}
	if scenarios > 0 && !o.reset {
		return usageErrorf("--%s can only be used with --reset-offsets", resetScenarios[slices.IndexFunc(resetScenarios, f.Changed)])
	}
	if len(o.groups) > 0 && o.allGroups {
		return usageErrorf("--group and --all-groups cannot be used together")
	}
	needGroup := func(action string) error {
		if len(o.groups) == 0 && !o.allGroups {
			return usageErrorf("--%s takes one of these options: --all-groups, --group", action)
		}
		return nil
	}
	switch {
	case o.describe:
		if err := needGroup("describe"); err != nil {
			return err
		}
		n := 0
		for _, b := range []bool{o.members, o.offsets, f.Changed("state")} {
			if b {
				n++
			}
		}
		if n > 1 {
			return usageErrorf("--describe takes at most one of these options: --members, --offsets, --state")
		}
		if strings.TrimSpace(o.state) != "" {
			return usageErrorf("--describe does not take a value for --state")
		}
	case o.list:
		if s := strings.TrimSpace(o.state); s != "" {
			if _, err := parseGroupStates(s); err != nil {
				return usageError{err}
			}
		}
	case o.del:
		if err := needGroup("delete"); err != nil {
			return err
		}
		if len(o.topics) > 0 {
			return usageErrorf("the consumer does not support topic-specific offset deletion from a consumer group")
		}
	case o.deleteOffsets:
		if len(o.groups) != 1 || len(o.topics) == 0 {
			return usageErrorf("--delete-offsets takes the following options: --group (one), --topic")
		}
	case o.reset:
		if err := needGroup("reset-offsets"); err != nil {
			return err
		}
		if o.dryRun && o.execute {
			return usageErrorf("--reset-offsets only accepts one of --execute and --dry-run")
		}
		if scenarios != 1 {
			return usageErrorf("--reset-offsets requires exactly one of: --%s", strings.Join(resetScenarios, ", --"))
		}
		if o.fromFile == "" && !o.allTopics && len(o.topics) == 0 {
			return usageErrorf("one of the reset scopes should be defined: --all-topics, --topic")
		}
		if o.allTopics && len(o.topics) > 0 {
			return usageErrorf("--all-topics and --topic cannot be used together")
		}
		for _, t := range o.topics {
			if _, _, err := parseTopicPartitions(t); err != nil {
				return usageError{err}
			}
		}
		if o.toDatetime != "" {
			if _, err := parseKafkaDateTime(o.toDatetime); err != nil {
				return usageError{err}
			}
		}
		if o.byDuration != "" {
			if _, err := parseISODuration(o.byDuration); err != nil {
				return usageError{err}
			}
		}
	}
	if o.timeoutMs <= 0 {
		return usageErrorf("--timeout must be positive")
	}
	return nil
}

type groupsTool struct {
	o   *consumerGroupsOptions
	a   *app
	adm *kadm.Client
}

func (o *consumerGroupsOptions) run(ctx context.Context, a *app, f *pflag.FlagSet) error {
	props, err := loadProps(o.commandConfig)
	if err != nil {
		return err
	}
	props["bootstrap.servers"] = o.bootstrap
	cl, err := a.toolClient(ctx, props, kafkaclient.Admin)
	if err != nil {
		return err
	}
	defer cl.Close()
	g := &groupsTool{o: o, a: a, adm: kadm.NewClient(cl)}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(o.timeoutMs)*time.Millisecond+adminTimeout)
	defer cancel()
	switch {
	case o.list:
		return g.list(ctx, f.Changed("state"))
	case o.describe:
		return g.describe(ctx, f.Changed("state"))
	case o.del:
		return g.deleteGroups(ctx)
	case o.deleteOffsets:
		return g.deleteOffsets(ctx)
	}
	if !o.dryRun && !o.execute {
		fmt.Fprintln(a.stderr, "WARN: No action will be performed as the --execute option is missing. In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.")
	}
	return g.resetOffsets(ctx, f)
}

// consumerGroups lists the groups of consumers (protocol type "consumer",
// or none yet), not those of Connect workers, with their states.
func (g *groupsTool) consumerGroups(ctx context.Context) ([][2]string, error) {
	listed, err := g.adm.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	var out [][2]string
	var unknown []string
	for _, l := range listed {
		if l.ProtocolType != "" && l.ProtocolType != "consumer" {
			continue
		}
		out = append(out, [2]string{l.Group, l.State})
		if l.State == "" {
			unknown = append(unknown, l.Group)
		}
	}
	if len(unknown) > 0 { // brokers before Kafka 2.6 list no states
		described, err := g.adm.DescribeGroups(ctx, unknown...)
		if err != nil {
			return nil, fmt.Errorf("describe groups: %w", err)
		}
		for i := range out {
			if d, ok := described[out[i][0]]; ok && out[i][1] == "" {
				out[i][1] = d.State
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out, nil
}

func (g *groupsTool) groupNames(ctx context.Context) ([]string, error) {
	if !g.o.allGroups {
		return g.o.groups, nil
	}
	groups, err := g.consumerGroups(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(groups))
	for i, gr := range groups {
		names[i] = gr[0]
	}
	return names, nil
}

func (g *groupsTool) list(ctx context.Context, withState bool) error {
	groups, err := g.consumerGroups(ctx)
	if err != nil {
		return err
	}
	if !withState {
		var b strings.Builder
		for _, gr := range groups {
			b.WriteString(gr[0] + "\n")
		}
		_, err := fmt.Fprint(g.a.stdout, b.String())
		return err
	}
	if s := strings.TrimSpace(g.o.state); s != "" {
		want, _ := parseGroupStates(s) // checked in check
		groups = slices.DeleteFunc(groups, func(gr [2]string) bool { return !slices.Contains(want, gr[1]) })
	}
	writeGroupStates(g.a.stdout, groups)
	return nil
}

// describeGroup describes one group; a group the coordinator does not know
// is reported as Kafka does.
func (g *groupsTool) describeGroup(ctx context.Context, group string) (kadm.DescribedGroup, error) {
	described, err := g.adm.DescribeGroups(ctx, group)
	if err != nil {
		return kadm.DescribedGroup{}, fmt.Errorf("describe group %s: %w", group, err)
	}
	d, ok := described[group]
	switch {
	case !ok, errors.Is(d.Err, kerr.GroupIDNotFound), d.Err == nil && d.State == "Dead":
		return d, fmt.Errorf("Consumer group '%s' does not exist.", group) //nolint:staticcheck // Kafka's message
	case d.Err != nil:
		return d, fmt.Errorf("describe group %s: %w", group, d.Err)
	}
	return d, nil
}

// announceState writes what Kafka says of a group that is not stable.
func (g *groupsTool) announceState(d kadm.DescribedGroup) {
	switch d.State {
	case "Empty":
		fmt.Fprintf(g.a.stderr, "\nConsumer group '%s' has no active members.\n", d.Group)
	case "PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling":
		fmt.Fprintf(g.a.stderr, "\nWarning: Consumer group '%s' is rebalancing.\n", d.Group)
	}
}

func (g *groupsTool) describe(ctx context.Context, withState bool) error {
	groups, err := g.groupNames(ctx)
	if err != nil {
		return err
	}
	slices.Sort(groups)
	var errs []error
	for _, group := range groups {
		d, err := g.describeGroup(ctx, group)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch {
		case withState:
			g.announceState(d)
			coordinator := fmt.Sprintf("%s:%d  (%d)", d.Coordinator.Host, d.Coordinator.Port, d.Coordinator.NodeID)
			writeStateTable(g.a.stdout, groupState{Group: group, Coordinator: coordinator, Strategy: d.Protocol, State: d.State, Members: len(d.Members)})
		case g.o.members:
			g.announceState(d)
			if len(d.Members) > 0 {
				writeMembersTable(g.a.stdout, memberRows(d), g.o.verbose)
			}
		default:
			rows, err := g.offsetRows(ctx, d)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			g.announceState(d)
			if len(rows) > 0 {
				writeOffsetsTable(g.a.stdout, rows)
			}
		}
	}
	return errors.Join(errs...)
}

func memberRows(d kadm.DescribedGroup) []groupMemberRow {
	rows := make([]groupMemberRow, 0, len(d.Members))
	for _, m := range d.Members {
		r := groupMemberRow{Group: d.Group, Consumer: m.MemberID, Host: m.ClientHost, ClientID: m.ClientID, Assignment: map[string][]int32{}}
		if m.InstanceID != nil {
			r.InstanceID = *m.InstanceID
		}
		if ca, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range ca.Topics {
				r.Assignment[t.Topic] = append(r.Assignment[t.Topic], t.Partitions...)
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// offsetRows builds the describe table as Kafka does: the partitions of
// each member (members with most partitions first), then the partitions
// the group has committed offsets for and no member holds.
func (g *groupsTool) offsetRows(ctx context.Context, d kadm.DescribedGroup) ([]groupOffsetRow, error) {
	commits, err := g.adm.FetchOffsets(ctx, d.Group)
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group %s: %w", d.Group, err)
	}
	members := memberRows(d)
	sort.SliceStable(members, func(i, j int) bool { return members[i].partitions() > members[j].partitions() })

	topics := map[string]bool{}
	for _, m := range members {
		for t := range m.Assignment {
			topics[t] = true
		}
	}
	commits.Each(func(o kadm.OffsetResponse) { topics[o.Topic] = true })
	ends := kadm.ListedOffsets{}
	if len(topics) > 0 {
		names := make([]string, 0, len(topics))
		for t := range topics {
			names = append(names, t)
		}
		if ends, err = g.adm.ListEndOffsets(ctx, names...); err != nil {
			return nil, fmt.Errorf("list end offsets: %w", err)
		}
	}
	row := func(topic string, p int32, consumer, host, client string) groupOffsetRow {
		r := groupOffsetRow{Group: d.Group, Topic: topic, Partition: p, Current: -1, End: -1, Consumer: consumer, Host: host, ClientID: client}
		if c, ok := commits.Lookup(topic, p); ok && c.Err == nil {
			r.Current = c.At
		}
		if e, ok := ends.Lookup(topic, p); ok && e.Err == nil {
			r.End = e.Offset
		}
		return r
	}
	type tp struct {
		t string
		p int32
	}
	assigned := map[tp]bool{}
	var rows []groupOffsetRow
	for _, m := range members {
		if m.partitions() == 0 {
			continue
		}
		var mine []groupOffsetRow
		for t, ps := range m.Assignment {
			for _, p := range ps {
				assigned[tp{t, p}] = true
				mine = append(mine, row(t, p, m.Consumer, m.Host, m.ClientID))
			}
		}
		sortOffsetRows(mine)
		rows = append(rows, mine...)
	}
	var rest []groupOffsetRow
	commits.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && !assigned[tp{o.Topic, o.Partition}] {
			rest = append(rest, row(o.Topic, o.Partition, missing, missing, missing))
		}
	})
	sortOffsetRows(rest)
	return append(rows, rest...), nil
}

func sortOffsetRows(rows []groupOffsetRow) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Topic != rows[j].Topic {
			return rows[i].Topic < rows[j].Topic
		}
		return rows[i].Partition < rows[j].Partition
	})
}

func (g *groupsTool) deleteGroups(ctx context.Context) error {
	groups, err := g.groupNames(ctx)
	if err != nil {
		return err
	}
	if len(groups) == 0 {
		return nil
	}
	resps, err := g.adm.DeleteGroups(ctx, groups...)
	if err != nil {
		return fmt.Errorf("delete groups: %w", err)
	}
	var ok, failed []string
	for _, group := range groups {
		r := resps[group]
		if r.Err == nil {
			ok = append(ok, "'"+group+"'")
			continue
		}
		failed = append(failed, fmt.Sprintf("* Group '%s' could not be deleted due to: %v", group, r.Err))
	}
	if len(failed) == 0 {
		fmt.Fprintf(g.a.stdout, "Deletion of requested consumer groups (%s) was successful.\n", strings.Join(ok, ", "))
		return nil
	}
	if len(ok) > 0 {
		fmt.Fprintf(g.a.stdout, "These consumer groups were deleted successfully: %s\n", strings.Join(ok, ", "))
	}
	return fmt.Errorf("Deletion of some consumer groups failed:\n%s", strings.Join(failed, "\n")) //nolint:staticcheck // Kafka's message
}

func (g *groupsTool) deleteOffsets(ctx context.Context) error {
	group := g.o.groups[0]
	set := kadm.TopicsSet{}
	var whole []string
	for _, arg := range g.o.topics {
		t, ps, _ := parseTopicPartitions(arg) // checked in check
		if ps == nil {
			whole = append(whole, t)
			continue
		}
		set.Add(t, ps...)
	}
	if len(whole) > 0 {
		md, err := g.adm.Metadata(ctx, whole...)
		if err != nil {
			return fmt.Errorf("describe topics: %w", err)
		}
		for _, t := range whole {
			d, ok := md.Topics[t]
			if !ok || d.Err != nil {
				return fmt.Errorf("Topic '%s' does not exist as expected", t) //nolint:staticcheck // Kafka's message
			}
			set.Add(t, d.Partitions.Numbers()...)
		}
	}
	resps, err := g.adm.DeleteOffsets(ctx, group, set)
	if err != nil {
		return fmt.Errorf("delete offsets of group %s: %w", group, err)
	}
	type row struct {
		t   string
		p   int32
		err error
	}
	var rows []row
	failed := false
	for t, ps := range set {
		for p := range ps {
			err, _ := resps.Lookup(t, p)
			failed = failed || err != nil
			rows = append(rows, row{t, p, err})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].t != rows[j].t {
			return rows[i].t < rows[j].t
		}
		return rows[i].p < rows[j].p
	})
	width := 15
	for _, r := range rows {
		width = max(width, len(r.t))
	}
	var b strings.Builder
	if !failed {
		fmt.Fprintf(&b, "Request succeeded for deleting offsets from group %s.\n", group)
	}
	format := fmt.Sprintf("\n%%-%ds %%-10s %%-15s", width)
	fmt.Fprintf(&b, format, "TOPIC", "PARTITION", "STATUS")
	for _, r := range rows {
		status := "Successful"
		if r.err != nil {
			status = "Error: " + r.err.Error()
		}
		fmt.Fprintf(&b, format, r.t, strconv.Itoa(int(r.p)), status)
	}
	b.WriteString("\n")
	fmt.Fprint(g.a.stdout, b.String())
	if failed {
		return fmt.Errorf("some offsets of group %s were not deleted", group)
	}
	return nil
}

func (g *groupsTool) resetOffsets(ctx context.Context, f *pflag.FlagSet) error {
	groups, err := g.groupNames(ctx)
	if err != nil {
		return err
	}
	slices.Sort(groups)
	var fromFile []resetRow
	if g.o.fromFile != "" {
		text, err := os.ReadFile(g.o.fromFile)
		if err != nil {
			return fmt.Errorf("--from-file: %w", err)
		}
		single := ""
		if len(groups) == 1 {
			single = groups[0]
		}
		if fromFile, err = parseResetCSV(string(text), single); err != nil {
			return usageErrorf("--from-file %s: %v", g.o.fromFile, err)
		}
	}
	var plan []resetRow
	var errs []error
	for _, group := range groups {
		described, err := g.adm.DescribeGroups(ctx, group)
		if err != nil {
			return fmt.Errorf("describe group %s: %w", group, err)
		}
		if d, ok := described[group]; ok && d.Err == nil && d.State != "Empty" && d.State != "Dead" {
			errs = append(errs, fmt.Errorf("Assignments can only be reset if the group '%s' is inactive, but the current state is %s.", group, d.State)) //nolint:staticcheck // Kafka's message
			continue
		}
		rows, err := g.planReset(ctx, group, fromFile, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if g.o.execute && len(rows) > 0 {
			offsets := kadm.Offsets{}
			for _, r := range rows {
				offsets.Add(kadm.Offset{Topic: r.Topic, Partition: r.Partition, At: r.Offset, LeaderEpoch: -1})
			}
			if err := g.adm.CommitAllOffsets(ctx, group, offsets); err != nil {
				errs = append(errs, fmt.Errorf("commit offsets of group %s: %w", group, err))
				continue
			}
		}
		plan = append(plan, rows...)
	}
	if g.o.export {
		writeResetCSV(g.a.stdout, plan, len(groups) > 1)
	} else {
		writeResetTable(g.a.stdout, plan)
	}
	return errors.Join(errs...)
}

// planReset computes the new offsets of one group.
func (g *groupsTool) planReset(ctx context.Context, group string, fromFile []resetRow, f *pflag.FlagSet) ([]resetRow, error) {
	commits, err := g.adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group %s: %w", group, err)
	}
	// The partitions to reset.
	set := kadm.TopicsSet{}
	wanted := map[string]map[int32]int64{} // --from-file offsets
	switch {
	case g.o.fromFile != "":
		for _, r := range fromFile {
			if r.Group == group {
				set.Add(r.Topic, r.Partition)
				if wanted[r.Topic] == nil {
					wanted[r.Topic] = map[int32]int64{}
				}
				wanted[r.Topic][r.Partition] = r.Offset
			}
		}
		if len(set) == 0 {
			return nil, fmt.Errorf("No reset plan for group %s found.", group) //nolint:staticcheck // Kafka's message
		}
	case g.o.allTopics:
		commits.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil {
				set.Add(o.Topic, o.Partition)
			}
		})
	default:
		for _, arg := range g.o.topics {
			t, ps, _ := parseTopicPartitions(arg) // checked in check
			set.Add(t, ps...)
			if ps == nil {
				set[t] = map[int32]struct{}{} // all partitions, filled in below
			}
		}
	}
	topics := set.Topics()
	if len(topics) == 0 {
		return nil, nil
	}
	md, err := g.adm.Metadata(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("describe topics: %w", err)
	}
	var absent []string
	for _, t := range topics {
		d, ok := md.Topics[t]
		if !ok || d.Err != nil {
			for p := range set[t] {
				absent = append(absent, fmt.Sprintf("%s-%d", t, p))
			}
			if len(set[t]) == 0 {
				absent = append(absent, t)
			}
			continue
		}
		if len(set[t]) == 0 {
			set.Add(t, d.Partitions.Numbers()...)
		}
		for p := range set[t] {
			if _, ok := d.Partitions[p]; !ok {
				absent = append(absent, fmt.Sprintf("%s-%d", t, p))
			}
		}
	}
	if len(absent) > 0 {
		slices.Sort(absent)
		return nil, fmt.Errorf("The partitions \"%s\" do not exist", strings.Join(absent, ",")) //nolint:staticcheck // Kafka's message
	}

	starts, err := g.adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := g.adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	var after kadm.ListedOffsets
	if g.o.toDatetime != "" || g.o.byDuration != "" {
		var at time.Time
		if g.o.toDatetime != "" {
			at, _ = parseKafkaDateTime(g.o.toDatetime) // checked in check
		} else {
			d, _ := parseISODuration(g.o.byDuration)
			at = time.Now().Add(-d)
		}
		if after, err = g.adm.ListOffsetsAfterMilli(ctx, at.UnixMilli(), topics...); err != nil {
			return nil, fmt.Errorf("list offsets by time: %w", err)
		}
	}
	offsetOf := func(os kadm.ListedOffsets, t string, p int32) int64 {
		if o, ok := os.Lookup(t, p); ok && o.Err == nil {
			return o.Offset
		}
		return -1
	}

	var rows []resetRow
	for _, tps := range set.Sorted() {
		t := tps.Topic
		for _, p := range tps.Partitions {
			start, end := offsetOf(starts, t, p), offsetOf(ends, t, p)
			tpName := fmt.Sprintf("%s-%d", t, p)
			current := int64(-1)
			if c, ok := commits.Lookup(t, p); ok && c.Err == nil {
				current = c.At
			}
			var want int64
			clamp := true
			switch {
			case g.o.toEarliest:
				want, clamp = start, false
			case g.o.toLatest:
				want, clamp = end, false
			case g.o.toCurrent:
				want, clamp = current, false
				if current < 0 {
					want = end
				}
			case f.Changed("to-offset"):
				want = g.o.toOffset
			case f.Changed("shift-by"):
				if current < 0 {
					return nil, fmt.Errorf("cannot shift offset for partition %s since there is %w", tpName, errNoCommit)
				}
				want = current + g.o.shiftBy
			case after != nil:
				o, ok := after.Lookup(t, p)
				clamp = false
				if !ok || o.Err != nil || o.Timestamp < 0 || o.Offset < 0 {
					fmt.Fprintf(g.a.stdout, "\nWarn: Partition %d from topic %s is empty. Falling back to latest known offset.\n", p, t)
					want = end
				} else {
					want = o.Offset
				}
			default: // --from-file
				want = wanted[t][p]
			}
			if want < 0 {
				return nil, fmt.Errorf("no offset for topic partition %s", tpName)
			}
			if clamp {
				var warning string
				if want, warning = clampOffset(want, start, end, tpName); warning != "" {
					g.a.log.Warn(warning)
				}
			}
			rows = append(rows, resetRow{Group: group, Topic: t, Partition: p, Offset: want})
		}
	}
	return rows, nil
}
