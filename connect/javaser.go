package connect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf16"
)

// Apache Kafka Connect's standalone worker (FileOffsetBackingStore) keeps its
// offsets as a java.util.HashMap<byte[],byte[]> written with Java's
// ObjectOutputStream; keys and values are the same JSON texts this package
// writes. readJavaOffsets parses as much of the Java Object Serialization
// Stream Protocol as such a file uses: class descriptors (new and back
// references), objects whose classes have a writeObject method (block data
// and nested objects in their annotation), byte arrays, strings and null.
//
// A stream is the magic 0xACED, version 5, then contents. The HashMap is
//
//	TC_OBJECT TC_CLASSDESC "java.util.HashMap" serialVersionUID
//	  flags=SC_SERIALIZABLE|SC_WRITE_METHOD fields=[F loadFactor, I threshold]
//	  TC_ENDBLOCKDATA superclass=TC_NULL
//	loadFactor threshold                       (its fields' values)
//	TC_BLOCKDATA 8 buckets size                (written by writeObject)
//	key value key value ...                    (size pairs of objects)
//	TC_ENDBLOCKDATA
//
// and each byte[] is TC_ARRAY, a class descriptor for "[B" (the first time
// in full, then TC_REFERENCE to its handle), the length, the bytes.

const (
	tcNull           = 0x70
	tcReference      = 0x71
	tcClassDesc      = 0x72
	tcObject         = 0x73
	tcString         = 0x74
	tcArray          = 0x75
	tcClass          = 0x76
	tcBlockData      = 0x77
	tcEndBlockData   = 0x78
	tcReset          = 0x79
	tcBlockDataLong  = 0x7A
	tcException      = 0x7B
	tcLongString     = 0x7C
	tcProxyClassDesc = 0x7D
	tcEnum           = 0x7E

	scWriteMethod    = 0x01
	scSerializable   = 0x02
	scExternalizable = 0x04
	scBlockData      = 0x08

	baseWireHandle = 0x7E0000
	javaMaxDepth   = 64
)

type javaField struct {
	typecode byte
	name     string
}

type javaClassDesc struct {
	name   string
	flags  byte
	fields []javaField
	super  *javaClassDesc
}

type javaObject struct {
	class *javaClassDesc
	// annotations per class of the chain that has a writeObject method,
	// keyed by class name: block data bytes and objects, in stream order.
	annotations map[string]*javaAnnotation
}

type javaAnnotation struct {
	block   []byte
	objects []any
}

type javaReader struct {
	b       []byte
	pos     int
	handles []any
	depth   int
}

var errJavaTruncated = errors.New("truncated")

func (r *javaReader) need(n int) error {
	if n < 0 || len(r.b)-r.pos < n {
		return errJavaTruncated
	}
	return nil
}

func (r *javaReader) u8() (byte, error) {
	if err := r.need(1); err != nil {
		return 0, err
	}
	r.pos++
	return r.b[r.pos-1], nil
}

func (r *javaReader) peek() (byte, error) {
	if err := r.need(1); err != nil {
		return 0, err
	}
	return r.b[r.pos], nil
}

func (r *javaReader) u16() (uint16, error) {
	if err := r.need(2); err != nil {
		return 0, err
	}
	r.pos += 2
	return binary.BigEndian.Uint16(r.b[r.pos-2:]), nil
}

func (r *javaReader) i32() (int32, error) {
	if err := r.need(4); err != nil {
		return 0, err
	}
	r.pos += 4
	return int32(binary.BigEndian.Uint32(r.b[r.pos-4:])), nil
}

func (r *javaReader) bytes(n int) ([]byte, error) {
	if err := r.need(n); err != nil {
		return nil, err
	}
	r.pos += n
	return r.b[r.pos-n : r.pos], nil
}

// utf reads Java's modified UTF-8 with a length prefix of lenBytes bytes.
func (r *javaReader) utf(lenBytes int) (string, error) {
	var n int
	if lenBytes == 2 {
		v, err := r.u16()
		if err != nil {
			return "", err
		}
		n = int(v)
	} else {
		if err := r.need(8); err != nil {
			return "", err
		}
		v := binary.BigEndian.Uint64(r.b[r.pos:])
		r.pos += 8
		if v > math.MaxInt32 {
			return "", errJavaTruncated
		}
		n = int(v)
	}
	raw, err := r.bytes(n)
	if err != nil {
		return "", err
	}
	return decodeModifiedUTF8(raw)
}

// decodeModifiedUTF8 decodes Java's modified UTF-8: NUL as two bytes, and
// characters outside the BMP as surrogate pairs of three bytes each.
func decodeModifiedUTF8(b []byte) (string, error) {
	units := make([]uint16, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c < 0x80:
			units = append(units, uint16(c))
			i++
		case c&0xE0 == 0xC0:
			if i+1 >= len(b) || b[i+1]&0xC0 != 0x80 {
				return "", errors.New("malformed modified UTF-8")
			}
			units = append(units, uint16(c&0x1F)<<6|uint16(b[i+1]&0x3F))
			i += 2
		case c&0xF0 == 0xE0:
			if i+2 >= len(b) || b[i+1]&0xC0 != 0x80 || b[i+2]&0xC0 != 0x80 {
				return "", errors.New("malformed modified UTF-8")
			}
			units = append(units, uint16(c&0x0F)<<12|uint16(b[i+1]&0x3F)<<6|uint16(b[i+2]&0x3F))
			i += 3
		default:
			return "", errors.New("malformed modified UTF-8")
		}
	}
	return string(utf16.Decode(units)), nil
}

func (r *javaReader) newHandle(v any) int {
	r.handles = append(r.handles, v)
	return len(r.handles) - 1
}

func (r *javaReader) reference() (any, error) {
	h, err := r.i32()
	if err != nil {
		return nil, err
	}
	i := int(h) - baseWireHandle
	if i < 0 || i >= len(r.handles) {
		return nil, fmt.Errorf("reference to unknown handle 0x%x", h)
	}
	return r.handles[i], nil
}

// classDesc reads a classDesc: a new one, null or a back reference.
func (r *javaReader) classDesc() (*javaClassDesc, error) {
	tc, err := r.u8()
	if err != nil {
		return nil, err
	}
	switch tc {
	case tcNull:
		return nil, nil
	case tcReference:
		v, err := r.reference()
		if err != nil {
			return nil, err
		}
		cd, ok := v.(*javaClassDesc)
		if !ok {
			return nil, errors.New("reference to a non-class where a class descriptor belongs")
		}
		return cd, nil
	case tcClassDesc:
		return r.newClassDesc()
	case tcProxyClassDesc:
		return nil, errors.New("proxy classes are not supported")
	}
	return nil, fmt.Errorf("unexpected type code 0x%02x where a class descriptor belongs", tc)
}

func (r *javaReader) newClassDesc() (*javaClassDesc, error) {
	if r.depth++; r.depth > javaMaxDepth {
		return nil, errors.New("nested too deeply")
	}
	defer func() { r.depth-- }()
	name, err := r.utf(2)
	if err != nil {
		return nil, err
	}
	if _, err := r.bytes(8); err != nil { // serialVersionUID
		return nil, err
	}
	cd := &javaClassDesc{name: name}
	r.newHandle(cd)
	if cd.flags, err = r.u8(); err != nil {
		return nil, err
	}
	if cd.flags&scExternalizable != 0 {
		return nil, fmt.Errorf("externalizable class %s is not supported", name)
	}
	n, err := r.u16()
	if err != nil {
		return nil, err
	}
	for i := 0; i < int(n); i++ {
		tc, err := r.u8()
		if err != nil {
			return nil, err
		}
		fname, err := r.utf(2)
		if err != nil {
			return nil, err
		}
		switch tc {
		case 'B', 'C', 'D', 'F', 'I', 'J', 'S', 'Z':
		case '[', 'L':
			if _, err := r.content(); err != nil { // the field's class name, a String
				return nil, err
			}
		default:
			return nil, fmt.Errorf("field %s of %s has unknown type code %q", fname, name, tc)
		}
		cd.fields = append(cd.fields, javaField{typecode: tc, name: fname})
	}
	// classAnnotation: contents up to TC_ENDBLOCKDATA.
	if _, _, err := r.annotation(); err != nil {
		return nil, err
	}
	if cd.super, err = r.classDesc(); err != nil {
		return nil, err
	}
	return cd, nil
}

// annotation reads contents (block data and objects) up to TC_ENDBLOCKDATA.
func (r *javaReader) annotation() ([]byte, []any, error) {
	var block []byte
	var objects []any
	for {
		tc, err := r.peek()
		if err != nil {
			return nil, nil, err
		}
		switch tc {
		case tcEndBlockData:
			r.pos++
			return block, objects, nil
		case tcBlockData:
			r.pos++
			n, err := r.u8()
			if err != nil {
				return nil, nil, err
			}
			b, err := r.bytes(int(n))
			if err != nil {
				return nil, nil, err
			}
			block = append(block, b...)
		case tcBlockDataLong:
			r.pos++
			n, err := r.i32()
			if err != nil {
				return nil, nil, err
			}
			b, err := r.bytes(int(n))
			if err != nil {
				return nil, nil, err
			}
			block = append(block, b...)
		default:
			v, err := r.content()
			if err != nil {
				return nil, nil, err
			}
			objects = append(objects, v)
		}
	}
}

func primitiveSize(tc byte) int {
	switch tc {
	case 'B', 'Z':
		return 1
	case 'C', 'S':
		return 2
	case 'I', 'F':
		return 4
	case 'J', 'D':
		return 8
	}
	return 0
}

// content reads one object: null, a back reference, a string, an array, a
// class descriptor or an object.
func (r *javaReader) content() (any, error) {
	if r.depth++; r.depth > javaMaxDepth {
		return nil, errors.New("nested too deeply")
	}
	defer func() { r.depth-- }()
	tc, err := r.u8()
	if err != nil {
		return nil, err
	}
	switch tc {
	case tcNull:
		return nil, nil
	case tcReference:
		return r.reference()
	case tcString:
		s, err := r.utf(2)
		if err != nil {
			return nil, err
		}
		r.newHandle(s)
		return s, nil
	case tcLongString:
		s, err := r.utf(8)
		if err != nil {
			return nil, err
		}
		r.newHandle(s)
		return s, nil
	case tcClassDesc:
		return r.newClassDesc()
	case tcArray:
		return r.array()
	case tcObject:
		return r.object()
	case tcReset:
		r.handles = r.handles[:0]
		return r.content()
	case tcClass, tcEnum, tcException, tcProxyClassDesc:
		return nil, fmt.Errorf("type code 0x%02x is not supported", tc)
	}
	return nil, fmt.Errorf("unexpected type code 0x%02x at byte %d", tc, r.pos-1)
}

func (r *javaReader) array() (any, error) {
	cd, err := r.classDesc()
	if err != nil {
		return nil, err
	}
	if cd == nil || len(cd.name) < 2 || cd.name[0] != '[' {
		return nil, errors.New("array without an array class")
	}
	h := r.newHandle(nil)
	n, err := r.i32()
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, errors.New("negative array length")
	}
	elem := cd.name[1]
	if size := primitiveSize(elem); size > 0 {
		b, err := r.bytes(int(n) * size)
		if err != nil {
			return nil, err
		}
		var v any = b
		if elem == 'B' {
			v = append([]byte(nil), b...)
		}
		r.handles[h] = v
		return v, nil
	}
	if elem != '[' && elem != 'L' {
		return nil, fmt.Errorf("array class %s is not supported", cd.name)
	}
	if err := r.need(int(n)); err != nil { // each element takes a byte at least
		return nil, err
	}
	out := make([]any, 0, n)
	r.handles[h] = out
	for i := 0; i < int(n); i++ {
		v, err := r.content()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	r.handles[h] = out
	return out, nil
}

func (r *javaReader) object() (any, error) {
	cd, err := r.classDesc()
	if err != nil {
		return nil, err
	}
	if cd == nil {
		return nil, errors.New("object without a class")
	}
	obj := &javaObject{class: cd, annotations: map[string]*javaAnnotation{}}
	r.newHandle(obj)
	var chain []*javaClassDesc
	for c := cd; c != nil; c = c.super {
		if len(chain) > javaMaxDepth {
			return nil, errors.New("class hierarchy too deep")
		}
		chain = append(chain, c)
	}
	for i := len(chain) - 1; i >= 0; i-- { // superclass first
		c := chain[i]
		if c.flags&scSerializable == 0 {
			continue
		}
		for _, f := range c.fields {
			if size := primitiveSize(f.typecode); size > 0 {
				if _, err := r.bytes(size); err != nil {
					return nil, err
				}
				continue
			}
			if _, err := r.content(); err != nil {
				return nil, err
			}
		}
		if c.flags&scWriteMethod != 0 {
			block, objects, err := r.annotation()
			if err != nil {
				return nil, err
			}
			obj.annotations[c.name] = &javaAnnotation{block: block, objects: objects}
		}
	}
	return obj, nil
}

// readJavaOffsets parses a file written by Kafka Connect's
// FileOffsetBackingStore and returns its key/value pairs (a nil value is a
// deleted offset).
func readJavaOffsets(b []byte) ([][2][]byte, error) {
	r := &javaReader{b: b}
	magic, err := r.u16()
	if err != nil || magic != 0xACED {
		return nil, errors.New("not a Java serialization stream (no 0xACED magic)")
	}
	version, err := r.u16()
	if err != nil || version != 5 {
		return nil, fmt.Errorf("Java serialization stream version %d, want 5", version)
	}
	v, err := r.content()
	if err != nil {
		return nil, fmt.Errorf("at byte %d: %w", r.pos, err)
	}
	obj, ok := v.(*javaObject)
	if !ok || (obj.class.name != "java.util.HashMap" && obj.class.name != "java.util.LinkedHashMap") {
		return nil, errors.New("the stream does not hold a java.util.HashMap")
	}
	ann := obj.annotations["java.util.HashMap"]
	if ann == nil || len(ann.block) < 8 {
		return nil, errors.New("the HashMap has no size")
	}
	size := int(int32(binary.BigEndian.Uint32(ann.block[4:8])))
	if size < 0 || size*2 != len(ann.objects) {
		return nil, fmt.Errorf("the HashMap says %d entries but holds %d objects", size, len(ann.objects))
	}
	out := make([][2][]byte, 0, size)
	for i := 0; i < len(ann.objects); i += 2 {
		k, ok := ann.objects[i].([]byte)
		if !ok {
			return nil, fmt.Errorf("entry %d: the key is not a byte[]", i/2)
		}
		var val []byte
		if ann.objects[i+1] != nil {
			if val, ok = ann.objects[i+1].([]byte); !ok {
				return nil, fmt.Errorf("entry %d: the value is not a byte[]", i/2)
			}
		}
		out = append(out, [2][]byte{k, val})
	}
	return out, nil
}
