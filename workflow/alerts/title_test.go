package alerts

import (
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web/locale"
)

// TestAlertTitleInTheServersLanguage: the alert's title is in the server's
// default language; its kind, severity and ID stay machine-stable.
func TestAlertTitleInTheServersLanguage(t *testing.T) {
	for _, tc := range []struct {
		lang, kind, want string
	}{
		{"en", "open-unapproved", "open-unapproved on 10.0.0.5 tcp/8443"},
		{"zh-CN", "open-unapproved", "10.0.0.5 tcp/8443：未经批准的开放端口"},
		{"en", "tarpit", "tarpit host 10.0.0.5"},
		{"zh-CN", "tarpit", "全端口应答主机 10.0.0.5"},
	} {
		t.Run(tc.lang+" "+tc.kind, func(t *testing.T) {
			catalog, err := locale.New(tc.lang, "UTC")
			if err != nil {
				t.Fatal(err)
			}
			d := models.DriftItem{ID: 7, Kind: tc.kind, Severity: "high", Address: "10.0.0.5", Protocol: "tcp", Port: 8443}
			a := alertOf(d, nil, catalog.Localizer("", "", ""))
			if a.Title != tc.want || a.Kind != tc.kind || a.Severity != "high" || a.ID != "drift-7" {
				t.Errorf("alert %+v, want title %q", a, tc.want)
			}
		})
	}
}
