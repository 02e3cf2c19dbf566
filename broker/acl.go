package broker

// Access control lists with the semantics of Kafka's StandardAuthorizer
// (KIP-11, KIP-290 prefixed patterns): who may do what to which resource.
//
// An ACL binds a resource pattern (a type, a name and a pattern type:
// LITERAL, where the name "*" stands for every resource of the type, or
// PREFIXED) to an entry (a principal such as "User:alice" or "User:*", a
// host, an operation and ALLOW or DENY). A request by principal p from
// host h for operation o on resource r is decided so:
//
//   - p is in super.users: allowed;
//   - some ACL that matches r, p and h denies o (or ALL): denied;
//   - some ACL that matches r, p and h allows o, ALL, or an operation that
//     implies o: allowed (READ, WRITE, DELETE and ALTER imply DESCRIBE;
//     ALTER_CONFIGS implies DESCRIBE_CONFIGS);
//   - no ACL at all matches r (for any principal or operation):
//     allow.everyone.if.no.acl.found decides (false by default);
//   - otherwise: denied.
//
// The ACLs are kept in acls.json in the first log dir, written atomically
// on every change.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/tributary-io/tributary/broker/storage"
)

// Kafka's codes of resource types, pattern types, operations and
// permissions (the values on the wire).
const (
	aclAny = 1 // in filters: any resource type, pattern type, operation or permission

	resTopic           int8 = 2
	resGroup           int8 = 3
	resCluster         int8 = 4
	resTransactionalID int8 = 5
	resDelegationToken int8 = 6
	resUser            int8 = 7

	patMatch    int8 = 2 // in filters: the ACLs that would apply to the name
	patLiteral  int8 = 3
	patPrefixed int8 = 4

	opAll             int8 = 2
	opRead            int8 = 3
	opWrite           int8 = 4
	opCreate          int8 = 5
	opDelete          int8 = 6
	opAlter           int8 = 7
	opDescribe        int8 = 8
	opClusterAction   int8 = 9
	opDescribeConfigs int8 = 10
	opAlterConfigs    int8 = 11
	opIdempotentWrite int8 = 12
	opCreateTokens    int8 = 13
	opDescribeTokens  int8 = 14

	permDeny  int8 = 2
	permAllow int8 = 3
)

// clusterResourceName is the one CLUSTER resource's name.
const clusterResourceName = "kafka-cluster"

// aclFile is the file the ACLs are kept in.
const aclFile = "acls.json"

// acl is one access control entry bound to a resource pattern.
type acl struct {
	ResourceType int8   `json:"resource_type"`
	ResourceName string `json:"resource_name"`
	PatternType  int8   `json:"pattern_type"`
	Principal    string `json:"principal"`
	Host         string `json:"host"`
	Operation    int8   `json:"operation"`
	Permission   int8   `json:"permission"`
}

// aclFilter selects ACLs, as DescribeAcls and DeleteAcls give it: nil
// strings and aclAny codes match everything.
type aclFilter struct {
	ResourceType int8
	ResourceName *string
	PatternType  int8
	Principal    *string
	Host         *string
	Operation    int8
	Permission   int8
}

// authorizer holds the ACLs and decides requests. A nil authorizer
// (authorizer.class.name unset) allows everything.
type authorizer struct {
	superUsers   map[string]bool
	allowIfNoACL bool
	dir          string // where acls.json is kept

	mu   sync.RWMutex
	acls []acl
}

// newAuthorizer loads the ACLs kept in dir.
func newAuthorizer(dir string, superUsers []string, allowIfNoACL bool) (*authorizer, error) {
	a := &authorizer{superUsers: map[string]bool{}, allowIfNoACL: allowIfNoACL, dir: dir}
	for _, u := range superUsers {
		if u = strings.TrimSpace(u); u != "" {
			a.superUsers[u] = true
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, aclFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return a, nil
	case err != nil:
		return nil, err
	}
	if err := json.Unmarshal(b, &a.acls); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, aclFile), err)
	}
	return a, nil
}

// patternMatches says whether an ACL's resource pattern covers the
// resource (typ, name).
func (x *acl) patternMatches(typ int8, name string) bool {
	if x.ResourceType != typ {
		return false
	}
	switch x.PatternType {
	case patLiteral:
		return x.ResourceName == name || x.ResourceName == "*"
	case patPrefixed:
		return strings.HasPrefix(name, x.ResourceName)
	}
	return false
}

// grants says whether an ALLOW entry for operation op covers want.
func grants(op, want int8) bool {
	switch {
	case op == opAll || op == want:
		return true
	case want == opDescribe:
		return op == opRead || op == opWrite || op == opDelete || op == opAlter
	case want == opDescribeConfigs:
		return op == opAlterConfigs
	}
	return false
}

// authorize decides whether principal, from host, may do op to the
// resource (typ, name).
func (a *authorizer) authorize(principal, host string, op, typ int8, name string) bool {
	if a == nil || a.superUsers[principal] {
		return true
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	matched, allowed := false, false
	for i := range a.acls {
		x := &a.acls[i]
		if !x.patternMatches(typ, name) {
			continue
		}
		matched = true
		if x.Principal != principal && x.Principal != "User:*" || x.Host != "*" && x.Host != host {
			continue
		}
		switch x.Permission {
		case permDeny:
			if x.Operation == op || x.Operation == opAll {
				return false
			}
		case permAllow:
			allowed = allowed || grants(x.Operation, op)
		}
	}
	if !matched {
		return a.allowIfNoACL
	}
	return allowed
}

// matches says whether the filter selects x.
func (f *aclFilter) matches(x *acl) bool {
	if f.ResourceType != aclAny && f.ResourceType != x.ResourceType {
		return false
	}
	switch f.PatternType {
	case aclAny:
		if f.ResourceName != nil && *f.ResourceName != x.ResourceName {
			return false
		}
	case patMatch:
		if f.ResourceName != nil && !x.patternMatches(x.ResourceType, *f.ResourceName) {
			return false
		}
	default:
		if f.PatternType != x.PatternType || f.ResourceName != nil && *f.ResourceName != x.ResourceName {
			return false
		}
	}
	return (f.Principal == nil || *f.Principal == x.Principal) &&
		(f.Host == nil || *f.Host == x.Host) &&
		(f.Operation == aclAny || f.Operation == x.Operation) &&
		(f.Permission == aclAny || f.Permission == x.Permission)
}

// describe returns the ACLs the filter selects.
func (a *authorizer) describe(f aclFilter) []acl {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []acl
	for i := range a.acls {
		if f.matches(&a.acls[i]) {
			out = append(out, a.acls[i])
		}
	}
	return out
}

// create adds ACLs (one already there is not added twice) and saves them.
func (a *authorizer) create(xs []acl) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := slices.Clone(a.acls)
	for _, x := range xs {
		if !slices.Contains(next, x) {
			next = append(next, x)
		}
	}
	if err := a.save(next); err != nil {
		return err
	}
	a.acls = next
	return nil
}

// remove deletes the ACLs each filter selects, saves the rest and returns
// what each filter deleted.
func (a *authorizer) remove(fs []aclFilter) ([][]acl, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([][]acl, len(fs))
	var keep []acl
	for _, x := range a.acls {
		gone := false
		for i := range fs {
			if fs[i].matches(&x) {
				out[i] = append(out[i], x)
				gone = true
			}
		}
		if !gone {
			keep = append(keep, x)
		}
	}
	if err := a.save(keep); err != nil {
		return nil, err
	}
	a.acls = keep
	return out, nil
}

func (a *authorizer) save(xs []acl) error {
	if xs == nil {
		xs = []acl{}
	}
	b, err := json.MarshalIndent(xs, "", " ")
	if err != nil {
		return err
	}
	return storage.WriteFileAtomic(a.dir, aclFile, append(b, '\n'))
}

// checkACL says what is wrong with an ACL a client asks to create, with
// Kafka's messages; "" when nothing is.
func checkACL(x *acl) string {
	switch {
	case x.ResourceType < resTopic || x.ResourceType > resUser:
		return "Invalid resource type"
	case x.PatternType != patLiteral && x.PatternType != patPrefixed:
		return "Invalid pattern type"
	case x.Operation < opAll || x.Operation > opDescribeTokens:
		return "Invalid operation"
	case x.Permission != permAllow && x.Permission != permDeny:
		return "Invalid permission type"
	case x.ResourceName == "":
		return "Resource name must not be empty"
	case x.ResourceType == resCluster && x.ResourceName != clusterResourceName:
		return "The only valid name for the CLUSTER resource is " + clusterResourceName
	case x.PatternType == patPrefixed && x.ResourceName == "*":
		return "Cannot create a prefixed ACL with the wildcard name"
	}
	if typ, name, ok := strings.Cut(x.Principal, ":"); !ok || typ == "" || name == "" {
		return "Could not parse principal from `" + x.Principal + "` (no colon is present separating the principal type from the principal name)"
	}
	if x.Host == "" {
		return "Invalid host"
	}
	return ""
}
