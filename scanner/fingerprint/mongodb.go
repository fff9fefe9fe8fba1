package fingerprint

import (
	"encoding/binary"
	"errors"
	"math"
)

// MongoDB wire protocol OP_MSG (opcode 2013) with a minimal BSON codec.

const opMsg = 2013

// bsonField is one key of a command document; values are int32, string or bool.
type bsonField struct {
	Key   string
	Value any
}

func bsonDocument(fields ...bsonField) []byte {
	body := []byte{}
	for _, f := range fields {
		switch v := f.Value.(type) {
		case int32:
			body = append(body, 0x10)
			body = append(append(body, f.Key...), 0)
			body = binary.LittleEndian.AppendUint32(body, uint32(v))
		case string:
			body = append(body, 0x02)
			body = append(append(body, f.Key...), 0)
			body = binary.LittleEndian.AppendUint32(body, uint32(len(v)+1))
			body = append(append(body, v...), 0)
		case bool:
			body = append(body, 0x08)
			body = append(append(body, f.Key...), 0)
			if v {
				body = append(body, 1)
			} else {
				body = append(body, 0)
			}
		}
	}
	doc := binary.LittleEndian.AppendUint32(nil, uint32(len(body)+5))
	return append(append(doc, body...), 0)
}

// mongoCommand wraps a command document into an OP_MSG message.
func mongoCommand(requestID int32, fields ...bsonField) []byte {
	doc := bsonDocument(fields...)
	msg := make([]byte, 16, 16+5+len(doc))
	binary.LittleEndian.PutUint32(msg[4:], uint32(requestID))
	binary.LittleEndian.PutUint32(msg[12:], opMsg)
	msg = binary.LittleEndian.AppendUint32(msg, 0) // flag bits
	msg = append(msg, 0)                           // section kind 0: body
	msg = append(msg, doc...)
	binary.LittleEndian.PutUint32(msg, uint32(len(msg)))
	return msg
}

var errNotMongo = errors.New("not a MongoDB OP_MSG reply")

// parseMongoReply returns the body document of an OP_MSG reply.
func parseMongoReply(b []byte) (map[string]any, error) {
	if len(b) < 21 {
		return nil, errNotMongo
	}
	length := int(binary.LittleEndian.Uint32(b))
	if binary.LittleEndian.Uint32(b[12:]) != opMsg || length < 21 || length > len(b) {
		return nil, errNotMongo
	}
	if b[20] != 0 {
		return nil, errNotMongo
	}
	doc, _, err := parseBSON(b[21:length], 0)
	return doc, err
}

// mongoMessageComplete reports whether b holds a whole wire message.
func mongoMessageComplete(b []byte) bool {
	return len(b) >= 4 && int(binary.LittleEndian.Uint32(b)) <= len(b)
}

var errBSON = errors.New("malformed BSON")

// parseBSON decodes one document into a map. Numbers become float64 or int64,
// embedded documents and arrays become maps; other types are skipped.
func parseBSON(b []byte, depth int) (map[string]any, int, error) {
	if depth > 16 || len(b) < 5 {
		return nil, 0, errBSON
	}
	size := int(int32(binary.LittleEndian.Uint32(b)))
	if size < 5 || size > len(b) || b[size-1] != 0 {
		return nil, 0, errBSON
	}
	doc := map[string]any{}
	p := 4
	for p < size-1 {
		typ := b[p]
		p++
		end := p
		for end < size && b[end] != 0 {
			end++
		}
		if end >= size {
			return nil, 0, errBSON
		}
		key := string(b[p:end])
		p = end + 1
		if p >= size {
			return nil, 0, errBSON // the key ate the document's terminator
		}
		need := func(n int) bool { return n >= 0 && p+n <= size-1 }
		switch typ {
		case 0x01: // double
			if !need(8) {
				return nil, 0, errBSON
			}
			doc[key] = math.Float64frombits(binary.LittleEndian.Uint64(b[p:]))
			p += 8
		case 0x02, 0x0d, 0x0e: // string, JavaScript, symbol
			if !need(4) {
				return nil, 0, errBSON
			}
			n := int(int32(binary.LittleEndian.Uint32(b[p:])))
			if n < 1 || !need(4+n) {
				return nil, 0, errBSON
			}
			doc[key] = string(b[p+4 : p+4+n-1])
			p += 4 + n
		case 0x03, 0x04: // document, array
			sub, n, err := parseBSON(b[p:size-1], depth+1)
			if err != nil {
				return nil, 0, err
			}
			doc[key] = sub
			p += n
		case 0x05: // binary
			if !need(5) {
				return nil, 0, errBSON
			}
			n := int(int32(binary.LittleEndian.Uint32(b[p:])))
			if n < 0 || !need(5+n) {
				return nil, 0, errBSON
			}
			p += 5 + n
		case 0x06, 0x0a, 0x7f, 0xff: // undefined, null, max key, min key
		case 0x07: // ObjectId
			if !need(12) {
				return nil, 0, errBSON
			}
			p += 12
		case 0x08: // bool
			if !need(1) {
				return nil, 0, errBSON
			}
			doc[key] = b[p] != 0
			p++
		case 0x09, 0x11, 0x12: // datetime, timestamp, int64
			if !need(8) {
				return nil, 0, errBSON
			}
			doc[key] = int64(binary.LittleEndian.Uint64(b[p:]))
			p += 8
		case 0x10: // int32
			if !need(4) {
				return nil, 0, errBSON
			}
			doc[key] = int64(int32(binary.LittleEndian.Uint32(b[p:])))
			p += 4
		case 0x13: // decimal128
			if !need(16) {
				return nil, 0, errBSON
			}
			p += 16
		case 0x0b: // regex: two C strings
			for range 2 {
				for p < size-1 && b[p] != 0 {
					p++
				}
				p++
			}
			if p > size-1 {
				return nil, 0, errBSON
			}
		default:
			return nil, 0, errBSON
		}
	}
	return doc, size, nil
}

// bsonOK reports whether a command reply says ok: 1.
func bsonOK(doc map[string]any) bool {
	switch v := doc["ok"].(type) {
	case float64:
		return v == 1
	case int64:
		return v == 1
	case bool:
		return v
	}
	return false
}
