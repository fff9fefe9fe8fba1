package fingerprint

import (
	_ "embed"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

//go:embed probes.conf
var defaultProbes string

//go:embed signatures.conf
var defaultSignatures string

// Probe is one question asked of a port.
type Probe struct {
	Name        string
	Transport   string // "tcp" or "udp"
	Payload     []byte // fixed payload; {host} and {port} are replaced when sent
	Builder     string // payload built in code, when Payload is empty
	AfterBanner bool   // sent after an unrecognised greeting, on the same connection
	Ports       map[uint16]bool
}

// Signature recognises a service in the answer to one probe.
type Signature struct {
	Probe   string
	Service string
	Pattern *regexp.Regexp
	Product string // template over the pattern's groups
	Version string
	Parser  string // structural decoder in code; "" for none
}

// Database is a set of probes and signatures.
type Database struct {
	Probes     []Probe
	Signatures []Signature
}

// DefaultDatabase parses the probes and signatures embedded in the package.
func DefaultDatabase() (*Database, error) {
	return ParseDatabase(defaultProbes, defaultSignatures)
}

// ParseDatabase reads the probe and signature files (the format is described at the
// top of probes.conf and signatures.conf) and checks every reference they make.
func ParseDatabase(probes, signatures string) (*Database, error) {
	db := &Database{}
	sections, err := parseSections(probes)
	if err != nil {
		return nil, fmt.Errorf("probes: %w", err)
	}
	seen := map[string]bool{}
	for _, s := range sections {
		name, ok := strings.CutPrefix(s.header, "probe ")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("probes line %d: section must be [probe NAME]", s.line)
		}
		p := Probe{Name: strings.TrimSpace(name), Transport: s.values["transport"], Builder: s.values["builder"]}
		if seen[p.Name] {
			return nil, fmt.Errorf("probes line %d: duplicate probe %q", s.line, p.Name)
		}
		seen[p.Name] = true
		if p.Transport != "tcp" && p.Transport != "udp" {
			return nil, fmt.Errorf("probes line %d: transport must be tcp or udp", s.line)
		}
		switch {
		case s.values["payload"] != "":
			p.Payload, err = unescapePayload(s.values["payload"])
		case s.values["hex"] != "":
			p.Payload, err = hex.DecodeString(strings.ReplaceAll(s.values["hex"], " ", ""))
		case p.Builder != "":
			if _, known := payloadBuilders[p.Builder]; !known && p.Builder != "tls" {
				err = fmt.Errorf("unknown builder %q", p.Builder)
			}
		default:
			err = fmt.Errorf("probe %q has no payload, hex or builder", p.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("probes line %d: %w", s.line, err)
		}
		p.AfterBanner = s.values["after-banner"] == "true"
		if spec := s.values["ports"]; spec != "" {
			p.Ports = map[uint16]bool{}
			ports, err := parsePortList(spec)
			if err != nil {
				return nil, fmt.Errorf("probes line %d: %w", s.line, err)
			}
			for _, port := range ports {
				p.Ports[port] = true
			}
		}
		db.Probes = append(db.Probes, p)
	}
	sections, err = parseSections(signatures)
	if err != nil {
		return nil, fmt.Errorf("signatures: %w", err)
	}
	for _, s := range sections {
		if s.header != "signature" {
			return nil, fmt.Errorf("signatures line %d: section must be [signature]", s.line)
		}
		sig := Signature{Probe: s.values["probe"], Service: s.values["service"],
			Product: s.values["product"], Version: s.values["version"], Parser: s.values["parser"]}
		if sig.Probe != "banner" && !seen[sig.Probe] {
			return nil, fmt.Errorf("signatures line %d: unknown probe %q", s.line, sig.Probe)
		}
		if !validService(sig.Service) {
			return nil, fmt.Errorf("signatures line %d: service %q is not in the vocabulary", s.line, sig.Service)
		}
		if _, ok := answerParsers[sig.Parser]; sig.Parser != "" && !ok {
			return nil, fmt.Errorf("signatures line %d: unknown parser %q", s.line, sig.Parser)
		}
		if sig.Pattern, err = regexp.Compile(s.values["pattern"]); err != nil || s.values["pattern"] == "" {
			return nil, fmt.Errorf("signatures line %d: bad pattern: %v", s.line, err)
		}
		db.Signatures = append(db.Signatures, sig)
	}
	return db, nil
}

// Services is the report vocabulary, "unknown" excluded.
var Services = []string{"amqp", "dns", "elasticsearch", "ftp", "http", "imap", "kerberos",
	"ldap", "memcached", "mongodb", "mqtt", "mssql", "mysql", "nats", "ntp", "pop3",
	"postgresql", "rdp", "redis", "rsync", "sip", "smb", "smtp", "snmp", "ssh", "telnet", "vnc"}

func validService(s string) bool {
	for _, v := range Services {
		if v == s {
			return true
		}
	}
	return false
}

type section struct {
	header string
	line   int
	values map[string]string
}

// parseSections reads "[header]" sections of "key = value" lines; "#" starts a
// comment line. Values run to the end of the line, trimmed.
func parseSections(text string) ([]section, error) {
	var out []section
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: unterminated section header", i+1)
			}
			out = append(out, section{header: strings.TrimSpace(line[1 : len(line)-1]), line: i + 1, values: map[string]string{}})
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || len(out) == 0 {
			return nil, fmt.Errorf("line %d: expected key = value inside a section", i+1)
		}
		key = strings.TrimSpace(key)
		if _, dup := out[len(out)-1].values[key]; dup {
			return nil, fmt.Errorf("line %d: %s given twice", i+1, key)
		}
		out[len(out)-1].values[key] = strings.TrimSpace(value)
	}
	return out, nil
}

// unescapePayload interprets \r \n \t \0 \\ and \xNN.
func unescapePayload(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		if i+1 >= len(s) {
			return nil, fmt.Errorf("payload ends with a backslash")
		}
		i++
		switch s[i] {
		case 'r':
			out = append(out, '\r')
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case '0':
			out = append(out, 0)
		case '\\':
			out = append(out, '\\')
		case 'x':
			if i+3 > len(s) {
				return nil, fmt.Errorf("short \\x escape")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("bad \\x escape %q", s[i+1:i+3])
			}
			out = append(out, byte(v))
			i += 2
		default:
			return nil, fmt.Errorf("unknown escape \\%c", s[i])
		}
	}
	return out, nil
}

// parsePortList reads "22,80,8000-8100".
func parsePortList(spec string) ([]uint16, error) {
	var out []uint16
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil || a == 0 {
			return nil, fmt.Errorf("bad port %q", part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil || b < a {
				return nil, fmt.Errorf("bad port range %q", part)
			}
		}
		for p := a; p <= b; p++ {
			out = append(out, uint16(p))
		}
	}
	return out, nil
}

// latin1 maps each byte to the rune of the same value, so that patterns can match
// binary answers byte for byte (RE2 would read invalid UTF-8 as U+FFFD).
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// Match is a recognised answer.
type Match struct {
	Service, Product, Version string
}

// Match finds the first signature for the probe (then the banner signatures) that
// recognises data.
func (db *Database) Match(probe string, data []byte) (Match, bool) {
	if len(data) == 0 {
		return Match{}, false
	}
	text := latin1(data)
	for pass := 0; pass < 2; pass++ {
		want := probe
		if pass == 1 {
			if probe == "banner" {
				break
			}
			want = "banner"
		}
		for _, sig := range db.Signatures {
			if sig.Probe != want {
				continue
			}
			idx := sig.Pattern.FindStringSubmatchIndex(text)
			if idx == nil {
				continue
			}
			m := Match{Service: sig.Service,
				Product: printable(string(sig.Pattern.ExpandString(nil, sig.Product, text, idx)), 64),
				Version: printable(string(sig.Pattern.ExpandString(nil, sig.Version, text, idx)), 64)}
			if sig.Parser != "" {
				product, version, ok := answerParsers[sig.Parser](data)
				if !ok {
					continue
				}
				if product != "" {
					m.Product = printable(product, 64)
				}
				if version != "" {
					m.Version = printable(version, 64)
				}
			}
			return m, true
		}
	}
	return Match{}, false
}
