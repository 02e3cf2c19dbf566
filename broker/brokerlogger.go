package broker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// BROKER_LOGGER config resources (type 8), named by this node's id: the
// loggers of the broker and their levels, as kafka-configs.sh
// --broker-logger shows and changes Kafka's log4j loggers. This broker
// has one logger, Kafka's "root":
// * DescribeConfigs lists root with its level (DEBUG, INFO, WARN, ERROR or
//   OFF), source DYNAMIC_BROKER_LOGGER_CONFIG.
// * IncrementalAlterConfigs SET root=LEVEL takes Kafka's level names (OFF,
//   FATAL, ERROR, WARN, INFO, DEBUG, TRACE; ALL); FATAL counts as ERROR,
//   TRACE and ALL as DEBUG. DELETE of root, APPEND and SUBTRACT are
//   refused as Kafka refuses them; another logger name does not exist
//   (INVALID_CONFIG). The change lasts until the broker stops, as in Kafka.
// * Without Config.LogLevel the level can be read, not changed.
// * Another node id or an empty name is INVALID_REQUEST.

const rootLogger = "root"

// levelOff is above every level the broker logs at.
const levelOff = slog.LevelError + 4

// kafkaLevels maps Kafka's (log4j's) level names to slog's.
var kafkaLevels = map[string]slog.Level{
	"OFF": levelOff, "FATAL": slog.LevelError, "ERROR": slog.LevelError, "WARN": slog.LevelWarn,
	"INFO": slog.LevelInfo, "DEBUG": slog.LevelDebug, "TRACE": slog.LevelDebug, "ALL": slog.LevelDebug,
}

// loggerLevel returns the root logger's level by Kafka's name.
func (b *Broker) loggerLevel() string {
	var l slog.Level
	switch {
	case b.cfg.LogLevel != nil:
		l = b.cfg.LogLevel.Level()
	default:
		l = levelOff
		for _, c := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
			if b.log.Enabled(context.Background(), c) {
				l = c
				break
			}
		}
	}
	switch {
	case l <= slog.LevelDebug:
		return "DEBUG"
	case l <= slog.LevelInfo:
		return "INFO"
	case l <= slog.LevelWarn:
		return "WARN"
	case l <= slog.LevelError:
		return "ERROR"
	}
	return "OFF"
}

func (b *Broker) checkLoggerResource(name string) (int16, string) {
	if name != fmt.Sprint(b.cfg.NodeID) {
		return kerr.InvalidRequest.Code, fmt.Sprintf("Unexpected broker id, expected %d but received %q", b.cfg.NodeID, name)
	}
	return 0, ""
}

func (b *Broker) describeBrokerLoggers(rr kmsg.DescribeConfigsRequestResource, sr *kmsg.DescribeConfigsResponseResource) (int16, string) {
	if code, msg := b.checkLoggerResource(rr.ResourceName); code != 0 {
		return code, msg
	}
	if !wanted(rr.ConfigNames)(rootLogger) {
		return 0, ""
	}
	v := b.loggerLevel()
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name, c.Value, c.Source = rootLogger, &v, kmsg.ConfigSourceDynamicBrokerLoggerConfig
	c.ConfigType = kmsg.ConfigTypeString
	sr.Configs = append(sr.Configs, c)
	return 0, ""
}

func (b *Broker) alterBrokerLoggers(rr kmsg.IncrementalAlterConfigsRequestResource, validateOnly bool) (int16, string) {
	if code, msg := b.checkLoggerResource(rr.ResourceName); code != 0 {
		return code, msg
	}
	level, set := slog.Level(0), false
	for _, c := range rr.Configs {
		if c.Name != rootLogger {
			return kerr.InvalidConfig.Code, fmt.Sprintf("Logger %s does not exist; this broker has one logger, %s", c.Name, rootLogger)
		}
		switch c.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			v := ""
			if c.Value != nil {
				v = *c.Value
			}
			l, ok := kafkaLevels[strings.ToUpper(v)]
			if !ok {
				return kerr.InvalidConfig.Code, fmt.Sprintf("Cannot set the log level of %s to %s as it is not a supported log level. Valid log levels are OFF, FATAL, ERROR, WARN, INFO, DEBUG, TRACE", c.Name, v)
			}
			level, set = l, true
		case kmsg.IncrementalAlterConfigOpDelete:
			return kerr.InvalidConfig.Code, "Removing the log level of the root logger is not allowed"
		default:
			return kerr.InvalidRequest.Code, fmt.Sprintf("%s operation is not allowed for the BROKER_LOGGER resource", c.Op)
		}
	}
	if !set || validateOnly {
		return 0, ""
	}
	if b.cfg.LogLevel == nil {
		return kerr.InvalidRequest.Code, "this broker's log level belongs to the process running it (a worker's /admin/loggers for the bundled broker); it cannot be changed here"
	}
	b.cfg.LogLevel.Set(level)
	b.log.Log(context.Background(), max(level, slog.LevelInfo), "log level changed", "logger", rootLogger, "level", b.loggerLevel())
	return 0, ""
}
