package credcheck

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Services whose logins are checked, by the scan report's service word.
var Services = []string{"ssh", "ftp", "telnet", "mysql", "postgresql", "redis", "mongodb", "snmp", "mqtt", "vnc"}

// anyService in a list entry applies it to every service that has user names.
const anyService = "*"

// noUser marks an entry whose service authenticates by a secret alone: a Redis
// requirepass, an SNMP community, a VNC password.
const noUser = "-"

// Entry is one user name and password to try. Source names it in logs and
// findings ("builtin:redis#2", "admin-list#5"), so that the password itself never
// has to be shown.
type Entry struct {
	Service  string
	User     string // "" when the service takes a secret only
	Password string
	Source   string
}

// builtin are vendor and packaging defaults, a few per service: the checks stop
// after a handful of attempts, so the most common come first.
var builtin = map[string][][2]string{
	"ssh":        {{"root", "root"}, {"admin", "admin"}, {"pi", "raspberry"}, {"ubnt", "ubnt"}, {"root", "toor"}},
	"telnet":     {{"admin", "admin"}, {"root", "root"}, {"admin", "password"}, {"root", ""}, {"user", "user"}},
	"ftp":        {{"admin", "admin"}, {"ftp", "ftp"}, {"root", "root"}, {"user", "password"}, {"admin", "1234"}},
	"mysql":      {{"root", ""}, {"root", "root"}, {"root", "mysql"}, {"root", "password"}, {"admin", "admin"}},
	"postgresql": {{"postgres", "postgres"}, {"postgres", "password"}, {"postgres", "admin"}, {"admin", "admin"}, {"postgres", "root"}},
	"redis":      {{"", "foobared"}, {"", "redis"}, {"", "password"}, {"default", "admin"}, {"", "123456"}},
	"mongodb":    {{"admin", "admin"}, {"root", "root"}, {"admin", "password"}, {"mongo", "mongo"}, {"root", "example"}},
	"snmp":       {{"", "community"}, {"", "cisco"}, {"", "manager"}, {"", "secret"}, {"", "admin"}},
	"mqtt":       {{"admin", "public"}, {"guest", "guest"}, {"admin", "admin"}, {"admin", "password"}, {"mosquitto", "mosquitto"}},
	"vnc":        {{"", "password"}, {"", "admin"}, {"", "12345678"}, {"", "vnc"}, {"", "1234"}},
}

// Builtin returns the built-in entries for a service, in the order they are tried.
func Builtin(service string) []Entry {
	var out []Entry
	for i, up := range builtin[service] {
		out = append(out, Entry{Service: service, User: up[0], Password: up[1], Source: fmt.Sprintf("builtin:%s#%d", service, i+1)})
	}
	return out
}

// takesUser reports whether a service logs in with a user name as well.
func takesUser(service string) bool {
	switch service {
	case "snmp", "vnc":
		return false
	}
	return true
}

// maxListEntries bounds an admin list: it names defaults, it is no dictionary.
const maxListEntries = 1000

// ParseList reads an admin-supplied credentials list. Each line is
//
//	SERVICE USER PASSWORD
//
// separated by spaces or tabs; SERVICE is one of Services or * (every service
// with user names); USER is - for a service that takes a secret only (Redis
// requirepass, SNMP community, VNC); PASSWORD is the rest of the line, or a
// double-quoted Go string when it is empty, has leading or trailing spaces, or
// begins with a quote. Blank lines and lines starting with # are skipped. Entries
// are named "admin-list#LINE".
func ParseList(r io.Reader) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimLeft(text, " \t")
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		e, err := parseEntry(trimmed)
		if err != nil {
			return nil, fmt.Errorf("credentials list line %d: %w", line, err)
		}
		e.Source = fmt.Sprintf("admin-list#%d", line)
		out = append(out, e)
		if len(out) > maxListEntries {
			return nil, fmt.Errorf("credentials list: more than %d entries; it is a list of defaults, not a dictionary", maxListEntries)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("credentials list line %d: %w", line+1, err)
	}
	return out, nil
}

// parseEntry reads "SERVICE USER PASSWORD"; errors never quote the password.
func parseEntry(s string) (Entry, error) {
	service, rest, ok := cutField(s)
	if !ok {
		return Entry{}, fmt.Errorf("want SERVICE USER PASSWORD, found only %q", service)
	}
	if service != anyService && !isService(service) {
		return Entry{}, fmt.Errorf("service %q unknown (want one of %s or *)", service, strings.Join(Services, ", "))
	}
	user, pw, ok := cutField(rest)
	if !ok {
		return Entry{}, fmt.Errorf("service %s: want USER PASSWORD after the service", service)
	}
	if user == noUser {
		if service == anyService {
			return Entry{}, fmt.Errorf("user - (no user) needs a service, not *")
		}
		user = ""
	} else if !takesUser(service) && service != anyService {
		return Entry{}, fmt.Errorf("service %s takes no user name: write - as the user", service)
	}
	if strings.HasPrefix(pw, `"`) {
		unq, err := strconv.Unquote(pw)
		if err != nil {
			return Entry{}, fmt.Errorf("user %q: the quoted password is not a valid double-quoted string", user)
		}
		pw = unq
	}
	if strings.ContainsAny(pw, "\x00\r\n") {
		return Entry{}, fmt.Errorf("user %q: the password contains a NUL or line break", user)
	}
	if service == "vnc" && len(pw) > 8 {
		return Entry{}, fmt.Errorf("service vnc: a VNC password has at most 8 characters")
	}
	return Entry{Service: service, User: user, Password: pw}, nil
}

// cutField splits the first space- or tab-separated field from the rest.
func cutField(s string) (field, rest string, ok bool) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, "", false
	}
	rest = strings.TrimLeft(s[i:], " \t")
	return s[:i], rest, rest != ""
}

func isService(s string) bool {
	for _, v := range Services {
		if v == s {
			return true
		}
	}
	return false
}

// candidates are the entries tried against one service: the admin's first (they
// know their organisation's defaults), then the built-in ones, at most limit.
func candidates(service string, admin []Entry, limit int) []Entry {
	var out []Entry
	for _, e := range admin {
		if e.Service == service || (e.Service == anyService && takesUser(service)) {
			e.Service = service
			out = append(out, e)
		}
	}
	out = append(out, Builtin(service)...)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
