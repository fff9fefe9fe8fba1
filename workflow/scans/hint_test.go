package scans_test

import (
	"slices"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func TestHintForARequestedPort(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	workflowtest.Must(t, w.App.DB().Model(&models.Asset{}).Where("address = ?", "10.40.0.15").Update("owner_team", "sales").Error)
	w.App.Scans.SetScanner(&workflowtest.FakeScanner{Open: map[string][]scans.Port{
		"10.40.0.15": {
			{Port: 22, Protocol: "tcp", State: "open", Service: "ssh"},
			{Port: 8443, Protocol: "tcp", State: "open", Service: "http", TLS: true},
		},
	}}, scans.Policy{})
	run := scanNow(t, w, "10.40.0.15")
	ports := func(ps []scans.Port) []uint16 {
		var out []uint16
		for _, p := range ps {
			out = append(out, p.Port)
		}
		return out
	}
	cases := []struct {
		name              string
		who               core.Actor
		ports, service    string
		answering, silent []string
		elsewhere         []uint16
		full              bool
	}{
		{"a requester sees only the service they named elsewhere", w.Alice, "443", "https", nil, []string{"tcp/443"}, []uint16{8443}, false},
		{"naming no service shows nothing elsewhere", w.Alice, "443", "", nil, []string{"tcp/443"}, nil, false},
		{"the owner team sees every open port", w.Bob, "443", "https", nil, []string{"tcp/443"}, []uint16{22, 8443}, true},
		{"security sees every open port", w.Rita, "80,443", "http", nil, []string{"tcp/80", "tcp/443"}, []uint16{22, 8443}, true},
		{"the right port answers", w.Alice, "8443", "https", []string{"tcp/8443"}, nil, nil, false},
		{"a range answers if any port in it does", w.Alice, "8000-9000", "https", []string{"tcp/8000-9000"}, nil, nil, false},
	}
	for _, c := range cases {
		h, err := w.App.Scans.HintFor(w.Ctx, c.who, "10.40.0.15", "tcp", c.ports, c.service)
		workflowtest.Must(t, err)
		if h == nil || h.RunID != run.ID || !slices.Equal(h.Answering, c.answering) || !slices.Equal(h.Silent, c.silent) ||
			!slices.Equal(ports(h.Elsewhere), c.elsewhere) || h.Full != c.full {
			t.Errorf("%s: %+v", c.name, h)
		}
	}
	if h, err := w.App.Scans.HintFor(w.Ctx, w.Alice, "10.40.0.16", "tcp", "443", "https"); err != nil || h != nil {
		t.Errorf("a host no scan recorded: %+v, %v", h, err)
	}
	if h, err := w.App.Scans.HintFor(w.Ctx, w.Alice, "10.40.0.15", "tcp", "not-a-port", "https"); err != nil || h != nil {
		t.Errorf("bad ports: %+v, %v", h, err)
	}
}
