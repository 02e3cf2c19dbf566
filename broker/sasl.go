package broker

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-io/tributary/config/security"
)

// SASL authentication on SASL_PLAINTEXT and SASL_SSL listeners.
//
// A client on such a listener may send ApiVersions and SaslHandshake
// first; any other request closes the connection before it is read
// further. After a v1 SaslHandshake only SaslAuthenticate requests are
// accepted until the exchange ends; after a v0 SaslHandshake (clients
// older than Kafka 1.0) the tokens travel as bare size-prefixed frames,
// without a request header, and a failure closes the connection. A failed
// exchange is answered with SASL_AUTHENTICATION_FAILED and a message, then
// the connection is closed after connection.failed.authentication.delay.ms.
//
// Mechanisms: PLAIN (RFC 4616) and SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802,
// RFC 7677; no channel binding, no token authentication). Users come from
// Kafka's JAAS options, user_NAME="password", for SCRAM as for PLAIN:
// SCRAM credentials are derived from them at start-up with a random salt
// and 4096 iterations. SCRAM users are also managed as in Kafka, with
// AlterUserScramCredentials (scramstore.go, kept in the first log dir):
// such a credential is looked up at each exchange, so a new or changed
// one is used from the next authentication and a deleted one refused,
// and it wins over a JAAS user of the same name and mechanism.
// Connections already authenticated are not cut, as in Kafka.
// OAUTHBEARER with unsecured tokens, for tests only, is in oauthbearer.go.

// SASL mechanism names.
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

var supportedMechanisms = []string{MechanismPlain, MechanismScramSHA256, MechanismScramSHA512, MechanismOAuthBearer}

// SASL configures authentication on one listener.
type SASL struct {
	// Mechanisms are the enabled mechanisms, as the handshake lists them.
	Mechanisms []string
	// Users maps each enabled mechanism to its users and their passwords.
	Users map[string]map[string]string
	// OAuthBearer is the unsecured validator's options, when OAUTHBEARER
	// is enabled (it has no users).
	OAuthBearer *OAuthBearer
	// store holds the credentials set with AlterUserScramCredentials, the
	// broker's one store (ParseConfig loads it).
	store *scramStore
}

func (s *SASL) validate(listener string) error {
	var errs []error
	if len(s.Mechanisms) == 0 {
		errs = append(errs, fmt.Errorf("listener %s: no SASL mechanism enabled", listener))
	}
	for _, m := range s.Mechanisms {
		if !slices.Contains(supportedMechanisms, m) {
			errs = append(errs, fmt.Errorf("listener %s: SASL mechanism %s is not supported (%s are)", listener, m, strings.Join(supportedMechanisms, ", ")))
		} else if m == MechanismOAuthBearer {
			if s.OAuthBearer == nil {
				errs = append(errs, fmt.Errorf("listener %s: SASL mechanism %s has no OAuthBearerLoginModule configuration", listener, m))
			}
		} else if len(s.Users[m]) == 0 {
			errs = append(errs, fmt.Errorf("listener %s: SASL mechanism %s has no users", listener, m))
		}
	}
	return errors.Join(errs...)
}

// saslServer is one listener's authenticator: the enabled mechanisms with
// their credentials.
type saslServer struct {
	mechanisms []string
	plain      map[string]string
	scram      map[string]map[string]scramCredential // mechanism -> user, from JAAS
	store      *scramStore                           // stored credentials, which win
	oauth      *OAuthBearer                          // OAUTHBEARER's validator options
	// fakeSaltKey makes the salt shown for a user name that has no
	// credential: the same for a name each time (a fresh one would tell
	// that the name is unknown), different from name to name.
	fakeSaltKey []byte
}

type scramCredential struct {
	salt       []byte
	iterations int
	storedKey  []byte
	serverKey  []byte
}

const scramIterations = 4096

func newSASLServer(cfg *SASL) (*saslServer, error) {
	s := &saslServer{mechanisms: slices.Clone(cfg.Mechanisms), scram: map[string]map[string]scramCredential{}, store: cfg.store, oauth: cfg.OAuthBearer, fakeSaltKey: make([]byte, 32)}
	rand.Read(s.fakeSaltKey)
	for _, m := range cfg.Mechanisms {
		switch m {
		case MechanismPlain:
			s.plain = cfg.Users[m]
		case MechanismScramSHA256, MechanismScramSHA512:
			h := scramHash(m)
			creds := map[string]scramCredential{}
			for user, pass := range cfg.Users[m] {
				salt := make([]byte, 24)
				rand.Read(salt)
				salted, err := pbkdf2.Key(h, pass, salt, scramIterations, h().Size())
				if err != nil {
					return nil, err
				}
				clientKey := hmacSum(h, salted, []byte("Client Key"))
				creds[user] = scramCredential{
					salt:       salt,
					iterations: scramIterations,
					storedKey:  hashSum(h, clientKey),
					serverKey:  hmacSum(h, salted, []byte("Server Key")),
				}
			}
			s.scram[m] = creds
		}
	}
	return s, nil
}

func scramHash(mech string) func() hash.Hash {
	if mech == MechanismScramSHA512 {
		return sha512.New
	}
	return sha256.New
}

func hmacSum(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

func hashSum(h func() hash.Hash, b []byte) []byte {
	d := h()
	d.Write(b)
	return d.Sum(nil)
}

// saslExchange is one authentication in progress.
type saslExchange interface {
	// step takes the client's next token and returns the server's; done
	// is true once the client is authenticated. An error ends the
	// exchange; its text is sent to the client.
	step(token []byte) (resp []byte, done bool, err error)
	// user is the authenticated user, once done.
	user() string
}

// start begins an exchange with an enabled mechanism; nil if mech is not
// enabled.
func (s *saslServer) start(mech string) saslExchange {
	if !slices.Contains(s.mechanisms, mech) {
		return nil
	}
	switch mech {
	case MechanismPlain:
		return &plainExchange{users: s.plain}
	case MechanismScramSHA256, MechanismScramSHA512:
		return &scramExchange{mech: mech, h: scramHash(mech), creds: s.scram[mech], store: s.store, fakeSaltKey: s.fakeSaltKey}
	case MechanismOAuthBearer:
		if s.oauth == nil { // not configured: nothing authenticates
			return nil
		}
		return &oauthExchange{cfg: s.oauth, now: time.Now}
	}
	return nil
}

// errAuthFailed is what a client learns of bad credentials (never whether
// the user exists).
func errAuthFailed(mech string) error {
	return fmt.Errorf("Authentication failed during authentication due to invalid credentials with SASL mechanism %s", mech)
}

// plainExchange: one token, [authzid] NUL authcid NUL passwd.
type plainExchange struct {
	users map[string]string
	name  string
}

func (p *plainExchange) step(token []byte) ([]byte, bool, error) {
	parts := bytes.Split(token, []byte{0})
	if len(parts) != 3 {
		return nil, false, fmt.Errorf("Invalid SASL/PLAIN response: expected 3 tokens, got %d", len(parts))
	}
	authz, user, pass := string(parts[0]), string(parts[1]), parts[2]
	if user == "" || len(pass) == 0 {
		return nil, false, errors.New("Authentication failed: username or password not specified")
	}
	if authz != "" && authz != user {
		return nil, false, errors.New("Authentication failed: Client requested an authorization id that is different from username")
	}
	want, ok := p.users[user]
	// Compare whether or not the user exists, so that timing does not
	// tell.
	if subtle.ConstantTimeCompare([]byte(want), pass) != 1 || !ok {
		return nil, false, errAuthFailed(MechanismPlain)
	}
	p.name = user
	return []byte{}, true, nil
}

func (p *plainExchange) user() string { return p.name }

// scramExchange: client-first, server-first, client-final, server-final.
type scramExchange struct {
	mech        string
	h           func() hash.Hash
	creds       map[string]scramCredential // from JAAS
	store       *scramStore                // looked up first
	fakeSaltKey []byte

	state           int // 0: awaiting client-first, 1: awaiting client-final
	gs2Header       string
	clientFirstBare string
	serverFirst     string
	nonce           string
	name            string
	cred            scramCredential
	known           bool
}

func (s *scramExchange) user() string { return s.name }

func (s *scramExchange) step(token []byte) ([]byte, bool, error) {
	switch s.state {
	case 0:
		s.state = 1
		return s.clientFirst(string(token))
	case 1:
		s.state = 2
		return s.clientFinal(string(token))
	}
	return nil, false, errors.New("unexpected SCRAM message after authentication")
}

// scramAttrs splits "a=1,b=2" into attributes, in order.
func scramAttrs(s string) ([][2]string, error) {
	var out [][2]string
	for _, f := range strings.Split(s, ",") {
		if len(f) < 2 || f[1] != '=' {
			return nil, fmt.Errorf("invalid SCRAM attribute %q", f)
		}
		out = append(out, [2]string{f[:1], f[2:]})
	}
	return out, nil
}

// scramName decodes a SCRAM user name (=2C is ',', =3D is '=').
func scramName(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] != '=':
			b.WriteByte(s[i])
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
			i += 2
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
			i += 2
		default:
			return "", fmt.Errorf("invalid escape in SCRAM user name %q", s)
		}
	}
	return b.String(), nil
}

func (s *scramExchange) clientFirst(msg string) ([]byte, bool, error) {
	// gs2-header: cbind-flag "," [authzid] ","; then the bare message.
	flag, rest, ok := strings.Cut(msg, ",")
	if !ok {
		return nil, false, errors.New("invalid SCRAM client-first message")
	}
	switch {
	case flag == "n" || flag == "y":
	case strings.HasPrefix(flag, "p="):
		return nil, false, errors.New("SCRAM channel binding is not supported")
	default:
		return nil, false, errors.New("invalid SCRAM client-first message: bad gs2 header")
	}
	authz, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, false, errors.New("invalid SCRAM client-first message")
	}
	s.gs2Header = flag + "," + authz + ","
	s.clientFirstBare = bare
	attrs, err := scramAttrs(bare)
	if err != nil {
		return nil, false, err
	}
	if len(attrs) < 2 || attrs[0][0] != "n" || attrs[1][0] != "r" || attrs[1][1] == "" {
		return nil, false, errors.New("invalid SCRAM client-first message: want n=user,r=nonce")
	}
	for _, a := range attrs[2:] {
		if a[0] == "m" {
			return nil, false, errors.New("SCRAM mandatory extensions are not supported")
		}
	}
	name, err := scramName(attrs[0][1])
	if err != nil {
		return nil, false, err
	}
	if authz != "" {
		az, err := scramName(strings.TrimPrefix(authz, "a="))
		if err != nil || !strings.HasPrefix(authz, "a=") || az != name {
			return nil, false, errors.New("Authentication failed: Client requested an authorization id that is different from username")
		}
	}
	s.name = name
	s.cred, s.known = s.store.lookup(s.mech, name)
	if !s.known {
		s.cred, s.known = s.creds[name]
	}
	if !s.known {
		// Go on with a made-up credential so that the exchange looks the
		// same for unknown users; it fails at the proof. Its salt is the
		// same for the name every time, as a real user's is.
		salt := hmacSum(sha256.New, s.fakeSaltKey, []byte(s.mech+"\x00"+name))[:24]
		s.cred = scramCredential{salt: salt, iterations: scramIterations, storedKey: make([]byte, s.h().Size()), serverKey: make([]byte, s.h().Size())}
	}
	var nonce [24]byte
	rand.Read(nonce[:])
	s.nonce = attrs[1][1] + base64.RawStdEncoding.EncodeToString(nonce[:])
	s.serverFirst = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(s.cred.salt) + ",i=" + strconv.Itoa(s.cred.iterations)
	return []byte(s.serverFirst), false, nil
}

func (s *scramExchange) clientFinal(msg string) ([]byte, bool, error) {
	withoutProof, proofAttr, ok := strings.Cut(msg, ",p=")
	if !ok {
		return nil, false, errors.New("invalid SCRAM client-final message: no proof")
	}
	attrs, err := scramAttrs(withoutProof)
	if err != nil {
		return nil, false, err
	}
	if len(attrs) < 2 || attrs[0][0] != "c" || attrs[1][0] != "r" {
		return nil, false, errors.New("invalid SCRAM client-final message: want c=...,r=...")
	}
	if cb, err := base64.StdEncoding.DecodeString(attrs[0][1]); err != nil || string(cb) != s.gs2Header {
		return nil, false, errors.New("invalid SCRAM client-final message: channel binding does not match")
	}
	if attrs[1][1] != s.nonce {
		return nil, false, errors.New("invalid SCRAM client-final message: nonce does not match")
	}
	proof, err := base64.StdEncoding.DecodeString(proofAttr)
	if err != nil || len(proof) != s.h().Size() {
		return nil, false, errAuthFailed(s.mech)
	}
	authMessage := []byte(s.clientFirstBare + "," + s.serverFirst + "," + withoutProof)
	clientSig := hmacSum(s.h, s.cred.storedKey, authMessage)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ clientSig[i]
	}
	if subtle.ConstantTimeCompare(hashSum(s.h, clientKey), s.cred.storedKey) != 1 || !s.known {
		return nil, false, errAuthFailed(s.mech)
	}
	serverSig := hmacSum(s.h, s.cred.serverKey, authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSig)), true, nil
}

// jaasUsers reads the user_NAME="password" options of a broker's JAAS
// entry for mech, checking that the login module fits the mechanism.
func jaasUsers(mech, jaas string) (map[string]string, error) {
	e, err := security.ParseJAAS(jaas)
	if err != nil {
		return nil, err
	}
	module := e.Module[strings.LastIndexByte(e.Module, '.')+1:]
	switch {
	case mech == MechanismPlain && module != "PlainLoginModule":
		return nil, fmt.Errorf("uses %s; PLAIN takes org.apache.kafka.common.security.plain.PlainLoginModule", e.Module)
	case mech != MechanismPlain && module != "ScramLoginModule":
		return nil, fmt.Errorf("uses %s; %s takes org.apache.kafka.common.security.scram.ScramLoginModule", e.Module, mech)
	}
	users := map[string]string{}
	for k, v := range e.Options {
		if name, ok := strings.CutPrefix(k, "user_"); ok && name != "" {
			users[name] = v
		}
	}
	if len(users) == 0 {
		return nil, errors.New(`names no user (user_NAME="password")`)
	}
	return users, nil
}
