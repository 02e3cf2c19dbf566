// Package statuspage serves a live status page of a Kafka Connect worker
// and of the Kafka cluster it works with, at /ui/.
//
// The page is plain HTML, CSS and JavaScript embedded in the binary, with
// uPlot (MIT, in static/uplot) for its charts: nothing is fetched from
// elsewhere, so it works on a machine without internet access. In the
// browser it polls, every second or two:
//
//   - the worker's REST API, on the same origin (Config.REST), for the
//     connectors and tasks, their states and the last error of each
//     (GET /connectors?expand=status&expand=info) and, when the metrics lack
//     them, the source files' stored positions (GET /connectors/{name}/offsets);
//   - the Prometheus scrape on the same origin (Config.Metrics), parsed in
//     JavaScript, for each source file's position, size, lag and
//     throughput, the sink files, the tasks' record counts and the broker's
//     per-topic traffic;
//   - its own JSON endpoints, which ask the cluster over the Kafka protocol
//     with franz-go (kadm, kgo), with the seed brokers and the TLS and SASL
//     options of Config.
//
// A section whose source is missing (no REST API on a broker, no /metrics,
// a metric not exported) says so in place; the rest of the page goes on.
//
// The JSON endpoints, under /ui/api/:
//
//	GET /ui/api/config                               what the page polls: {"title","rest","metrics"}
//	GET /ui/api/topics                               topics with partitions, start and end offsets, sizes
//	GET /ui/api/groups                               consumer groups, members, committed offsets and lag per partition
//	GET /ui/api/messages?topic=T[&partition=P][&n=N] the last N records (default 20, at most MaxMessages)
//	                                                 of each partition of T, or of P alone
//
// Errors answer with the REST API's shape, {"error_code":400,"message":"..."}:
// 400 for a malformed or illegal topic name, partition or n, 404 for a topic
// or partition that does not exist, 502 when the cluster cannot be asked.
// Keys, values and header values are bytes, in JSON as base64; the page
// shows them as text or hex.
//
// The package knows neither the broker nor the worker's internals: the
// worker mounts the page on its REST listener (behind its basic
// authentication, rest.basic.auth.*), the broker on its metrics listener,
// each with a handler built by New. Close releases the Kafka client.
package statuspage
