package broker

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

// unsecuredJWS builds an unsecured token: base64url header "."
// base64url claims "." and no signature.
func unsecuredJWS(header, claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(claims)) + "."
}

func subToken(sub string, exp time.Time) string {
	return unsecuredJWS(`{"alg":"none"}`, fmt.Sprintf(`{"sub":%q,"iat":%d,"exp":%d}`, sub, time.Now().Unix(), exp.Unix()))
}

func oauthMech(token string) kgo.Opt {
	return kgo.SASL(oauth.Auth{Token: token}.AsMechanism())
}

const oauthJAAS = `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="admin";`

// TestOAuthBearerFranzGo: franz-go's sasl/oauth authenticates with an
// unsecured token and produces and consumes; an expired token, a token
// whose alg is not none and a token without sub are refused with
// SASL_AUTHENTICATION_FAILED and the RFC 7628 invalid_token error.
func TestOAuthBearerFranzGo(t *testing.T) {
	tb := startBroker(t, "listeners=SASL_PLAINTEXT://127.0.0.1:0",
		"sasl.enabled.mechanisms=PLAIN,OAUTHBEARER",
		"listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config="+oauthJAAS,
		`listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";`)
	if err := roundTripFranz(t, tb.addr, "oauth", oauthMech(subToken("admin", time.Now().Add(time.Hour)))); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"expired":     subToken("admin", time.Now().Add(-time.Minute)),
		"alg HS256":   unsecuredJWS(`{"alg":"HS256"}`, fmt.Sprintf(`{"sub":"admin","exp":%d}`, time.Now().Add(time.Hour).Unix())),
		"no sub":      unsecuredJWS(`{"alg":"none"}`, fmt.Sprintf(`{"exp":%d}`, time.Now().Add(time.Hour).Unix())),
		"no exp":      unsecuredJWS(`{"alg":"none"}`, `{"sub":"admin"}`),
		"signed":      subToken("admin", time.Now().Add(time.Hour)) + "c2ln",
		"not a token": "garbage",
	} {
		t.Run(name, func(t *testing.T) {
			err := saslRefused(t, tb.addr, oauthMech(tok))
			if !errors.Is(err, kerr.SaslAuthenticationFailed) || !strings.Contains(err.Error(), "invalid_token") {
				t.Fatalf("want SASL_AUTHENTICATION_FAILED with invalid_token, got %v", err)
			}
		})
	}
}

// TestOAuthBearerACLs: the token's sub is the principal the authorizer
// sees: admin (a super user) grants User:alice WRITE on a topic; alice's
// token produces to it, carol's token is refused.
func TestOAuthBearerACLs(t *testing.T) {
	tb := startBroker(t, "listeners=SASL_PLAINTEXT://127.0.0.1:0",
		"sasl.enabled.mechanisms=OAUTHBEARER",
		"listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config="+oauthJAAS,
		"authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		"super.users=User:admin",
		"auto.create.topics.enable=false")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := func(sub string, opts ...kgo.Opt) *kgo.Client {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(tb.addr), oauthMech(subToken(sub, time.Now().Add(time.Hour))), kgo.RetryTimeout(2 * time.Second)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	admin := kadm.NewClient(client("admin"))
	if _, err := admin.CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	res, err := admin.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").AllowHosts().Topics("orders").Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("create ACL: %v", r.Err)
		}
	}
	if err := client("alice", kgo.DefaultProduceTopic("orders")).ProduceSync(ctx, &kgo.Record{Value: []byte("paid")}).FirstErr(); err != nil {
		t.Fatalf("alice produces: %v", err)
	}
	if err := client("carol", kgo.DefaultProduceTopic("orders")).ProduceSync(ctx, &kgo.Record{Value: []byte("forged")}).FirstErr(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("carol produces: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
}

// TestOAuthBearerValidation drives the exchange directly: the validator's
// options, time checks with skew, scope, authzid and extensions, and the
// error then \x01 then failure sequence.
func TestOAuthBearerValidation(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	msg := func(token string, extra ...string) []byte {
		return []byte("n,,\x01auth=Bearer " + token + "\x01" + strings.Join(extra, "") + "\x01")
	}
	claims := func(c string) string { return unsecuredJWS(`{"alg":"none"}`, c) }
	exp := fmt.Sprintf(`"exp":%d`, now.Unix()+60)
	for _, tc := range []struct {
		name string
		jaas string // options after required
		msg  []byte
		user string // "" when refused
		js   string // the error JSON when refused with one
	}{
		{"ok", "", msg(claims(`{"sub":"alice",` + exp + `}`)), "alice", ""},
		{"ok with extensions", "", msg(claims(`{"sub":"alice",`+exp+`}`), "traceId=abc 1\x01"), "alice", ""},
		{"authzid matches", "", []byte("n,a=alice,\x01auth=Bearer " + claims(`{"sub":"alice",`+exp+`}`) + "\x01\x01"), "alice", ""},
		{"fractional exp", "", msg(claims(fmt.Sprintf(`{"sub":"alice","exp":%d.5}`, now.Unix()))), "alice", ""},
		{"principal claim name", `unsecuredValidatorPrincipalClaimName="client_id"`, msg(claims(`{"client_id":"svc",` + exp + `}`)), "svc", ""},
		{"principal claim missing", `unsecuredValidatorPrincipalClaimName="client_id"`, msg(claims(`{"sub":"alice",` + exp + `}`)), "", `{"status":"invalid_token"}`},
		{"sub not a string", "", msg(claims(`{"sub":7,` + exp + `}`)), "", `{"status":"invalid_token"}`},
		{"exp now", "", msg(claims(fmt.Sprintf(`{"sub":"a","exp":%d}`, now.Unix()))), "", `{"status":"invalid_token"}`},
		{"exp within skew", `unsecuredValidatorAllowableClockSkewMs="5000"`, msg(claims(fmt.Sprintf(`{"sub":"a","exp":%d}`, now.Unix()-3))), "a", ""},
		{"exp not a number", "", msg(claims(`{"sub":"a","exp":"soon"}`)), "", `{"status":"invalid_token"}`},
		{"iat in the future", "", msg(claims(fmt.Sprintf(`{"sub":"a","iat":%d,%s}`, now.Unix()+10, exp))), "", `{"status":"invalid_token"}`},
		{"iat within skew", `unsecuredValidatorAllowableClockSkewMs=20000`, msg(claims(fmt.Sprintf(`{"sub":"a","iat":%d,%s}`, now.Unix()+10, exp))), "a", ""},
		{"nbf in the future", "", msg(claims(fmt.Sprintf(`{"sub":"a","nbf":%d,%s}`, now.Unix()+10, exp))), "", `{"status":"invalid_token"}`},
		{"nbf past", "", msg(claims(fmt.Sprintf(`{"sub":"a","nbf":%d,%s}`, now.Unix()-10, exp))), "a", ""},
		{"scope present", `unsecuredValidatorRequiredScope="read write"`, msg(claims(`{"sub":"a","scope":"write read other",` + exp + `}`)), "a", ""},
		{"scope as list", `unsecuredValidatorRequiredScope="read" unsecuredValidatorScopeClaimName="scp"`, msg(claims(`{"sub":"a","scp":["read"],` + exp + `}`)), "a", ""},
		{"scope missing", `unsecuredValidatorRequiredScope="read write"`, msg(claims(`{"sub":"a","scope":"read",` + exp + `}`)), "", `{"scope":"write","status":"insufficient_scope"}`},
		{"alg missing", "", msg(unsecuredJWS(`{}`, `{"sub":"a",`+exp+`}`)), "", `{"status":"invalid_token"}`},
		{"claims not JSON", "", msg(unsecuredJWS(`{"alg":"none"}`, `sub`)), "", `{"status":"invalid_token"}`},
		{"authzid differs", "", []byte("n,a=bob,\x01auth=Bearer " + claims(`{"sub":"alice",`+exp+`}`) + "\x01\x01"), "", ""},
		{"channel binding", "", []byte("y,,\x01auth=Bearer " + claims(`{"sub":"alice",`+exp+`}`) + "\x01\x01"), "", ""},
		{"no auth", "", []byte("n,,\x01k=v\x01\x01"), "", ""},
		{"no final separator", "", []byte("n,,\x01auth=Bearer " + claims(`{"sub":"alice",`+exp+`}`) + "\x01"), "", ""},
		{"empty", "", nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := jaasOAuthBearer("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required " + tc.jaas + ";")
			if err != nil {
				t.Fatal(err)
			}
			srv, err := newSASLServer(&SASL{Mechanisms: []string{MechanismOAuthBearer}, OAuthBearer: cfg})
			if err != nil {
				t.Fatal(err)
			}
			x := srv.start(MechanismOAuthBearer)
			x.(*oauthExchange).now = func() time.Time { return now }
			out, done, err := x.step(tc.msg)
			if tc.user != "" {
				if err != nil || !done || len(out) != 0 || x.user() != tc.user {
					t.Fatalf("got %q %v %v, user %q; want %q", out, done, err, x.user(), tc.user)
				}
				return
			}
			if done {
				t.Fatalf("authenticated %q", x.user())
			}
			if tc.js == "" { // malformed: refused at once
				if err == nil {
					t.Fatalf("no error, challenge %q", out)
				}
				return
			}
			if err != nil || string(out) != tc.js {
				t.Fatalf("got %q %v, want the challenge %s", out, err, tc.js)
			}
			_, done, err = x.step([]byte{1})
			if done || err == nil || err.Error() != tc.js {
				t.Fatalf("after \\x01: %v %v, want the error %s", done, err, tc.js)
			}
			if _, done, err = x.step(tc.msg); done || err == nil {
				t.Fatal("a further message is accepted")
			}
		})
	}
}

func TestOAuthBearerConfig(t *testing.T) {
	const l = "listeners=SASL_PLAINTEXT://127.0.0.1:0"
	for _, tc := range []struct {
		jaas, want string
	}{
		{`org.apache.kafka.common.security.plain.PlainLoginModule required user_a="b";`, "OAUTHBEARER takes"},
		{`org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredValidatorAllowableClockSkewMs="-1";`, "unsecuredValidatorAllowableClockSkewMs"},
	} {
		_, err := testConfig(t.TempDir(), l, "sasl.enabled.mechanisms=OAUTHBEARER", "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config="+tc.jaas)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.jaas, err, tc.want)
		}
	}
	cfg, err := testConfig(t.TempDir(), l, "sasl.enabled.mechanisms=oauthbearer", "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config="+oauthJAAS)
	if err != nil {
		t.Fatal(err)
	}
	if o := cfg.Listeners[0].SASL.OAuthBearer; o == nil || o.PrincipalClaim != "sub" || o.ScopeClaim != "scope" || o.ClockSkew != 0 || len(o.RequiredScope) != 0 {
		t.Fatalf("OAuthBearer %+v", cfg.Listeners[0].SASL.OAuthBearer)
	}
	if unused := UnusedKeys(cfg.values, cfg); len(unused) != 0 {
		t.Fatalf("unused keys: %v", unused)
	}
}
