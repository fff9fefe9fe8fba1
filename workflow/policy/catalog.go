package policy

import (
	"cmp"
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Category is the kind of a service.
type Category string

const (
	CategoryWeb                  Category = "web"
	CategoryApplication          Category = "application"
	CategoryTransfer             Category = "transfer"
	CategoryCommunication        Category = "communication"
	CategoryRemoteAdministration Category = "remote-administration"
	CategoryDatabase             Category = "database"
	CategoryInfrastructure       Category = "infrastructure"
	CategoryEncryption           Category = "encryption"
)

var categories = []Category{CategoryWeb, CategoryApplication, CategoryTransfer, CategoryCommunication,
	CategoryRemoteAdministration, CategoryDatabase, CategoryInfrastructure, CategoryEncryption}

// Risk is how much harm a service does when it is exposed where it should not
// be. High-risk services never face the internet.
type Risk string

const (
	RiskStandard Risk = "standard"
	RiskElevated Risk = "elevated"
	RiskHigh     Risk = "high"
)

var risks = []Risk{RiskStandard, RiskElevated, RiskHigh}

// Service is one entry of the port catalog.
type Service struct {
	// Name is the lowercase word requests and the scanner use ("ssh").
	Name  string `json:"name" yaml:"name"`
	Title string `json:"title" yaml:"title"`
	// Aliases are other names for the same service ("sftp" for ssh).
	Aliases   []string   `json:"aliases,omitempty" yaml:"aliases,flow,omitempty"`
	Ports     PortSet    `json:"ports" yaml:"ports"`
	Protocols []Protocol `json:"protocols" yaml:"protocols,flow"`
	Category  Category   `json:"category" yaml:"category"`
	Risk      Risk       `json:"risk" yaml:"risk"`
	// Cleartext services carry credentials or data unencrypted;
	// SecureAlternative then says what to use instead.
	Cleartext         bool   `json:"cleartext" yaml:"cleartext"`
	SecureAlternative string `json:"secure_alternative,omitempty" yaml:"secure_alternative,omitempty"`
	// TLSOf names the cleartext service this one wraps in TLS (https wraps
	// http). A rule asking for "http" on 443 is judged as https, because the
	// scanner names HTTPS "http" with tls set.
	TLSOf string `json:"tls_of,omitempty" yaml:"tls_of,omitempty"`
	// AuthCapable services can run without authentication and must have it on.
	AuthCapable bool `json:"auth_capable" yaml:"auth_capable"`
	// Amplifies: over UDP the service answers with much more than it is
	// asked, which makes it a reflector.
	Amplifies bool `json:"amplifies" yaml:"amplifies"`
	// WhitelistRequired services answer only named devices.
	WhitelistRequired bool `json:"whitelist_required" yaml:"whitelist_required"`
	// Controls are baseline checklist items every opening of the service needs.
	Controls []string `json:"controls,omitempty" yaml:"controls,omitempty"`
	Notes    string   `json:"notes,omitempty" yaml:"notes,omitempty"`
	// Texts are the entry's words in other languages, by language tag
	// (CatalogLanguages): the catalog file's optional "zh-CN:" block. A
	// word not given there reads as the English above.
	Texts map[string]ServiceText `json:"-" yaml:"-"`
	// Line is where the entry starts in the catalog file, 0 when it did not
	// come from one.
	Line int `json:"-" yaml:"-"`
}

// ServiceText is a catalog entry's words in one other language.
type ServiceText struct {
	SecureAlternative string
	// Controls are the entry's controls in the same order; "" where one
	// is not given.
	Controls []string
}

// CatalogLanguages are the languages a catalog entry may give its words
// in besides English, each as a block named by its tag.
var CatalogLanguages = []string{"zh-CN"}

// AlternativeTexts is the secure alternative in each language the entry
// gives it in, nil when none.
func (s *Service) AlternativeTexts() map[string]string {
	var out map[string]string
	for lang, t := range s.Texts {
		if t.SecureAlternative != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[lang] = t.SecureAlternative
		}
	}
	return out
}

// ControlTexts is control i in each language the entry gives it in, nil
// when none.
func (s *Service) ControlTexts(i int) map[string]string {
	var out map[string]string
	for lang, t := range s.Texts {
		if i < len(t.Controls) && t.Controls[i] != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[lang] = t.Controls[i]
		}
	}
	return out
}

// hasProtocol reports whether the service runs over p.
func (s *Service) hasProtocol(p Protocol) bool { return slices.Contains(s.Protocols, p) }

// CatalogError is a catalog entry that cannot be accepted.
type CatalogError struct {
	File    string // "catalog.yaml", or empty when the entries came from elsewhere
	Line    int    // 0 when unknown
	Service string // the entry's name, when it has one
	Message string
}

func (e *CatalogError) Error() string {
	var b strings.Builder
	b.WriteString(cmp.Or(e.File, "catalog"))
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	b.WriteString(": ")
	if e.Service != "" {
		fmt.Fprintf(&b, "service %q: ", e.Service)
	}
	b.WriteString(e.Message)
	return b.String()
}

// Catalog is a validated port catalog. It is immutable once built and safe
// for concurrent use.
type Catalog struct {
	services []Service
	byName   map[string]int // names and aliases → index in services
	// claims per protocol, sorted by port: which service owns which ports.
	// Claims never overlap, which is what makes the lookup by port exact.
	claims      map[Protocol][]portClaim
	tlsVariants map[int][]int // cleartext service → its TLS-wrapped variants
}

type portClaim struct {
	ports   PortRange
	service int
}

//go:embed catalog.yaml
var catalogYAML []byte

// CatalogYAML returns the catalog file shipped with Portcullis, the seed of
// the database's catalog.
func CatalogYAML() []byte { return slices.Clone(catalogYAML) }

var defaultCatalog = sync.OnceValue(func() *Catalog {
	c, err := loadCatalog(catalogYAML)
	if err != nil {
		panic("policy: the embedded catalog.yaml is invalid: " + err.Error())
	}
	return c
})

// DefaultCatalog returns the catalog shipped with Portcullis.
func DefaultCatalog() *Catalog { return defaultCatalog() }

// catalogFile is the name LoadCatalog's errors give the document.
const catalogFile = "catalog.yaml"

// LoadCatalog reads a catalog document (a "services" list, as in the shipped
// catalog.yaml) and validates it. Errors name the line:
// `catalog.yaml line 214: service "mysql": unknown category "databse"`.
//
// An entry that gives no text in another language for a secure
// alternative or a control worded exactly as the shipped catalog words one
// takes the shipped translation: a catalog stored before entries carried
// their translations, or an admin's entry reusing shipped words, reads in
// every language; words an admin changed read as written.
func LoadCatalog(data []byte) (*Catalog, error) {
	c, err := loadCatalog(data)
	if err != nil {
		return nil, err
	}
	c.takeShippedTexts()
	return c, nil
}

func loadCatalog(data []byte) (*Catalog, error) {
	fail := func(line int, service, format string, args ...any) error {
		return &CatalogError{File: catalogFile, Line: line, Service: service, Message: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := yamlErrorLine(err)
		return nil, &CatalogError{File: catalogFile, Line: line, Message: msg}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fail(0, "", "the catalog is empty: expected a \"services\" list")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fail(root.Line, "", "expected a mapping with a \"services\" list")
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, value := root.Content[i], root.Content[i+1]
		if key.Value != "services" {
			return nil, fail(key.Line, "", "unknown key %q: the catalog has only \"services\"", key.Value)
		}
		if list != nil {
			return nil, fail(key.Line, "", "\"services\" is given twice")
		}
		if value.Kind != yaml.SequenceNode {
			return nil, fail(value.Line, "", "\"services\" must be a list of service entries")
		}
		list = value
	}
	if list == nil {
		return nil, fail(root.Line, "", "no \"services\" list")
	}
	services := make([]Service, 0, len(list.Content))
	lines := make([]map[string]int, 0, len(list.Content))
	for _, node := range list.Content {
		s, fieldLines, err := decodeService(node)
		if err != nil {
			return nil, err
		}
		services = append(services, s)
		lines = append(lines, fieldLines)
	}
	return buildCatalog(services, lines, catalogFile)
}

// NewCatalog validates entries that come from somewhere other than a catalog
// file (the database, an admin's edit) and builds a catalog from them.
func NewCatalog(services []Service) (*Catalog, error) {
	own := make([]Service, len(services))
	for i, s := range services {
		own[i] = cloneService(s)
	}
	c, err := buildCatalog(own, nil, "")
	if err != nil {
		return nil, err
	}
	c.takeShippedTexts()
	return c, nil
}

// shippedTexts maps each secure alternative and control of the shipped
// catalog, as worded in English, to its words in the other languages.
var shippedTexts = sync.OnceValue(func() map[string]map[string]string {
	out := map[string]map[string]string{}
	put := func(english string, texts map[string]string) {
		if english == "" || texts == nil {
			return
		}
		if out[english] == nil {
			out[english] = map[string]string{}
		}
		for lang, t := range texts {
			if _, ok := out[english][lang]; !ok {
				out[english][lang] = t
			}
		}
	}
	for i := range defaultCatalog().services {
		s := &defaultCatalog().services[i]
		put(s.SecureAlternative, s.AlternativeTexts())
		for k, c := range s.Controls {
			put(c, s.ControlTexts(k))
		}
	}
	return out
})

// ShippedTexts is english, a secure alternative or a control as the
// shipped catalog words it, in each other language it is given in; nil for
// words the shipped catalog does not have (findings recorded before they
// kept their controls' translations fall back on it).
func ShippedTexts(english string) map[string]string {
	return maps.Clone(shippedTexts()[english])
}

// takeShippedTexts gives each word without a translation the shipped
// catalog's, where the English is the same.
func (c *Catalog) takeShippedTexts() {
	shipped := shippedTexts()
	for i := range c.services {
		s := &c.services[i]
		for _, lang := range CatalogLanguages {
			t := s.Texts[lang]
			changed := false
			if t.SecureAlternative == "" {
				if w := shipped[s.SecureAlternative][lang]; w != "" {
					t.SecureAlternative, changed = w, true
				}
			}
			for k, en := range s.Controls {
				if k < len(t.Controls) && t.Controls[k] != "" {
					continue
				}
				if w := shipped[en][lang]; w != "" {
					if len(t.Controls) < len(s.Controls) {
						t.Controls = append(slices.Clone(t.Controls), make([]string, len(s.Controls)-len(t.Controls))...)
					}
					t.Controls[k], changed = w, true
				}
			}
			if changed {
				if s.Texts == nil {
					s.Texts = map[string]ServiceText{}
				}
				s.Texts[lang] = t
			}
		}
	}
}

func cloneService(s Service) Service {
	s.Aliases = slices.Clone(s.Aliases)
	s.Ports = slices.Clone(s.Ports)
	s.Protocols = slices.Clone(s.Protocols)
	s.Controls = slices.Clone(s.Controls)
	if s.Texts != nil {
		texts := make(map[string]ServiceText, len(s.Texts))
		for lang, t := range s.Texts {
			t.Controls = slices.Clone(t.Controls)
			texts[lang] = t
		}
		s.Texts = texts
	}
	return s
}

// decodeService reads one entry field by field, so that each error can name
// the line of the offending value.
func decodeService(node *yaml.Node) (Service, map[string]int, error) {
	s := Service{Line: node.Line}
	fail := func(line int, format string, args ...any) error {
		return &CatalogError{File: catalogFile, Line: line, Service: s.Name, Message: fmt.Sprintf(format, args...)}
	}
	if node.Kind != yaml.MappingNode {
		return s, nil, fail(node.Line, "a service entry must be a mapping of fields (name, ports, protocols, …)")
	}
	lines := map[string]int{}
	// The name first, so that errors about earlier fields can name the entry.
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == "name" && node.Content[i+1].Kind == yaml.ScalarNode {
			s.Name = strings.TrimSpace(node.Content[i+1].Value)
		}
	}
	scalar := func(key, value *yaml.Node) (string, error) {
		if value.Kind != yaml.ScalarNode {
			return "", fail(value.Line, "%s must be a single value", key.Value)
		}
		return strings.TrimSpace(value.Value), nil
	}
	words := func(key, value *yaml.Node) ([]string, error) {
		if value.Kind == yaml.ScalarNode {
			return []string{strings.TrimSpace(value.Value)}, nil
		}
		if value.Kind != yaml.SequenceNode {
			return nil, fail(value.Line, "%s must be a list", key.Value)
		}
		out := make([]string, 0, len(value.Content))
		for _, item := range value.Content {
			if item.Kind != yaml.ScalarNode {
				return nil, fail(item.Line, "%s must be a list of single values", key.Value)
			}
			out = append(out, strings.TrimSpace(item.Value))
		}
		return out, nil
	}
	flag := func(key, value *yaml.Node) (bool, error) {
		var b bool
		if value.Kind != yaml.ScalarNode || value.Decode(&b) != nil {
			return false, fail(value.Line, "%s must be true or false, not %q", key.Value, value.Value)
		}
		return b, nil
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		if _, seen := lines[key.Value]; seen {
			return s, nil, fail(key.Line, "field %q is given twice", key.Value)
		}
		lines[key.Value] = value.Line
		var err error
		var text string
		switch key.Value {
		case "name", "title", "category", "risk", "secure_alternative", "tls_of", "notes", "ports":
			if text, err = scalar(key, value); err != nil {
				return s, nil, err
			}
		}
		switch key.Value {
		case "name":
			s.Name = text
		case "title":
			s.Title = text
		case "category":
			s.Category = Category(text)
		case "risk":
			s.Risk = Risk(text)
		case "secure_alternative":
			s.SecureAlternative = text
		case "tls_of":
			s.TLSOf = text
		case "notes":
			s.Notes = text
		case "ports":
			if s.Ports, err = ParsePorts(text); err != nil {
				return s, nil, fail(value.Line, "%v", err)
			}
		case "protocols":
			var ws []string
			if ws, err = words(key, value); err == nil {
				s.Protocols = make([]Protocol, len(ws))
				for j, w := range ws {
					s.Protocols[j] = Protocol(w)
				}
			}
		case "aliases":
			s.Aliases, err = words(key, value)
		case "controls":
			s.Controls, err = words(key, value)
		case "cleartext":
			s.Cleartext, err = flag(key, value)
		case "auth_capable":
			s.AuthCapable, err = flag(key, value)
		case "amplifies":
			s.Amplifies, err = flag(key, value)
		case "whitelist_required":
			s.WhitelistRequired, err = flag(key, value)
		default:
			if !slices.Contains(CatalogLanguages, key.Value) {
				return s, nil, fail(key.Line, "unknown field %q (fields are name, title, aliases, ports, protocols, category, risk, cleartext, secure_alternative, tls_of, auth_capable, amplifies, whitelist_required, controls, notes, and %s for the entry's words in that language)", key.Value, strings.Join(CatalogLanguages, ", "))
			}
			lines[key.Value] = key.Line // errors about the block name its start
			var t ServiceText
			if t, err = decodeServiceText(key, value, fail, scalar, words); err == nil {
				if s.Texts == nil {
					s.Texts = map[string]ServiceText{}
				}
				s.Texts[key.Value] = t
			}
		}
		if err != nil {
			return s, nil, err
		}
	}
	return s, lines, nil
}

// decodeServiceText reads an entry's block of words in one other language
// ("zh-CN:" with secure_alternative and controls).
func decodeServiceText(lang, node *yaml.Node, fail func(int, string, ...any) error,
	scalar func(key, value *yaml.Node) (string, error), words func(key, value *yaml.Node) ([]string, error)) (ServiceText, error) {
	var t ServiceText
	if node.Kind != yaml.MappingNode {
		return t, fail(node.Line, "%s must be a mapping of the entry's words in that language (secure_alternative, controls)", lang.Value)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		if seen[key.Value] {
			return t, fail(key.Line, "%s: field %q is given twice", lang.Value, key.Value)
		}
		seen[key.Value] = true
		var err error
		switch key.Value {
		case "secure_alternative":
			t.SecureAlternative, err = scalar(key, value)
		case "controls":
			t.Controls, err = words(key, value)
		default:
			return t, fail(key.Line, "%s: unknown field %q (the words given in another language are secure_alternative and controls)", lang.Value, key.Value)
		}
		if err != nil {
			return t, err
		}
	}
	return t, nil
}

// validate checks one entry on its own and returns the field at fault.
func (s *Service) validate() (field, problem string) {
	switch {
	case s.Name == "":
		return "name", "name is required"
	case !validServiceName(s.Name):
		return "name", fmt.Sprintf("name %q must be a lowercase word (letters, digits, '-')", s.Name)
	case s.Title == "":
		return "title", "title is required"
	case len(s.Ports) == 0:
		return "ports", "ports are required"
	}
	for _, a := range s.Aliases {
		if !validServiceName(a) {
			return "aliases", fmt.Sprintf("alias %q must be a lowercase word (letters, digits, '-')", a)
		}
	}
	set, ok := s.Ports.clean()
	if !ok {
		return "ports", fmt.Sprintf("ports %q include port 0 or a backwards range", s.Ports)
	}
	s.Ports = set
	if len(s.Protocols) == 0 {
		return "protocols", "protocols are required (tcp, udp or both)"
	}
	for i, p := range s.Protocols {
		if p != TCP && p != UDP {
			return "protocols", fmt.Sprintf("protocol %q is not tcp or udp", p)
		}
		if slices.Contains(s.Protocols[:i], p) {
			return "protocols", fmt.Sprintf("protocol %q is listed twice", p)
		}
	}
	if !slices.Contains(categories, s.Category) {
		return "category", fmt.Sprintf("unknown category %q (categories are web, application, transfer, communication, remote-administration, database, infrastructure, encryption)", s.Category)
	}
	if !slices.Contains(risks, s.Risk) {
		return "risk", fmt.Sprintf("unknown risk %q (risks are standard, elevated, high)", s.Risk)
	}
	if s.Cleartext && s.SecureAlternative == "" {
		return "secure_alternative", "a cleartext service needs a secure_alternative"
	}
	if s.TLSOf == s.Name {
		return "tls_of", "tls_of names the service itself"
	}
	for _, lang := range CatalogLanguages {
		t, ok := s.Texts[lang]
		if !ok {
			continue
		}
		if t.SecureAlternative != "" && s.SecureAlternative == "" {
			return lang, fmt.Sprintf("%s gives a secure_alternative, but the entry has none in English", lang)
		}
		if len(t.Controls) > 0 && len(t.Controls) != len(s.Controls) {
			return lang, fmt.Sprintf("%s gives %d controls for the entry's %d: give each control in the same order", lang, len(t.Controls), len(s.Controls))
		}
	}
	return "", ""
}

func validServiceName(s string) bool {
	if s == "" || len(s) > 40 || !(s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// buildCatalog validates every entry and the entries against each other:
// no name or alias twice, no port claimed by two services, tls_of naming an
// entry. lines (per entry, field → line) may be nil.
func buildCatalog(services []Service, lines []map[string]int, file string) (*Catalog, error) {
	lineOf := func(i int, field string) int {
		if lines != nil {
			if l, ok := lines[i][field]; ok {
				return l
			}
		}
		return services[i].Line
	}
	fail := func(i int, field, format string, args ...any) error {
		return &CatalogError{File: file, Line: lineOf(i, field), Service: services[i].Name, Message: fmt.Sprintf(format, args...)}
	}
	where := func(i int) string {
		if l := services[i].Line; l > 0 {
			return fmt.Sprintf("%q (line %d)", services[i].Name, l)
		}
		return fmt.Sprintf("%q", services[i].Name)
	}
	if len(services) == 0 {
		return nil, &CatalogError{File: file, Message: "the catalog has no services"}
	}
	c := &Catalog{
		services:    services,
		byName:      make(map[string]int, len(services)*2),
		claims:      map[Protocol][]portClaim{},
		tlsVariants: map[int][]int{},
	}
	for i := range services {
		s := &services[i]
		if field, problem := s.validate(); field != "" {
			return nil, fail(i, field, "%s", problem)
		}
		for _, name := range append([]string{s.Name}, s.Aliases...) {
			if j, dup := c.byName[name]; dup {
				field := "aliases"
				if name == s.Name {
					field = "name"
				}
				return nil, fail(i, field, "duplicate entry: %q is already the name or an alias of %s", name, where(j))
			}
			c.byName[name] = i
		}
		for _, p := range s.Protocols {
			for _, r := range s.Ports {
				c.claims[p] = append(c.claims[p], portClaim{r, i})
			}
		}
	}
	for p, claims := range c.claims {
		slices.SortStableFunc(claims, func(a, b portClaim) int { return cmp.Compare(a.ports.First, b.ports.First) })
		for k := 1; k < len(claims); k++ {
			prev, cur := claims[k-1], claims[k]
			if cur.ports.First <= prev.ports.Last {
				// Report on the later entry of the file, the one most likely just added.
				first, second := prev, cur
				if second.service < first.service {
					first, second = second, first
				}
				shared := PortSet{first.ports}.intersect(PortSet{second.ports})
				return nil, fail(second.service, "ports", "%s/%s is already a port of %s: a port belongs to one service", p, shared, where(first.service))
			}
		}
	}
	for i := range services {
		s := &services[i]
		if s.TLSOf == "" {
			continue
		}
		j, ok := c.byName[s.TLSOf]
		if !ok {
			return nil, fail(i, "tls_of", "tls_of names %q, which is not in the catalog", s.TLSOf)
		}
		c.tlsVariants[j] = append(c.tlsVariants[j], i)
	}
	return c, nil
}

// Len is the number of services.
func (c *Catalog) Len() int { return len(c.services) }

// Services returns copies of the entries in catalog order.
func (c *Catalog) Services() []Service {
	out := make([]Service, len(c.services))
	for i, s := range c.services {
		out[i] = cloneService(s)
	}
	return out
}

// Lookup finds a service by name or alias, in any case.
func (c *Catalog) Lookup(name string) (Service, bool) {
	i := c.index(name)
	if i < 0 {
		return Service{}, false
	}
	return cloneService(c.services[i]), true
}

func (c *Catalog) index(name string) int {
	if i, ok := c.byName[strings.ToLower(strings.TrimSpace(name))]; ok {
		return i
	}
	return -1
}

// ByPort finds the service whose standard port this is.
func (c *Catalog) ByPort(p Protocol, port uint16) (Service, bool) {
	claims := c.claims[p]
	k := firstClaimFrom(claims, port)
	if k < len(claims) && claims[k].ports.First <= port {
		return cloneService(c.services[claims[k].service]), true
	}
	return Service{}, false
}

// OnPorts returns the services whose standard ports overlap ports, in catalog
// order.
func (c *Catalog) OnPorts(p Protocol, ports PortSet) []Service {
	idx := c.onPorts(p, ports)
	out := make([]Service, len(idx))
	for k, i := range idx {
		out[k] = cloneService(c.services[i])
	}
	return out
}

// firstClaimFrom returns the first claim that ends at or after port; claims
// are disjoint and sorted, so their ends are sorted too.
func firstClaimFrom(claims []portClaim, port uint16) int {
	k, _ := slices.BinarySearchFunc(claims, port, func(pc portClaim, port uint16) int {
		return cmp.Compare(pc.ports.Last, port)
	})
	return k
}

// onPorts returns the indexes of the services on ports, sorted, without
// repeats. It costs a binary search per range of ports plus the services
// found, so a rule for 1-65535 walks the claims once.
func (c *Catalog) onPorts(p Protocol, ports PortSet) []int {
	claims := c.claims[p]
	var out []int
	for _, r := range ports {
		for k := firstClaimFrom(claims, r.First); k < len(claims) && claims[k].ports.First <= r.Last; k++ {
			out = append(out, claims[k].service)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// yamlErrorLine splits a yaml.v3 syntax error ("yaml: line 3: …") into its
// line and message, so that syntax errors read like every other error.
func yamlErrorLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if _, scanErr := fmt.Sscan(n, &line); scanErr == nil {
				return line, after
			}
		}
	}
	return 0, msg
}
