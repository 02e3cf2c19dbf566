package broker

// The SCRAM credentials managed with AlterUserScramCredentials (KIP-554),
// kept in scram-credentials.json in the first log dir (mode 0600) and
// written atomically before a change is answered. Each credential is what SCRAM
// needs and no more: the salt, the iteration count, StoredKey and
// ServerKey (RFC 5802), derived from the SaltedPassword the client sent;
// the password itself never reaches the broker. They are read at start
// (ParseConfig) and used by every SASL listener from the next exchange
// on; the JAAS user_NAME options stay a static layer beneath them (a
// stored credential for the same user and mechanism wins).

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/tributary-io/tributary/config/atomicfile"
)

const scramCredentialsFile = "scram-credentials.json"

// Kafka's bounds on SCRAM iterations (ScramMechanism's minIterations and
// the 16384 KIP-554 sets as the maximum).
const (
	scramMinIterations = 4096
	scramMaxIterations = 16384
)

// scramMechanismName maps KIP-554's mechanism codes to names; "" for an
// unknown code.
func scramMechanismName(code int8) string {
	switch code {
	case 1:
		return MechanismScramSHA256
	case 2:
		return MechanismScramSHA512
	}
	return ""
}

func scramMechanismCode(name string) int8 {
	switch name {
	case MechanismScramSHA256:
		return 1
	case MechanismScramSHA512:
		return 2
	}
	return 0
}

// scramCreds are credentials by mechanism, then user.
type scramCreds map[string]map[string]scramCredential

// scramStore holds the stored credentials. Readers take the published
// snapshot without locking; changes are serialised by mu, saved, then
// published.
type scramStore struct {
	dir  string
	mu   sync.Mutex
	snap atomic.Pointer[scramCreds]
}

// scramFileEntry is one credential in scram-credentials.json (byte slices
// are base64 in JSON).
type scramFileEntry struct {
	User       string `json:"user"`
	Mechanism  string `json:"mechanism"`
	Iterations int    `json:"iterations"`
	Salt       []byte `json:"salt"`
	StoredKey  []byte `json:"stored_key"`
	ServerKey  []byte `json:"server_key"`
}

type scramFileData struct {
	Version     int              `json:"version"`
	Credentials []scramFileEntry `json:"credentials"`
}

// loadScramStore reads the credentials kept in dir; none when the file is
// not there.
func loadScramStore(dir string) (*scramStore, error) {
	s := &scramStore{dir: dir}
	creds := scramCreds{}
	data, err := os.ReadFile(filepath.Join(dir, scramCredentialsFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		var f scramFileData
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, scramCredentialsFile), err)
		}
		for _, e := range f.Credentials {
			if scramMechanismCode(e.Mechanism) == 0 || e.User == "" || len(e.Salt) == 0 ||
				len(e.StoredKey) != scramHash(e.Mechanism)().Size() || len(e.ServerKey) != scramHash(e.Mechanism)().Size() ||
				e.Iterations < scramMinIterations || e.Iterations > scramMaxIterations {
				return nil, fmt.Errorf("%s: invalid credential for user %q, mechanism %q", filepath.Join(dir, scramCredentialsFile), e.User, e.Mechanism)
			}
			if creds[e.Mechanism] == nil {
				creds[e.Mechanism] = map[string]scramCredential{}
			}
			creds[e.Mechanism][e.User] = scramCredential{salt: e.Salt, iterations: e.Iterations, storedKey: e.StoredKey, serverKey: e.ServerKey}
		}
	}
	s.snap.Store(&creds)
	return s, nil
}

// lookup returns the stored credential of user for mech. A nil store has
// none.
func (s *scramStore) lookup(mech, user string) (scramCredential, bool) {
	if s == nil {
		return scramCredential{}, false
	}
	c, ok := (*s.snap.Load())[mech][user]
	return c, ok
}

// users returns, for each user with a stored credential, its mechanisms
// and iteration counts.
func (s *scramStore) users() map[string][]scramInfo {
	out := map[string][]scramInfo{}
	if s == nil {
		return out
	}
	for mech, users := range *s.snap.Load() {
		for u, c := range users {
			out[u] = append(out[u], scramInfo{mech: mech, iterations: c.iterations})
		}
	}
	for _, infos := range out {
		sort.Slice(infos, func(i, j int) bool { return infos[i].mech < infos[j].mech })
	}
	return out
}

type scramInfo struct {
	mech       string
	iterations int
}

// scramChange is one upsertion (cred set) or deletion of user's
// credential for mech.
type scramChange struct {
	user, mech string
	cred       *scramCredential
}

// alter applies the changes of each user whose deletions all name an
// existing credential, saves the result and publishes it. missing lists
// the users left unchanged because a deletion named no credential.
func (s *scramStore) alter(changes []scramChange) (missing map[string]bool, err error) {
	if s == nil {
		return nil, errors.New("no credential store (the Config was not made by ParseConfig)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := *s.snap.Load()
	missing = map[string]bool{}
	for _, c := range changes {
		if c.cred == nil {
			if _, ok := cur[c.mech][c.user]; !ok {
				missing[c.user] = true
			}
		}
	}
	next := scramCreds{}
	for mech, users := range cur {
		next[mech] = maps.Clone(users)
	}
	changed := false
	for _, c := range changes {
		if missing[c.user] {
			continue
		}
		changed = true
		if c.cred == nil {
			delete(next[c.mech], c.user)
			continue
		}
		if next[c.mech] == nil {
			next[c.mech] = map[string]scramCredential{}
		}
		next[c.mech][c.user] = *c.cred
	}
	if !changed {
		return missing, nil
	}
	if err := s.save(next); err != nil {
		return missing, err
	}
	s.snap.Store(&next)
	return missing, nil
}

func (s *scramStore) save(creds scramCreds) error {
	f := scramFileData{Version: 1, Credentials: []scramFileEntry{}}
	for mech, users := range creds {
		for u, c := range users {
			f.Credentials = append(f.Credentials, scramFileEntry{User: u, Mechanism: mech, Iterations: c.iterations, Salt: c.salt, StoredKey: c.storedKey, ServerKey: c.serverKey})
		}
	}
	slices.SortFunc(f.Credentials, func(a, b scramFileEntry) int {
		if a.User != b.User {
			if a.User < b.User {
				return -1
			}
			return 1
		}
		if a.Mechanism < b.Mechanism {
			return -1
		}
		if a.Mechanism > b.Mechanism {
			return 1
		}
		return 0
	})
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	// Readable by the broker's user only: ServerKey lets its holder pose
	// as the broker to these users.
	return atomicfile.Write(filepath.Join(s.dir, scramCredentialsFile), append(data, '\n'), 0o600)
}

// scramCredentialFromSalted derives what SCRAM keeps from a salted
// password (RFC 5802: StoredKey = H(HMAC(SaltedPassword, "Client Key")),
// ServerKey = HMAC(SaltedPassword, "Server Key")).
func scramCredentialFromSalted(mech string, salt, salted []byte, iterations int) scramCredential {
	h := scramHash(mech)
	return scramCredential{
		salt:       slices.Clone(salt),
		iterations: iterations,
		storedKey:  hashSum(h, hmacSum(h, salted, []byte("Client Key"))),
		serverKey:  hmacSum(h, salted, []byte("Server Key")),
	}
}
