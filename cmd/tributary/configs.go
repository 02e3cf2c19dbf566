package main

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/configs"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
)

func newConfigsCmd(a *app) *cobra.Command {
	var o configs.Options
	var zookeeper string
	var force bool
	cmd := &cobra.Command{
		Use:   "configs",
		Short: "Describe and alter configs of topics, brokers, users and clients (kafka-configs.sh)",
		Long: `Describe or alter the dynamic configs of topics, brokers (one broker, or the
cluster-wide default with --entity-default) and broker loggers, the quotas of
users and clients, and the SCRAM credentials of users, with the flags and
output of Kafka's kafka-configs.sh. Exactly one action is required:
--describe or --alter.

--add-config takes k1=v1,k2=[v1,v2]: square brackets group a value that
holds commas. Users' SCRAM credentials are added as
SCRAM-SHA-256=[iterations=8192,password=alice-secret] and removed with
--delete-config SCRAM-SHA-256.`,
		Example: `  tributary configs --bootstrap-server localhost:9092 --describe --entity-type topics --entity-name log-test
  tributary configs --bootstrap-server localhost:9092 --alter --entity-type topics --entity-name log-test --add-config retention.ms=3600000,cleanup.policy=[compact,delete]
  tributary configs --bootstrap-server localhost:9092 --alter --entity-type brokers --entity-default --add-config log.retention.ms=86400000
  tributary configs --bootstrap-server localhost:9092 --alter --entity-type users --entity-name alice --add-config 'SCRAM-SHA-256=[password=alice-secret]'
  tributary configs --bootstrap-server localhost:9092 --alter --user alice --client app --add-config producer_byte_rate=1048576`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if zookeeper != "" {
				return usageErrorf("--zookeeper %s: configs are read and changed through the broker only; use --bootstrap-server", zookeeper)
			}
			o.Changed, o.Logger = cmd.Flags().Changed, a.log
			return configs.Run(cmd.Context(), o, a.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Bootstrap, "bootstrap-server", toolclient.DefaultBootstrap, "the Kafka broker(s) to connect to, host:port[,host:port...]")
	f.StringVar(&o.CommandConfig, "command-config", "", "property file of admin client settings")
	f.StringVar(&zookeeper, "zookeeper", "", "not supported: configs are changed through --bootstrap-server")
	f.BoolVar(&o.Describe, "describe", false, "list the configs of the given entity")
	f.BoolVar(&o.Alter, "alter", false, "alter the configs of the given entity")
	f.BoolVar(&o.All, "all", false, "with --describe: list all configs, not only the dynamic ones")
	f.StringArrayVar(&o.EntityTypes, "entity-type", nil, "type of entity: topics, brokers, broker-loggers, users or clients (users and clients may be given together)")
	f.Var(entityName{&o.EntityNames}, "entity-name", "name of the entity: topic name, broker id, user principal or client id")
	f.Var(entityDefault{&o.EntityNames}, "entity-default", "the default entity of brokers, users or clients (for the type in the same position)")
	f.Lookup("entity-default").NoOptDefVal = "true"
	f.StringVar(&o.Topic, "topic", "", "the topic's name (--entity-type topics --entity-name)")
	f.StringVar(&o.Broker, "broker", "", "the broker's id (--entity-type brokers --entity-name)")
	f.BoolVar(&o.BrokerDefaults, "broker-defaults", false, "the config defaults of all brokers")
	f.StringVar(&o.BrokerLogger, "broker-logger", "", "the broker's id, for its loggers")
	f.StringVar(&o.User, "user", "", "the user's principal name")
	f.BoolVar(&o.UserDefaults, "user-defaults", false, "the config defaults of all users")
	f.StringVar(&o.Client, "client", "", "the client's id")
	f.BoolVar(&o.ClientDefaults, "client-defaults", false, "the config defaults of all clients")
	f.StringVar(&o.AddConfig, "add-config", "", "configs to add: k1=v1,k2=[v1,v2,v2],k3=v3")
	f.StringVar(&o.AddConfigFile, "add-config-file", "", "a property file of configs to add")
	f.StringSliceVar(&o.DeleteConfig, "delete-config", nil, "config keys to remove: k1,k2")
	f.BoolVar(&force, "force", false, "accepted, as Kafka's tool does; it never prompts")
	_ = cmd.RegisterFlagCompletionFunc("entity-type", cobra.FixedCompletions(configs.EntityTypes, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagFilename("add-config-file", "properties")
	_ = cmd.MarkFlagFilename("command-config", "properties")
	return cmd
}

// entityName is --entity-name: each value is appended to the entity
// names, in command line order with --entity-default.
type entityName struct{ names *[]string }

func (e entityName) Set(v string) error { *e.names = append(*e.names, v); return nil }
func (e entityName) String() string     { return "" }
func (e entityName) Type() string       { return "string" }

// entityDefault is --entity-default: a default entity ("") among the
// entity names.
type entityDefault struct{ names *[]string }

func (e entityDefault) Set(v string) error {
	if b, err := strconv.ParseBool(v); err != nil || !b {
		return usageErrorf("--entity-default takes no value")
	}
	*e.names = append(*e.names, "")
	return nil
}
func (e entityDefault) String() string   { return "" }
func (e entityDefault) Type() string     { return "bool" }
func (e entityDefault) IsBoolFlag() bool { return true }
