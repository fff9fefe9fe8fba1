package fingerprint

import (
	"net/netip"
	"testing"
	"time"
)

// Fuzz targets for every decoder of bytes that come off the wire: none may panic,
// loop or allocate without bound on arbitrary input.

var fuzzDB = func() *Database {
	db, err := DefaultDatabase()
	if err != nil {
		panic(err)
	}
	return db
}()

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"SSH-2.0-OpenSSH_9.2p1\r\n", "220 (vsFTPd 3.0.3)\r\n", "* OK IMAP4rev1\r\n",
		"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n\r\n", "RFB 003.008\n", "\xff\xfd\x18", "@RSYNCD: 31.0\n",
		"INFO {\"server_id\":\"x\",\"version\":\"2\"}\r\n", "+PONG\r\n", "VERSION 1.6\r\n"} {
		f.Add("banner", []byte(s))
	}
	for _, p := range fuzzDB.Probes {
		f.Add(p.Name, []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00})
	}
	f.Fuzz(func(t *testing.T, probe string, data []byte) {
		m, ok := fuzzDB.Match(probe, data)
		if ok && !validService(m.Service) {
			t.Fatalf("service %q outside the vocabulary", m.Service)
		}
	})
}

func FuzzReadTLV(f *testing.F) {
	f.Add(snmpGetRequest("public", 1))
	f.Add(ldapRootDSESearch(2))
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		tlv, _, err := readTLV(b)
		if err == nil && tlv.Constructed() {
			readChildren(tlv.Content)
		}
		berInt(b)
	})
}

func FuzzParseSNMP(f *testing.F) {
	f.Add(snmpGetRequest("public", 7))
	f.Add(snmpV3Discovery(9))
	f.Add(fakeSNMPAnswer("public")(snmpGetRequest("public", 1)))
	f.Add(fakeSNMPAnswer("public")(snmpV3Discovery(1)))
	f.Fuzz(func(t *testing.T, b []byte) { parseSNMP(b) })
}

func FuzzParseLDAP(f *testing.F) {
	f.Add(ldapAnonymousBind(1))
	f.Add(ldapRootDSESearch(2))
	f.Add([]byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		for i := 0; i < 64 && len(b) > 0; i++ {
			_, rest, err := parseLDAPMessage(b)
			if err != nil {
				return
			}
			b = rest
		}
	})
}

func FuzzParseKerberos(f *testing.F) {
	f.Add(kerberosASRequest(time.Unix(0, 0)))
	f.Add([]byte{0x7e, 0x0a, 0x30, 0x08, 0xa0, 0x03, 0x02, 0x01, 0x05, 0xa6, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) { parseKerberosReply(b) })
}

func FuzzParseDNS(f *testing.F) {
	q := dnsVersionQuery()
	f.Add(q)
	f.Add(fakeDNSAnswer(q, "dnsmasq-2.89"))
	f.Add([]byte{0x13, 0x37, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parseDNSResponse(b)
		if err == nil {
			dnsProduct(a.Version)
		}
	})
}

func FuzzParseNTP(f *testing.F) {
	f.Add(ntpAnswer(true, true)(ntpClientRequest()))
	f.Add(ntpAnswer(true, true)(ntpReadVarRequest()))
	f.Add(ntpAnswer(true, true)(ntpMonlistRequest()))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseNTPServerReply(b)
		if vars, err := parseNTPControlReply(b); err == nil {
			ntpProduct(vars)
		}
		parseNTPMonlistReply(b)
	})
}

func FuzzParseSIP(f *testing.F) {
	f.Add(sipAnswer(sipOptions("UDP", "127.0.0.1", 5060)))
	f.Add([]byte("SIP/2.0 200 OK\r\nServer: x/1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := parseSIPResponse(b); err == nil {
			answerParsers["sip"](b)
		}
	})
}

func FuzzParseMongoReply(f *testing.F) {
	f.Add(mongoCommand(1, bsonField{"hello", int32(1)}, bsonField{"$db", "admin"}))
	f.Add(bsonRaw(bsonElem(0x04, "databases", bsonRaw(bsonElem(0x03, "0", bsonRaw(bsonElem(0x02, "name", bsonString("admin")))))), bsonElem(0x01, "ok", bsonDouble(1))))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseMongoReply(b)
		parseBSON(b, 0)
		mongoMessageComplete(b)
	})
}

func FuzzParseRDP(f *testing.F) {
	f.Add([]byte{0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00})
	f.Add(rdpConnectionRequest())
	f.Fuzz(func(t *testing.T, b []byte) { parseRDPConfirm(b) })
}

func FuzzParseSMB(f *testing.F) {
	f.Add(smb2Negotiate())
	f.Add([]byte("\x00\x00\x00\x04\xffSMB"))
	f.Fuzz(func(t *testing.T, b []byte) { parseSMBNegotiate(b) })
}

func FuzzParseMSSQL(f *testing.F) {
	f.Add(mssqlPrelogin())
	f.Add([]byte{0x04, 0x01, 0x00, 0x1a, 0, 0, 1, 0, 0x00, 0x00, 0x0b, 0x00, 0x06, 0x01, 0x00, 0x11, 0x00, 0x01, 0xff, 0x0f, 0x00, 0x10, 0x7f, 0x00, 0x00, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) { parseMSSQLPrelogin(b) })
}

func FuzzParseMQTT(f *testing.F) {
	f.Add([]byte{0x20, 0x02, 0x00, 0x00})
	f.Add(mqttConnect("x"))
	f.Fuzz(func(t *testing.T, b []byte) { parseMQTTConnack(b) })
}

func FuzzParseVNC(f *testing.F) {
	f.Add([]byte("RFB 003.008\n"), []byte{2, 1, 2})
	f.Add([]byte("RFB 003.003\n"), []byte{0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, version, types []byte) {
		_, minor, err := parseRFBVersion(version)
		if err == nil {
			parseRFBSecurityTypes(types, minor)
		}
		parseRFBSecurityTypes(types, 8)
		parseRFBSecurityTypes(types, 3)
	})
}

func FuzzParseMySQL(f *testing.F) {
	f.Add([]byte("\x2b\x00\x00\x00\x0a5.5.5-10.11.6-MariaDB\x00\x01\x00\x00\x00"))
	f.Add([]byte("\x17\x00\x00\x00\xff\x6a\x04Host is not allowed"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := parseMySQLHandshake(b); err == nil {
			mysqlProduct(h.Version)
		}
	})
}

func FuzzParseAMQP(f *testing.F) {
	f.Add([]byte("\x01\x00\x00\x00\x00\x00\x2c\x00\x0a\x00\x0a\x00\x09\x00\x00\x00\x13\x07productS\x00\x00\x00\x08RabbitMQ\xce"))
	f.Fuzz(func(t *testing.T, b []byte) { parseAMQPStart(b) })
}

func FuzzParseRsyncModules(f *testing.F) {
	f.Add([]byte("data\tpublic\nbackup\t\n@RSYNCD: EXIT\n"))
	f.Fuzz(func(t *testing.T, b []byte) { parseRsyncModules(b) })
}

func FuzzFTPReply(f *testing.F) {
	f.Add([]byte("230-Welcome\r\n230 Login successful.\r\n"))
	f.Add([]byte("\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ftpReplyComplete(b)
		ftpCode(b)
	})
}

func FuzzRedisBulk(f *testing.F) {
	f.Add([]byte("$10\r\n0123456789\r\n"))
	f.Add([]byte("$-1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) { redisBulkComplete(b) })
}

func FuzzParseDatabase(f *testing.F) {
	// The embedded files themselves are checked by TestDefaultDatabase; compiling
	// their hundred patterns per input would leave the fuzzer no time to explore.
	f.Add("[probe p]\ntransport = udp\nhex = 00ff\nports = 1-3\n", "[signature]\nprobe = p\nservice = ntp\npattern = ^\\x00\n")
	f.Fuzz(func(t *testing.T, probes, signatures string) {
		db, err := ParseDatabase(probes, signatures)
		if err == nil {
			for _, p := range db.Probes {
				db.Match(p.Name, []byte("x"))
			}
		}
	})
}

func FuzzPrintable(f *testing.F) {
	f.Add("SSH-2.0\r\n\xff\x00é", 256)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit = limit%512 + 1
		if limit < 1 {
			limit = 1
		}
		if got := printable(s, limit); len([]rune(got)) > limit {
			t.Fatalf("%d runes for limit %d", len([]rune(got)), limit)
		}
	})
}

func FuzzExpandPayload(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n"))
	f.Fuzz(func(t *testing.T, p []byte) {
		expandPayload(p, netip.MustParseAddrPort("[::1]:8080"))
	})
}
