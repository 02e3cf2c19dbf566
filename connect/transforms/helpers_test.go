package transforms_test

import (
	"testing"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/data"
	"github.com/tributary-io/tributary/connect/transforms"
)

// Helpers of the field-level transformations' tests.

// tryChain parses the chain of one transformation "x" of class cls with
// the keys given as key=value lines (without the alias prefix).
func tryChain(cls string, keys ...string) (*transforms.Chain, error) {
	text := "transforms=x\ntransforms.x.type=" + cls + "\n"
	for _, k := range keys {
		text += "transforms.x." + k + "\n"
	}
	p, err := config.ParseString("c.properties", text)
	if err != nil {
		return nil, err
	}
	c, _, err := transforms.Parse(p)
	return c, err
}

// typedChain is tryChain's chain, which must parse and be typed.
func typedChain(t testing.TB, cls string, keys ...string) *transforms.Chain {
	t.Helper()
	c, err := tryChain(cls, keys...)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !c.Typed() {
		t.Fatalf("%s: Chain.Typed() is false", cls)
	}
	return c
}

// mkStruct builds a Struct of schema s from field names and values in
// turn.
func mkStruct(t testing.TB, s *data.Schema, kv ...any) *data.Struct {
	t.Helper()
	st := data.NewStruct(s)
	for i := 0; i+1 < len(kv); i += 2 {
		if err := st.Put(kv[i].(string), kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// mkMap builds a java.util.HashMap from keys and values in turn;
// mkLinkedMap a LinkedHashMap.
func mkMap(kv ...any) *data.Map {
	m := data.NewMap(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		m.Put(kv[i], kv[i+1])
	}
	return m
}

func mkLinkedMap(kv ...any) *data.Map {
	m := mkMap(kv...)
	m.Linked = true
	return m
}
