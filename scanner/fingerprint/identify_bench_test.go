package fingerprint

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// BenchmarkIdentifyTCP measures the time to identify one port on loopback with
// the production defaults: a listener that accepts and never writes, an HTTP
// server and an HTTPS server (net/http, which waits for the client in silence as
// real servers do), and a greeter (SSH). ns/op is the wall time of one
// identification, checks included.
func BenchmarkIdentifyTCP(b *testing.B) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "nginx/1.22.1")
		w.Write([]byte("hello"))
	})
	plain := httptest.NewServer(handler)
	defer plain.Close()
	secure := httptest.NewUnstartedServer(handler)
	secure.Config.ErrorLog = log.New(io.Discard, "", 0) // our probes fail its handshake by design
	secure.StartTLS()
	defer secure.Close()
	cases := []struct {
		name    string
		target  netip.AddrPort
		service string
		tls     bool
	}{
		{"silent", startTCP(b, silent), "unknown", false},
		{"http", netip.MustParseAddrPort(plain.Listener.Addr().String()), "http", false},
		{"tls", netip.MustParseAddrPort(secure.Listener.Addr().String()), "http", true},
		{"ssh", startTCP(b, greet("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")), "ssh", false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			e, err := New(nil, Config{})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if got := e.IdentifyTCP(context.Background(), c.target); got.Service != c.service || got.TLS != c.tls {
					b.Fatalf("got %+v, want %s (tls %v)", got, c.service, c.tls)
				}
			}
		})
	}
}
