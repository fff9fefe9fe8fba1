package credcheck

import (
	"strings"
	"testing"
)

// FuzzParseList: any input either parses into entries that name a known service and
// their line, or fails with an error that never repeats a password field.
func FuzzParseList(f *testing.F) {
	for _, s := range []string{
		"ssh admin admin\n", "redis - \"\"\n", "* ops \"a\\tb\"\n", "# c\n\nsnmp - x\r\n",
		"vnc - 123456789\n", "mysql root \"unterminated\n", "ftp\n", "\"ssh\" a b\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		entries, err := ParseList(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.Service != anyService && !isService(e.Service) {
				t.Fatalf("entry with service %q", e.Service)
			}
			if !strings.HasPrefix(e.Source, "admin-list#") {
				t.Fatalf("entry source %q", e.Source)
			}
			if strings.ContainsAny(e.Password, "\x00\r\n") {
				t.Fatalf("password with a line break or NUL")
			}
		}
	})
}

// FuzzBSONDecode: replies off the wire never crash the decoder.
func FuzzBSONDecode(f *testing.F) {
	f.Add(bsonDoc{{"ok", int32(1)}, {"payload", []byte("r=x")}, {"done", true}, {"errmsg", "e"}}.encode())
	f.Fuzz(func(t *testing.T, b []byte) { bsonDecode(b) })
}

// FuzzSNMPResponse: an agent's reply never crashes the reader, and a reply built
// for a request id reads back as that id.
func FuzzSNMPResponse(f *testing.F) {
	f.Add(snmpGet("public", 42), int32(42))
	f.Fuzz(func(t *testing.T, b []byte, id int32) {
		snmpResponseID(b)
		if id < 0 {
			return
		}
		pdu := append(berInt(id), berInt(0)...)
		pdu = append(pdu, berInt(0)...)
		pdu = append(pdu, berTLV(0x30, nil)...)
		msg := append(berInt(1), berTLV(0x04, b[:min(len(b), 64)])...)
		msg = append(msg, berTLV(0xa2, pdu)...)
		if got, ok := snmpResponseID(berTLV(0x30, msg)); !ok || got != id {
			t.Fatalf("request id %d read back as %d, %v", id, got, ok)
		}
	})
}
