package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SaslHandshake: v0-1
//
// Behavior:
// * On a SASL_PLAINTEXT or SASL_SSL listener, before authentication: a
//   mechanism among the listener's enabled ones starts the exchange and
//   the answer lists the enabled mechanisms; any other mechanism gets
//   UNSUPPORTED_SASL_MECHANISM, with the list, and the connection is
//   closed.
// * v0: the exchange continues with bare size-prefixed tokens, without
//   request headers (clients older than Kafka 1.0); v1: with
//   SaslAuthenticate requests.
// * On other listeners, or once authenticated, ILLEGAL_SASL_STATE, as
//   Kafka answers (the key is advertised on every listener, as in Kafka).
//
// Version notes:
// * v1: SaslAuthenticate follows instead of bare tokens (KIP-152)

func handleSaslHandshake(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.SASLHandshakeRequest)
	resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
	s := c.lis.sasl
	if s == nil || c.authed || c.saslExch != nil {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		return reply{resp: resp}
	}
	resp.SupportedMechanisms = s.mechanisms
	exch := s.start(req.Mechanism)
	if exch == nil {
		c.log.Info("closing connection: SASL mechanism not enabled", "mechanism", req.Mechanism, "enabled", s.mechanisms)
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		return reply{resp: resp, closeAfter: true}
	}
	c.saslMech, c.saslExch, c.saslRaw = req.Mechanism, exch, req.Version == 0
	return reply{resp: resp}
}
