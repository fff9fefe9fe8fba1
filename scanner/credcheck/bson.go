package credcheck

import (
	"encoding/binary"
	"errors"
	"math"
)

// A minimal BSON codec: what the MongoDB authentication commands send and get back.

// bsonField is one key of a document: int32, string, bool, []byte (generic binary)
// or bsonDoc values.
type bsonField struct {
	key   string
	value any
}

type bsonDoc []bsonField

func (d bsonDoc) encode() []byte {
	var body []byte
	elem := func(t byte, k string) {
		body = append(body, t)
		body = append(append(body, k...), 0)
	}
	for _, f := range d {
		switch v := f.value.(type) {
		case int32:
			elem(0x10, f.key)
			body = binary.LittleEndian.AppendUint32(body, uint32(v))
		case string:
			elem(0x02, f.key)
			body = binary.LittleEndian.AppendUint32(body, uint32(len(v)+1))
			body = append(append(body, v...), 0)
		case bool:
			elem(0x08, f.key)
			if v {
				body = append(body, 1)
			} else {
				body = append(body, 0)
			}
		case []byte:
			elem(0x05, f.key)
			body = binary.LittleEndian.AppendUint32(body, uint32(len(v)))
			body = append(append(body, 0), v...)
		case bsonDoc:
			elem(0x03, f.key)
			body = append(body, v.encode()...)
		}
	}
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(body)+5))
	return append(append(out, body...), 0)
}

var errBSON = errors.New("malformed BSON")

// bsonDecode reads a document's top-level values: numbers become float64, strings
// string, binaries []byte, booleans bool; nested documents and other types are skipped.
func bsonDecode(b []byte) (map[string]any, error) {
	if len(b) < 5 {
		return nil, errBSON
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n < 5 || n > len(b) || b[n-1] != 0 {
		return nil, errBSON
	}
	b = b[4 : n-1]
	out := map[string]any{}
	for len(b) > 0 {
		t := b[0]
		end := 1
		for end < len(b) && b[end] != 0 {
			end++
		}
		if end >= len(b) {
			return nil, errBSON
		}
		key := string(b[1:end])
		b = b[end+1:]
		var size int
		switch t {
		case 0x01: // double
			if len(b) < 8 {
				return nil, errBSON
			}
			out[key] = math.Float64frombits(binary.LittleEndian.Uint64(b))
			size = 8
		case 0x10: // int32
			if len(b) < 4 {
				return nil, errBSON
			}
			out[key] = float64(int32(binary.LittleEndian.Uint32(b)))
			size = 4
		case 0x12, 0x09, 0x11: // int64, UTC datetime, timestamp
			if len(b) < 8 {
				return nil, errBSON
			}
			out[key] = float64(int64(binary.LittleEndian.Uint64(b)))
			size = 8
		case 0x02: // string
			if len(b) < 4 {
				return nil, errBSON
			}
			l := int(binary.LittleEndian.Uint32(b))
			if l < 1 || l > len(b)-4 {
				return nil, errBSON
			}
			out[key] = string(b[4 : 4+l-1])
			size = 4 + l
		case 0x03, 0x04: // document, array
			if len(b) < 4 {
				return nil, errBSON
			}
			size = int(binary.LittleEndian.Uint32(b))
		case 0x05: // binary
			if len(b) < 5 {
				return nil, errBSON
			}
			l := int(binary.LittleEndian.Uint32(b))
			if l < 0 || l > len(b)-5 {
				return nil, errBSON
			}
			out[key] = b[5 : 5+l]
			size = 5 + l
		case 0x08:
			if len(b) < 1 {
				return nil, errBSON
			}
			out[key] = b[0] == 1
			size = 1
		case 0x0a: // null
		case 0x07: // ObjectId
			size = 12
		default:
			return nil, errBSON
		}
		if size < 0 || size > len(b) {
			return nil, errBSON
		}
		b = b[size:]
	}
	return out, nil
}
