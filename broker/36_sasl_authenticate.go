package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SaslAuthenticate: v0-2
//
// Behavior:
// * Carries the tokens of the mechanism chosen by a v1 SaslHandshake
//   (sasl.go has the mechanisms). Once the exchange succeeds the
//   connection may send any request.
// * A failed exchange gets SASL_AUTHENTICATION_FAILED with a message that
//   does not tell whether the user exists; the connection is closed after
//   connection.failed.authentication.delay.ms.
// * Outside an exchange (no handshake, a v0 handshake, another listener,
//   already authenticated): ILLEGAL_SASL_STATE.
//
// Not done: re-authentication (KIP-368): SessionLifetimeMillis is 0, the
// session does not expire.
//
// Version notes:
// * v1: SessionLifetimeMillis (KIP-368)
// * v2: flexible versions

func handleSaslAuthenticate(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.SASLAuthenticateRequest)
	resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	if c.lis.sasl == nil || c.authed || c.saslExch == nil || c.saslRaw {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		msg := "SaslAuthenticate is not expected now: send SaslHandshake v1 first, on a SASL listener"
		resp.ErrorMessage = &msg
		return reply{resp: resp}
	}
	out, err := c.saslStep(req.SASLAuthBytes)
	if err != nil {
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := err.Error()
		resp.ErrorMessage = &msg
		return reply{resp: resp, closeAfter: true, wait: c.authFailureDelay()}
	}
	resp.SASLAuthBytes = out
	return reply{resp: resp}
}

// saslStep feeds one token to the exchange in progress.
func (c *conn) saslStep(token []byte) ([]byte, error) {
	out, done, err := c.saslExch.step(token)
	if err != nil {
		c.log.Info("SASL authentication failed", "mechanism", c.saslMech, "err", err)
		c.b.metrics.authenticated(c.lis.name, false)
		return nil, err
	}
	if done {
		c.authed = true
		c.b.metrics.authenticated(c.lis.name, true)
		c.log.Debug("SASL authentication succeeded", "mechanism", c.saslMech, "user", c.saslExch.user())
	}
	return out, nil
}

// saslRawToken serves a bare token after a v0 SaslHandshake: the answer
// is a bare token too, and a failure closes the connection.
func (c *conn) saslRawToken(token []byte) *pending {
	out, err := c.saslStep(token)
	if err != nil {
		return &pending{reply: reply{none: true, closeAfter: true, wait: c.authFailureDelay()}}
	}
	if c.authed {
		c.saslRaw = false
	}
	if out == nil {
		out = []byte{}
	}
	return &pending{reply: reply{raw: out}}
}

// authFailureDelay waits connection.failed.authentication.delay.ms before
// a failed client is told and cut, as Kafka does, to slow down guessing.
func (c *conn) authFailureDelay() func() {
	d := c.b.cfg.FailedAuthenticationDelay
	return func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.b.ctx.Done():
		}
	}
}
