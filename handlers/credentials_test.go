package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/credentials"
)

func TestZoneCredentialSwitchAndTheWriteOnlyList(t *testing.T) {
	a := newApp(t)
	key, err := credentials.KeyFrom([]byte("an audit signing key for the test"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.svc.Credentials.SetKey(key); err != nil {
		t.Fatal(err)
	}
	// Three fields a line, as the scanner's parser wants (cmd wires the real one).
	a.svc.Credentials.SetParser(func(text string) (int, error) {
		n := 0
		for i, line := range strings.Split(text, "\n") {
			if f := strings.Fields(line); len(f) > 0 && len(f) < 3 {
				return 0, fmt.Errorf("credentials list line %d: want SERVICE USER PASSWORD", i+1)
			} else if len(f) > 0 {
				n++
			}
		}
		return n, nil
	})
	adam := a.as("adam")

	var z models.Zone
	if err := a.svc.DB().Where("name <> ?", "internet").First(&z).Error; err != nil {
		t.Fatal(err)
	}
	edit := a.body(a.get(adam, fmt.Sprintf("/zones/%d/edit", z.ID)))
	if !strings.Contains(edit, `name="check_credentials"`) || !strings.Contains(edit, `href="/admin/credentials"`) {
		t.Fatal("the zone form has no credential-check switch")
	}
	form := url.Values{"name": {z.Name}, "classification": {z.Classification}, "cidrs": {z.CIDRs}, "owner": {z.Owner},
		"description": {z.Description}, "check_credentials": {"on"}}
	if resp := a.post(adam, fmt.Sprintf("/zones/%d", z.ID), form); resp.StatusCode >= 400 {
		t.Fatalf("saving the zone: %d %s", resp.StatusCode, a.body(resp))
	}
	var saved models.Zone
	a.svc.DB().First(&saved, z.ID)
	if !saved.CheckCredentials {
		t.Fatal("the switch did not reach the zone")
	}
	if page := a.body(a.get(adam, "/zones")); !strings.Contains(page, "Scans try default credentials") {
		t.Error("the zone list does not say the checks are on")
	}

	const secret = "Corp-Secret-8812"
	resp := a.post(adam, "/admin/credentials", url.Values{"list": {"redis - " + secret + "\nssh root\n"}})
	body := a.body(resp)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "line 2") || strings.Contains(body, secret) {
		t.Fatalf("a bad list: %d; want 400 naming line 2 and not echoing the list", resp.StatusCode)
	}
	if resp := a.post(adam, "/admin/credentials", url.Values{"list": {"redis - " + secret + "\nssh root " + secret + "\n"}}); resp.StatusCode >= 400 {
		t.Fatalf("saving the list: %d", resp.StatusCode)
	}
	page := a.body(a.get(adam, "/admin/credentials"))
	if !strings.Contains(page, "A list of 2 entries is stored") || strings.Contains(page, secret) {
		t.Errorf("the list page: want the count and never the passwords")
	}
	if st := a.get(a.as("rita"), "/admin/credentials").StatusCode; st != http.StatusForbidden {
		t.Errorf("a reviewer reads the list page: %d", st)
	}
}
