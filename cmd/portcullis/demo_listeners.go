package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"
)

// demoListener is a service the demo plays on a loopback address, so that the
// scanner has something real to find: some approved, some not.
type demoListener struct {
	Address string // host:port, always on 127.0.0.0/8
	Service string
	Note    string
	serve   func(net.Conn)
	tls     bool
}

// demoListeners are what the demo's assets answer.
func demoListeners() []demoListener {
	return []demoListener{
		{Address: "127.20.0.5:2222", Service: "ssh", Note: "the bastion's SSH, approved (verified by the first scan)", serve: demoGreet("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")},
		{Address: "127.40.0.15:8443", Service: "http", Note: "the CRM over HTTPS, approved and active", serve: demoHTTP, tls: true},
		{Address: "127.10.0.11:2525", Service: "smtp", Note: "the mail relay, approved and verified", serve: demoSMTP},
		{Address: "127.40.0.16:6379", Service: "redis", Note: "the CRM's Redis without a password: not approved yet", serve: demoRedis},
		{Address: "127.40.0.15:2323", Service: "telnet", Note: "a forgotten telnet service: never approved", serve: demoGreet("\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\r\ncrm-app login: ")},
		{Address: "127.10.0.10:8080", Service: "http", Note: "a test web server left running in the DMZ: never approved", serve: demoHTTP},
		// Binding 443 needs root; a web server run as a user listens high,
		// so the demo's first obvious request (HTTPS to www1) can be
		// approved, implemented and verified without root: on 8443.
		{Address: "127.10.0.10:8443", Service: "http", Note: "the public website over HTTPS (an unprivileged server, so 8443): not approved yet; request tcp/8443 to 127.10.0.10 to walk the whole path", serve: demoHTTP, tls: true},
	}
}

// startDemoListeners starts every demo service it can bind (binding 127.x
// addresses other than 127.0.0.1 needs Linux). stop closes them all before
// it returns, so that a server started next finds the addresses free.
func startDemoListeners(ctx context.Context, log *slog.Logger) (started []demoListener, stop func(), err error) {
	cert, err := demoCert()
	if err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex
	var open []net.Listener
	stop = func() {
		mu.Lock()
		defer mu.Unlock()
		for _, ln := range open {
			ln.Close()
		}
		open = nil
	}
	for _, l := range demoListeners() {
		host, _, _ := net.SplitHostPort(l.Address)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			stop()
			return nil, nil, fmt.Errorf("demo listener %s is not on loopback", l.Address)
		}
		ln, err := net.Listen("tcp", l.Address)
		if err != nil {
			log.Warn("demo listener not started", "address", l.Address, "err", err)
			continue
		}
		if l.tls {
			ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		}
		started = append(started, l)
		mu.Lock()
		open = append(open, ln)
		mu.Unlock()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					c.SetDeadline(time.Now().Add(10 * time.Second))
					l.serve(c)
				}()
			}
		}()
	}
	go func() {
		<-ctx.Done()
		stop()
	}()
	return started, stop, nil
}

func demoGreet(banner string) func(net.Conn) {
	return func(c net.Conn) {
		c.Write([]byte(banner))
		bufio.NewReader(c).ReadString('\n')
	}
}

func demoHTTP(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil || strings.TrimSpace(line) == "" {
			break
		}
	}
	body := "<html><title>Demo</title>ok</html>"
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
}

func demoSMTP(c net.Conn) {
	fmt.Fprint(c, "220 mx1.demo.test ESMTP Postfix (Debian/GNU)\r\n")
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			fmt.Fprint(c, "250-mx1.demo.test\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n")
		case cmd == "QUIT":
			fmt.Fprint(c, "221 2.0.0 Bye\r\n")
			return
		default:
			fmt.Fprint(c, "502 5.5.2 Error: command not recognized\r\n")
		}
	}
}

// demoRedis answers RESP commands as a Redis without requirepass would.
func demoRedis(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		cmd, err := readDemoRESP(r)
		if err != nil {
			return
		}
		switch strings.ToUpper(cmd) {
		case "PING":
			fmt.Fprint(c, "+PONG\r\n")
		case "INFO":
			info := "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n"
			fmt.Fprintf(c, "$%d\r\n%s\r\n", len(info), info)
		case "QUIT":
			fmt.Fprint(c, "+OK\r\n")
			return
		default:
			fmt.Fprintf(c, "-ERR unknown command '%s'\r\n", cmd)
		}
	}
}

// readRESP reads one command, as a RESP array or an inline line, and returns its name.
func readDemoRESP(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "*") {
		f := strings.Fields(line)
		if len(f) == 0 {
			return "", nil
		}
		return f[0], nil
	}
	var n int
	fmt.Sscanf(line, "*%d", &n)
	name := ""
	for i := 0; i < n && i < 64; i++ {
		if _, err := r.ReadString('\n'); err != nil { // $len
			return "", err
		}
		arg, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if i == 0 {
			name = strings.TrimRight(arg, "\r\n")
		}
	}
	return name, nil
}

func demoCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "crm-app.demo.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		DNSNames: []string{"crm-app.demo.test"}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
