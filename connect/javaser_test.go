package connect

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// javaOffsetsFile builds, byte by byte from the Java Object Serialization
// Stream Protocol, what Kafka Connect's FileOffsetBackingStore writes: a
// java.util.HashMap<byte[],byte[]> holding the given pairs (a nil value is
// written as TC_NULL).
func javaOffsetsFile(pairs [][2][]byte) []byte {
	var b bytes.Buffer
	u16 := func(v int) { binary.Write(&b, binary.BigEndian, uint16(v)) }
	i32 := func(v int) { binary.Write(&b, binary.BigEndian, int32(v)) }
	utf := func(s string) { u16(len(s)); b.WriteString(s) }

	b.Write([]byte{0xAC, 0xED}) // STREAM_MAGIC
	u16(5)                      // STREAM_VERSION
	b.WriteByte(tcObject)
	b.WriteByte(tcClassDesc) // handle 0x7E0000
	utf("java.util.HashMap")
	b.Write([]byte{0x05, 0x07, 0xDA, 0xC1, 0xC3, 0x16, 0x60, 0xD1}) // serialVersionUID
	b.WriteByte(scWriteMethod | scSerializable)
	u16(2)
	b.WriteByte('F')
	utf("loadFactor")
	b.WriteByte('I')
	utf("threshold")
	b.WriteByte(tcEndBlockData) // no class annotation
	b.WriteByte(tcNull)         // no serializable superclass
	// The object itself is handle 0x7E0001. Its fields, then writeObject's
	// block data (buckets, size) and the entries.
	b.Write([]byte{0x3F, 0x40, 0x00, 0x00}) // loadFactor 0.75f
	i32(12)                                 // threshold
	b.WriteByte(tcBlockData)
	b.WriteByte(8)
	i32(16)
	i32(len(pairs))
	handle := 2
	byteArrayDesc := -1
	array := func(data []byte) {
		if data == nil {
			b.WriteByte(tcNull)
			return
		}
		b.WriteByte(tcArray)
		if byteArrayDesc < 0 {
			b.WriteByte(tcClassDesc)
			utf("[B")
			b.Write([]byte{0xAC, 0xF3, 0x17, 0xF8, 0x06, 0x08, 0x54, 0xE0})
			b.WriteByte(scSerializable)
			u16(0)
			b.WriteByte(tcEndBlockData)
			b.WriteByte(tcNull)
			byteArrayDesc = handle
			handle++
		} else {
			b.WriteByte(tcReference)
			i32(baseWireHandle + byteArrayDesc)
		}
		handle++ // the array
		i32(len(data))
		b.Write(data)
	}
	for _, p := range pairs {
		array(p[0])
		array(p[1])
	}
	b.WriteByte(tcEndBlockData)
	return b.Bytes()
}

func TestReadJavaOffsets(t *testing.T) {
	pairs := [][2][]byte{
		{[]byte(`["local-file-source",{"filename":"test.txt"}]`), []byte(`{"position":1234}`)},
		{[]byte(`["other",{"filename":"/var/log/b.log"}]`), []byte(`{"position":7}`)},
		{[]byte(`["gone",{"filename":"c"}]`), nil},
	}
	got, err := readJavaOffsets(javaOffsetsFile(pairs))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d pairs", len(got))
	}
	for i := range pairs {
		if !bytes.Equal(got[i][0], pairs[i][0]) || !bytes.Equal(got[i][1], pairs[i][1]) {
			t.Errorf("pair %d: got %q=%q", i, got[i][0], got[i][1])
		}
	}

	empty, err := readJavaOffsets(javaOffsetsFile(nil))
	if err != nil || len(empty) != 0 {
		t.Fatalf("empty map: %v %v", empty, err)
	}
}

func TestReadJavaOffsetsErrors(t *testing.T) {
	good := javaOffsetsFile([][2][]byte{{[]byte(`["a",{}]`), []byte(`{"position":1}`)}})
	for i := 0; i < len(good); i++ {
		if _, err := readJavaOffsets(good[:i]); err == nil {
			t.Fatalf("a stream cut at byte %d was accepted", i)
		}
	}
	if _, err := readJavaOffsets([]byte("not java")); err == nil {
		t.Fatal("plain text was accepted")
	}
}

func TestOffsetStoreReadsKafkaFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "connect.offsets")
	os.WriteFile(p, javaOffsetsFile([][2][]byte{
		{[]byte(`["local-file-source",{"filename":"test.txt"}]`), []byte(`{"position":1234}`)},
	}), 0o644)
	s, err := OpenOffsetStore(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	off, ok, err := s.SourceOffset("local-file-source", map[string]any{"filename": "test.txt"})
	if err != nil || !ok || off.Position != 1234 || off.Identity != "" {
		t.Fatalf("got %+v %v %v", off, ok, err)
	}
	// Saved again as JSON, the position kept.
	s.set(offsetKey("local-file-source", []byte(`{"filename":"test.txt"}`)), SourceOffset{Position: 1300, Identity: "1:2"}, 1)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), `{"key":["local-file-source",{"filename":"test.txt"}],"value":{"position":1300,"identity":"1:2"}}`) {
		t.Fatalf("saved:\n%s", b)
	}
}

func FuzzReadJavaOffsets(f *testing.F) {
	f.Add(javaOffsetsFile([][2][]byte{{[]byte(`["a",{"filename":"x"}]`), []byte(`{"position":1}`)}}))
	f.Add(javaOffsetsFile(nil))
	f.Add([]byte{0xAC, 0xED, 0, 5, tcReference, 0, 0x7E, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		pairs, err := readJavaOffsets(b)
		if err == nil {
			for _, p := range pairs {
				if p[0] == nil {
					t.Fatal("a nil key was returned")
				}
			}
		}
	})
}
