package broker

import (
	"crypto/tls"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreateDelegationToken: v0-3
//
// Behavior:
// * Delegation tokens (KIP-48) are not enabled on this broker, and cannot
//   be: a server.properties setting delegation.token.secret.key (or its
//   older name delegation.token.master.key) is refused at start-up. So,
//   as Kafka answers when no secret key is configured, every request that
//   gets that far is DELEGATION_TOKEN_AUTH_DISABLED, and no token is ever
//   made.
// * Kafka's checks come first, in its order: a connection that is not
//   authenticated (PLAINTEXT, or SSL without a client certificate) gets
//   DELEGATION_TOKEN_REQUEST_NOT_ALLOWED; with an authorizer, a token
//   asked for another owner needs CREATE_TOKENS on that user, else
//   DELEGATION_TOKEN_AUTHORIZATION_FAILED.
// * The response names the owner (the requester unless the request names
//   one) and, from v3, the requester; timestamps are -1, the token id and
//   HMAC empty.
//
// Not done:
// * Issuing tokens, and authenticating with them (SCRAM with
//   tokenauth=true): token authentication is not implemented.
//
// Version notes:
// * v1: no change
// * v2: flexible versions
// * v3: OwnerPrincipalType and OwnerPrincipalName in the request, the
//   requester in the response (KIP-373)

func handleCreateDelegationToken(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.CreateDelegationTokenRequest)
	resp := req.ResponseKind().(*kmsg.CreateDelegationTokenResponse)
	requester := c.principal()
	owner := requester
	if req.OwnerPrincipalName != nil && *req.OwnerPrincipalName != "" {
		owner = deref(req.OwnerPrincipalType) + ":" + *req.OwnerPrincipalName
	}
	resp.PrincipalType, resp.PrincipalName = splitPrincipal(owner)
	resp.TokenRequesterPrincipalType, resp.TokenRequesterPrincipalName = splitPrincipal(requester)
	resp.IssueTimestamp, resp.ExpiryTimestamp, resp.MaxTimestamp = -1, -1, -1
	resp.HMAC = []byte{}
	switch {
	case !c.tokenRequestsAllowed():
		resp.ErrorCode = kerr.DelegationTokenRequestNotAllowed.Code
	case owner != requester && b.cfg.authz != nil && !b.cfg.authz.authorize(requester, c.ip, opCreateTokens, resUser, owner):
		resp.ErrorCode = kerr.DelegationTokenAuthorizationFailed.Code
	default:
		resp.ErrorCode = kerr.DelegationTokenAuthDisabled.Code
	}
	return reply{resp: resp}
}

// tokenRequestsAllowed is Kafka's rule for the delegation token requests:
// only over a connection whose client authenticated, with SASL or with a
// TLS client certificate (a token-authenticated client would be refused
// too, but there are none here).
func (c *conn) tokenRequestsAllowed() bool {
	if c.lis.sasl != nil && c.authed {
		return true
	}
	if tc, ok := c.nc.(*tls.Conn); ok {
		return len(tc.ConnectionState().PeerCertificates) > 0
	}
	return false
}

// splitPrincipal splits "Type:name" (a principal without a type is a
// User).
func splitPrincipal(p string) (typ, name string) {
	for i := range len(p) {
		if p[i] == ':' {
			return p[:i], p[i+1:]
		}
	}
	return "User", p
}
