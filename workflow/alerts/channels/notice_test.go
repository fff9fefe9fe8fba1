package channels

import (
	"context"
	"net/mail"
	"strings"
	"testing"
)

func TestSendText(t *testing.T) {
	srv := startSMTPServer(t, nil)
	e := testEmail(srv.addr)
	err := e.SendText(context.Background(), []string{"Alice <alice@example.com>"}, "Re-certify 2 openings\r\nBcc: evil@example.com", "Request #4 is due.\nDecide by 2027-01-01.", "recert-1")
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := srv.received()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || !strings.Contains(msgs[0].To[0], "alice@example.com") {
		t.Fatalf("received %+v", msgs)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(msgs[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Bcc") != "" || !strings.Contains(m.Header.Get("Subject"), "Re-certify 2 openings") {
		t.Fatalf("headers %v", m.Header)
	}
	checkCRLF(t, msgs[0].Data)
}
