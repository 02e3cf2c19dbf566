package connect

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOffsetStoreFiles(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, content, err string
	}{
		{"empty", "", ""},
		{"blank", " \n", ""},
		{"json", `[{"key":["c",{"filename":"f"}],"value":{"position":5}}]`, ""},
		{"corrupt", `[{"key":["c",{"filename":"f"}],"value":{"position":5}`, "not valid JSON"},
		{"trailing", `[] x`, "data after"},
		{"badkey", `[{"key":"c","value":{}}]`, `is not ["<connector>",{partition}]`},
		{"binary", "\x00\x01\x02", "not valid JSON"},
		{"java garbage", "\xac\xed\x00\x05\x73", "not a readable Kafka Connect offsets file"},
	}
	for _, tc := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
		os.WriteFile(p, []byte(tc.content), 0o644)
		_, err := OpenOffsetStore(p, nil)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), p)):
			t.Errorf("%s: got %v, want an error naming the file and saying %q", tc.name, err, tc.err)
		}
	}
	if _, err := OpenOffsetStore(filepath.Join(dir, "nofolder", "x.offsets"), nil); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing folder: %v", err)
	}
	if s, err := OpenOffsetStore(filepath.Join(dir, "new.offsets"), nil); err != nil || len(s.entries) != 0 {
		t.Errorf("missing file: %v", err)
	}
}

func TestSourceOffsetShape(t *testing.T) {
	p := filepath.Join(t.TempDir(), "connect.offsets")
	os.WriteFile(p, []byte(`[
{"key":["c",{"filename":"good"}],"value":{"position":42,"identity":"1:2"}},
{"key":["c",{"filename":"float"}],"value":{"position":42.0}},
{"key":["c",{"filename":"text"}],"value":{"position":"abc"}},
{"key":["c",{"filename":"neg"}],"value":{"position":-1}},
{"key":["c",{"filename":"none"}],"value":{"offset":1}},
{"key":["c",{"filename":"null"}],"value":null}
]`), 0o644)
	s, err := OpenOffsetStore(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	get := func(f string) (SourceOffset, bool, error) {
		return s.SourceOffset("c", map[string]any{"filename": f})
	}
	if off, ok, err := get("good"); err != nil || !ok || off != (SourceOffset{Position: 42, Identity: "1:2", Record: RecordRef{Offset: -1}}) {
		t.Errorf("good: %+v %v %v", off, ok, err)
	}
	if off, ok, err := get("float"); err != nil || !ok || off.Position != 42 {
		t.Errorf("float: %+v %v %v", off, ok, err)
	}
	for f, want := range map[string]string{"text": `position "abc" is not a number`, "neg": "negative", "none": `has no "position"`} {
		_, _, err := get(f)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), `["c",{"filename":"`+f+`"}]`) {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, ok, err := get("null"); ok || err != nil {
		t.Errorf("null: %v %v", ok, err)
	}
	if _, ok, _ := get("absent"); ok {
		t.Error("absent found")
	}
}

func TestOffsetStoreSaveAndOrder(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "connect.offsets")
	s, err := OpenOffsetStore(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := offsetKey("c", []byte(`{"filename":"f"}`))
	s.set(key, SourceOffset{Position: 10}, 2)
	s.set(key, SourceOffset{Position: 5}, 1) // older batch acknowledged later
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx, 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), `"value":{"position":10}`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("offsets file: %s", b)
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.set(key, SourceOffset{Position: 20}, 3)
	cancel()
	<-done // Run saves once more when it stops
	s2, err := OpenOffsetStore(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if off, _, _ := s2.SourceOffset("c", map[string]any{"filename": "f"}); off.Position != 20 {
		t.Fatalf("reloaded %+v", off)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

// TestOffsetStoreSavesOnNewIdentity: an offset that moves to another file
// is saved at once, not at the next tick.
func TestOffsetStoreSavesOnNewIdentity(t *testing.T) {
	p := filepath.Join(t.TempDir(), "connect.offsets")
	os.WriteFile(p, []byte(`[{"key":["c",{"filename":"f"}],"value":{"position":5,"identity":"1:2:ab"}}]`), 0o644)
	s, err := OpenOffsetStore(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, time.Hour) }()
	defer func() { cancel(); <-done }()
	key := offsetKey("c", []byte(`{"filename":"f"}`))
	s.set(key, SourceOffset{Position: 9, Identity: "1:2:ab"}, 1)
	s.set(key, SourceOffset{Position: 3, Identity: "1:3:cd"}, 2)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), `{"position":3,"identity":"1:3:cd"}`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not saved on a new identity:\n%s", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The same identity waits for the tick.
	s.set(key, SourceOffset{Position: 7, Identity: "1:3:cd"}, 3)
	select {
	case <-s.kick:
		t.Fatal("a save was asked for without a new identity")
	default:
	}
}

// TestOffsetStoreProofAndRecord: the identity, proof and Kafka record of a
// stored offset are saved and read back as set, whatever their characters.
func TestOffsetStoreProofAndRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connect.offsets")
	s, err := OpenOffsetStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	part := map[string]any{"filename": "/var/log/a\"b.log"}
	kj, _ := json.Marshal(part)
	want := SourceOffset{Position: 1234, Identity: "2049:131:9f\u2028", Proof: "400:abc/400:def\x01", Record: RecordRef{Topic: "log-test", Partition: 3, Offset: 56}}
	s.set(offsetKey("src", kj), want, 1)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenOffsetStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := s2.SourceOffset("src", part)
	if err != nil || !ok || got != want {
		t.Fatalf("read back %+v %v %v, want %+v", got, ok, err, want)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"position":1234,`) {
		t.Fatalf("Kafka's position key missing:\n%s", b)
	}
}
