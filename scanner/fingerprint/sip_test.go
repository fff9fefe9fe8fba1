package fingerprint

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// startSIPProxy is a UDP SIP server that routes its responses as RFC 3261 18.2.2
// and RFC 3581 say: to the source port only when the top Via carries an empty
// rport parameter, otherwise to the port in the Via's sent-by (5060 when absent),
// at the source address. It answers OPTIONS the way a stateless proxy does.
func startSIPProxy(t *testing.T, server string) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req := string(buf[:n])
			if !strings.HasPrefix(req, "OPTIONS ") {
				continue
			}
			var via string
			for _, l := range strings.Split(req, "\r\n") {
				if strings.HasPrefix(l, "Via:") {
					via = strings.TrimSpace(strings.TrimPrefix(l, "Via:"))
					break
				}
			}
			src := from.(*net.UDPAddr)
			dst := &net.UDPAddr{IP: src.IP, Port: 5060}
			params := strings.Split(via, ";")
			if _, port, err := net.SplitHostPort(strings.Fields(params[0])[len(strings.Fields(params[0]))-1]); err == nil {
				dst.Port, _ = strconv.Atoi(port)
			}
			reply := "SIP/2.0 200 OK\r\nVia: " + params[0] + ";received=" + src.IP.String()
			for _, p := range params[1:] {
				if p == "rport" {
					dst.Port = src.Port
					reply += ";rport=" + strconv.Itoa(src.Port)
					continue
				}
				reply += ";" + p
			}
			reply += "\r\nServer: " + server + "\r\nContent-Length: 0\r\n\r\n"
			pc.WriteTo([]byte(reply), dst)
		}
	}()
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

func TestSIPOverUDPAnswersReachTheProbe(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	target := startSIPProxy(t, "kamailio (5.6.3 (x86_64/linux))")
	res := e.IdentifyUDP(t.Context(), target)
	if res.State != "open" || res.Service != "sip" || res.Product != "kamailio" || res.Version != "5.6.3" {
		t.Fatalf("got state %q service %q product %q version %q, want open sip kamailio 5.6.3", res.State, res.Service, res.Product, res.Version)
	}
}

func TestSIPOptionsIsFreshEachTime(t *testing.T) {
	t.Parallel()
	a, b := sipOptions("UDP", "192.0.2.1", 5060), sipOptions("UDP", "192.0.2.1", 5060)
	branch := func(req []byte) string {
		_, after, _ := bytes.Cut(req, []byte(";branch="))
		v, _, _ := bytes.Cut(after, []byte("\r\n"))
		return string(v)
	}
	if branch(a) == "" || branch(a) == branch(b) {
		t.Errorf("branches %q and %q: want two different non-empty ones", branch(a), branch(b))
	}
	if !bytes.Contains(a, []byte(";rport;")) {
		t.Errorf("the Via does not ask for the source port (rport):\n%s", a)
	}
	if !bytes.HasPrefix(sipOptions("UDP", "2001:db8::1", 5060), []byte("OPTIONS sip:[2001:db8::1]:5060 SIP/2.0\r\n")) {
		t.Error("an IPv6 request URI is not bracketed")
	}
}

func TestSIPProduct(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header, value    string
		product, version string
	}{
		{"Server", "kamailio (5.6.3 (x86_64/linux))", "kamailio", "5.6.3"},
		{"User-Agent", "baresip v1.0.0 (x86_64/linux)", "baresip", "1.0.0"},
		{"Server", "Asterisk PBX 20.5.0", "Asterisk", "20.5.0"},
		{"User-Agent", "FreeSWITCH-mod_sofia/1.10.9-release~64bit", "FreeSWITCH-mod_sofia", "1.10.9-release~64bit"},
		{"Server", "Linphone/5.2.0 (belle-sip/5.2.0)", "Linphone", "5.2.0"},
		{"Server", "opensips", "opensips", ""},
		{"Server", "", "", ""},
	}
	for _, tc := range tests {
		raw := "SIP/2.0 200 OK\r\n"
		if tc.value != "" {
			raw += tc.header + ": " + tc.value + "\r\n"
		}
		r, err := parseSIPResponse([]byte(raw + "\r\n"))
		if err != nil {
			t.Fatalf("%q: %v", tc.value, err)
		}
		if p, v := sipProduct(r); p != tc.product || v != tc.version {
			t.Errorf("%s: %q gives %q %q, want %q %q", tc.header, tc.value, p, v, tc.product, tc.version)
		}
	}
}
