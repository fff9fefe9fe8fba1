package credcheck

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// mongoProbe authenticates with SCRAM-SHA-256 (RFC 7677) over OP_MSG against the
// admin database, where default administrator accounts live.
type mongoProbe struct{}

const (
	mongoOpMsg          = 2013
	mongoAuthFailed     = 18
	scramMaxIterations  = 1 << 20 // a server asking more is not spending our CPU
	mongoMaxMessageSize = 1 << 20
)

func (mongoProbe) try(a *attempt) (outcome, string, error) {
	c, err := a.conn()
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	nonceBytes := make([]byte, 24)
	rand.Read(nonceBytes)
	cnonce := base64.StdEncoding.EncodeToString(nonceBytes)
	bare := "n=" + scramName(a.entry.User) + ",r=" + cnonce
	reply1, err := mongoRoundTrip(c, 1, bsonDoc{
		{"saslStart", int32(1)}, {"mechanism", "SCRAM-SHA-256"}, {"payload", []byte("n,," + bare)},
		{"autoAuthorize", int32(1)}, {"options", bsonDoc{{"skipEmptyExchange", true}}}, {"$db", "admin"},
	})
	if err != nil {
		return 0, "", err
	}
	if out, why, done := mongoVerdict(reply1); done {
		return mongoStop(out, why)
	}
	serverFirst, _ := reply1["payload"].([]byte)
	final, serverSig, err := scramClientFinal(a.entry.Password, cnonce, bare, string(serverFirst))
	if err != nil {
		return 0, "", err
	}
	conv, _ := reply1["conversationId"].(float64)
	reply2, err := mongoRoundTrip(c, 2, bsonDoc{
		{"saslContinue", int32(1)}, {"conversationId", int32(conv)}, {"payload", []byte(final)}, {"$db", "admin"},
	})
	if err != nil {
		return 0, "", err
	}
	if out, why, done := mongoVerdict(reply2); done {
		return mongoStop(out, why)
	}
	// The server proves it knew the password too: a fake that accepts anything
	// does not make a finding.
	payload, _ := reply2["payload"].([]byte)
	if !bytes.Equal(payload, []byte("v="+base64.StdEncoding.EncodeToString(serverSig))) {
		return 0, "", errors.New("the server's SCRAM signature does not verify")
	}
	return accepted, "SCRAM-SHA-256 authenticated", nil
}

// mongoVerdict reads a failed command reply.
func mongoVerdict(r map[string]any) (outcome, string, bool) {
	if ok, _ := r["ok"].(float64); ok == 1 {
		return 0, "", false
	}
	code, _ := r["code"].(float64)
	msg, _ := r["errmsg"].(string)
	why := fmt.Sprintf("code %d %s", int(code), reply(msg))
	if tooMany(msg) {
		return throttled, why, true
	}
	if int(code) == mongoAuthFailed {
		return rejected, why, true
	}
	// Anything else (SCRAM-SHA-256 unsupported, say) proves nothing: stop.
	return notALogin, why, true
}

// notALogin marks a reply that answers something else than the login.
const notALogin outcome = -1

// mongoStop turns a reply that is no answer to the login into an error.
func mongoStop(out outcome, why string) (outcome, string, error) {
	if out != notALogin {
		return out, why, nil
	}
	return 0, "", fmt.Errorf("mongodb: %s", why)
}

// scramName escapes a user name for SCRAM (RFC 5802 5.1).
func scramName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// scramClientFinal computes the client-final message and the server signature
// expected back, from the server-first message.
func scramClientFinal(password, cnonce, clientFirstBare, serverFirst string) (string, []byte, error) {
	var nonce, salt string
	iter := 0
	for _, part := range strings.Split(serverFirst, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		switch k {
		case "r":
			nonce = v
		case "s":
			salt = v
		case "i":
			iter, _ = strconv.Atoi(v)
		}
	}
	saltBytes, err := base64.StdEncoding.DecodeString(salt)
	switch {
	case !strings.HasPrefix(nonce, cnonce) || len(nonce) == len(cnonce):
		return "", nil, errors.New("SCRAM: the server nonce does not extend ours")
	case err != nil || len(saltBytes) == 0:
		return "", nil, errors.New("SCRAM: no salt")
	case iter < 1 || iter > scramMaxIterations:
		return "", nil, fmt.Errorf("SCRAM: iteration count %d out of range", iter)
	}
	salted, err := pbkdf2.Key(sha256.New, password, saltBytes, iter, sha256.Size)
	if err != nil {
		return "", nil, err
	}
	mac := func(key []byte, s string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	withoutProof := "c=biws,r=" + nonce
	authMessage := clientFirstBare + "," + serverFirst + "," + withoutProof
	proof := mac(storedKey[:], authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	serverSig := mac(mac(salted, "Server Key"), authMessage)
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), serverSig, nil
}

// mongoRoundTrip sends a command in OP_MSG and decodes the reply's body.
func mongoRoundTrip(c net.Conn, id int32, cmd bsonDoc) (map[string]any, error) {
	doc := cmd.encode()
	msg := make([]byte, 16, 21+len(doc))
	binary.LittleEndian.PutUint32(msg[4:], uint32(id))
	binary.LittleEndian.PutUint32(msg[12:], mongoOpMsg)
	msg = binary.LittleEndian.AppendUint32(msg, 0) // flags
	msg = append(msg, 0)                           // section 0: the body
	msg = append(msg, doc...)
	binary.LittleEndian.PutUint32(msg, uint32(len(msg)))
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	var hdr [16]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return nil, fmt.Errorf("no MongoDB reply: %w", err)
	}
	size := int(binary.LittleEndian.Uint32(hdr[:]))
	if size < 21 || size > mongoMaxMessageSize || binary.LittleEndian.Uint32(hdr[12:]) != mongoOpMsg {
		return nil, errors.New("not a MongoDB OP_MSG reply")
	}
	body := make([]byte, size-16)
	if _, err := io.ReadFull(c, body); err != nil {
		return nil, err
	}
	if body[4] != 0 {
		return nil, errors.New("OP_MSG reply without a body section")
	}
	return bsonDecode(body[5:])
}
