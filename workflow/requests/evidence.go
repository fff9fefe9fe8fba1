package requests

// Evidence is what a verification saw on one approved port.
type Evidence struct {
	Rule     int      `json:"rule"`
	Address  string   `json:"address"`
	Protocol string   `json:"protocol"`
	Port     uint16   `json:"port"`
	State    string   `json:"state"`
	Service  string   `json:"service"`
	TLS      bool     `json:"tls"`
	Banner   string   `json:"banner"`
	Weak     []string `json:"weak,omitempty"`
	Verdict  string   `json:"verdict"` // "as approved", or what is wrong
	OK       bool     `json:"ok"`
}
