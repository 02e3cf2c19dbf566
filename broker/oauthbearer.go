package broker

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-io/tributary/config/security"
)

// SASL/OAUTHBEARER (RFC 7628, KIP-255) with unsecured JWS tokens, as
// Kafka's default for testing setups: the login module
// org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule with
// the default validator, OAuthBearerUnsecuredValidatorCallbackHandler.
//
// UNSECURED TOKENS ARE FOR TESTS ONLY: no signature is checked, so anyone
// may write a token naming any principal. As Kafka's documentation says,
// this is not suitable for production use.
//
// The client's initial response is the GS2 header and key-value pairs,
// "n,[a=authzid],\x01auth=Bearer <token>\x01[key=value\x01...]\x01". The
// token is an unsecured JWS: base64url({"alg":"none"}) "."
// base64url(claims) "." with an empty signature. It is validated as
// Kafka's unsecured validator does: alg is none; the principal claim
// (unsecuredValidatorPrincipalClaimName, default sub) is a non-empty
// string; exp is a number and not past; iat, if given, is a number not in
// the future and before exp; nbf, if given, is not in the future; each
// scope of unsecuredValidatorRequiredScope (space separated) is in the
// scope claim (unsecuredValidatorScopeClaimName, default scope; a string
// of space-separated scopes or a list of strings). Times allow
// unsecuredValidatorAllowableClockSkewMs (default 0) of skew. Extensions
// are accepted and ignored, as Kafka's unsecured handler does. The
// principal is User:<sub>.
//
// A refused token is answered, as in Kafka, with the RFC 7628 error
// {"status":"invalid_token"} (or "insufficient_scope" with the required
// scope) as the server's challenge; the client's \x01 reply then fails
// the authentication with that error as the message.

// MechanismOAuthBearer is SASL/OAUTHBEARER.
const MechanismOAuthBearer = "OAUTHBEARER"

// OAuthBearer holds the unsecured validator's options, from the JAAS
// entry of OAuthBearerLoginModule.
type OAuthBearer struct {
	PrincipalClaim string        // unsecuredValidatorPrincipalClaimName, default sub
	ScopeClaim     string        // unsecuredValidatorScopeClaimName, default scope
	RequiredScope  []string      // unsecuredValidatorRequiredScope, space separated
	ClockSkew      time.Duration // unsecuredValidatorAllowableClockSkewMs
}

// jaasOAuthBearer reads the validator options of a broker's JAAS entry
// for OAUTHBEARER. Its other options (unsecuredLoginStringClaim_sub and
// the like, for the broker's own login) are accepted and not used.
func jaasOAuthBearer(jaas string) (*OAuthBearer, error) {
	e, err := security.ParseJAAS(jaas)
	if err != nil {
		return nil, err
	}
	if module := e.Module[strings.LastIndexByte(e.Module, '.')+1:]; module != "OAuthBearerLoginModule" {
		return nil, fmt.Errorf("uses %s; OAUTHBEARER takes org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule", e.Module)
	}
	o := &OAuthBearer{PrincipalClaim: "sub", ScopeClaim: "scope"}
	if v := strings.TrimSpace(e.Options["unsecuredValidatorPrincipalClaimName"]); v != "" {
		o.PrincipalClaim = v
	}
	if v := strings.TrimSpace(e.Options["unsecuredValidatorScopeClaimName"]); v != "" {
		o.ScopeClaim = v
	}
	o.RequiredScope = strings.Fields(e.Options["unsecuredValidatorRequiredScope"])
	if v, ok := e.Options["unsecuredValidatorAllowableClockSkewMs"]; ok && strings.TrimSpace(v) != "" {
		ms, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || ms < 0 {
			return nil, fmt.Errorf("has unsecuredValidatorAllowableClockSkewMs=%q; want a non-negative number of milliseconds", v)
		}
		o.ClockSkew = time.Duration(ms) * time.Millisecond
	}
	return o, nil
}

// oauthExchange: the client's initial response, then, after a refusal,
// the client's \x01.
type oauthExchange struct {
	cfg   *OAuthBearer
	now   func() time.Time
	state int    // 0: awaiting the initial response, 1: awaiting \x01 after an error
	errJS string // the error sent
	name  string
}

func (o *oauthExchange) user() string { return o.name }

// oauthError is a refusal: the RFC 7628 error status, and the scope that
// was missing, if that was why.
type oauthError struct {
	status, scope, why string
}

func (e *oauthError) Error() string { return e.why }

func (e *oauthError) json() string {
	m := map[string]string{"status": e.status}
	if e.scope != "" {
		m["scope"] = e.scope
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func invalidToken(format string, args ...any) *oauthError {
	return &oauthError{status: "invalid_token", why: fmt.Sprintf(format, args...)}
}

func (o *oauthExchange) step(token []byte) ([]byte, bool, error) {
	switch o.state {
	case 0:
		o.state = 1
		name, err := o.initial(token)
		if err != nil {
			var oe *oauthError
			if !errors.As(err, &oe) {
				return nil, false, err // a malformed message fails at once
			}
			o.errJS = oe.json()
			return []byte(o.errJS), false, nil
		}
		o.state = 2
		o.name = name
		return []byte{}, true, nil
	case 1:
		o.state = 2
		if !bytes.Equal(token, []byte{1}) {
			return nil, false, fmt.Errorf("Invalid OAUTHBEARER response after the server's error %s: expected %%x01", o.errJS)
		}
		return nil, false, errors.New(o.errJS)
	}
	return nil, false, errors.New("unexpected OAUTHBEARER message after authentication")
}

// initial parses and validates the client's initial response, returning
// the principal's name.
func (o *oauthExchange) initial(msg []byte) (string, error) {
	s := string(msg)
	bad := errors.New("Invalid OAUTHBEARER initial response: want n,[a=authzid],\\x01auth=Bearer <token>\\x01[key=value\\x01]...\\x01")
	rest, ok := strings.CutPrefix(s, "n,")
	if !ok {
		return "", bad
	}
	authz, rest, ok := strings.Cut(rest, ",")
	if !ok {
		return "", bad
	}
	if authz != "" {
		z, err := scramName(strings.TrimPrefix(authz, "a="))
		if err != nil || !strings.HasPrefix(authz, "a=") || z == "" {
			return "", bad
		}
		authz = z
	}
	rest, ok = strings.CutPrefix(rest, "\x01")
	if !ok || !strings.HasSuffix(rest, "\x01\x01") {
		return "", bad
	}
	var tok string
	seen := false
	for _, kv := range strings.Split(strings.TrimSuffix(rest, "\x01\x01"), "\x01") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.Trim(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return "", bad
		}
		if k == "auth" {
			if seen {
				return "", bad
			}
			seen = true
			t, ok := strings.CutPrefix(v, "Bearer ")
			if !ok {
				if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
					t = v[7:]
				} else {
					return "", bad
				}
			}
			tok = t
		}
	}
	if !seen || tok == "" {
		return "", bad
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < 0x21 || tok[i] > 0x7e {
			return "", bad
		}
	}
	name, err := o.validate(tok)
	if err != nil {
		return "", err
	}
	if authz != "" && authz != name {
		return "", errors.New("Authentication failed: Client requested an authorization id that is different from the token's principal name")
	}
	return name, nil
}

// validate checks an unsecured JWS as Kafka's unsecured validator does.
func (o *oauthExchange) validate(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", invalidToken("an unsecured JWS has three dot-separated parts")
	}
	if parts[2] != "" {
		return "", invalidToken("an unsecured JWS has an empty signature")
	}
	var header, claims map[string]any
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[i], "="))
		if err != nil {
			return "", invalidToken("JWS part %d is not base64url: %v", i+1, err)
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(dst); err != nil || *dst == nil || d.More() {
			return "", invalidToken("JWS part %d is not a JSON object", i+1)
		}
	}
	if alg, _ := header["alg"].(string); alg != "none" {
		return "", invalidToken("an unsecured JWS has alg none, not %v", header["alg"])
	}
	sub, ok := claims[o.cfg.PrincipalClaim].(string)
	if !ok || strings.TrimSpace(sub) == "" {
		return "", invalidToken("the token has no %s claim (a non-empty string)", o.cfg.PrincipalClaim)
	}
	now := o.now()
	skew := o.cfg.ClockSkew
	claimTime := func(name string, required bool) (time.Time, bool, error) {
		v, ok := claims[name]
		if !ok {
			if required {
				return now, false, invalidToken("the token has no %s claim", name)
			}
			return now, false, nil
		}
		n, isNum := v.(json.Number)
		f, err := n.Float64()
		if !isNum || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return now, false, invalidToken("the token's %s claim is not a number", name)
		}
		return timeOfSeconds(f), true, nil
	}
	exp, _, err := claimTime("exp", true)
	if err != nil {
		return "", err
	}
	if !now.Add(-skew).Before(exp) {
		return "", invalidToken("the token expired at %s", exp.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	iat, hasIat, err := claimTime("iat", false)
	if err != nil {
		return "", err
	}
	if hasIat {
		if iat.After(now.Add(skew)) {
			return "", invalidToken("the token's issued-at time is in the future")
		}
		if !exp.After(iat) {
			return "", invalidToken("the token expires before it was issued")
		}
	}
	nbf, hasNbf, err := claimTime("nbf", false)
	if err != nil {
		return "", err
	}
	if hasNbf && nbf.After(now.Add(skew)) {
		return "", invalidToken("the token is not valid before %s", nbf.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	if len(o.cfg.RequiredScope) > 0 {
		var have []string
		switch v := claims[o.cfg.ScopeClaim].(type) {
		case string:
			have = strings.Fields(v)
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					have = append(have, s)
				}
			}
		}
		for _, want := range o.cfg.RequiredScope {
			if !slices.Contains(have, want) {
				return "", &oauthError{status: "insufficient_scope", scope: want, why: fmt.Sprintf("the token's scope lacks %s", want)}
			}
		}
	}
	return sub, nil
}

// timeOfSeconds turns a NumericDate (seconds since the epoch, possibly
// fractional) into a time, clamped far from overflow.
func timeOfSeconds(f float64) time.Time {
	const limit = 1 << 40 // about 35,000 years
	f = max(min(f, limit), -limit)
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}
