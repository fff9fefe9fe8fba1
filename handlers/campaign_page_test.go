package handlers

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The campaign page's openings show their rules, and each team's row its
// share done as a number, not only as a bar (which readers of the table,
// screen readers and print see as an empty cell).
func TestCampaignPageShowsRulesAndDone(t *testing.T) {
	a := newApp(t)
	lee, err := a.svc.Identity.AuthenticateToken(context.Background(), a.tokens[email("lee")])
	if err != nil {
		t.Fatal(err)
	}
	// Due after the demo's openings expire, so every one of them is in it.
	camp, n, err := a.svc.Recert.StartCampaign(context.Background(), lee, "Q1 review", time.Now().AddDate(0, 4, 0))
	if err != nil || n == 0 {
		t.Fatalf("campaign: %v, %d items", err, n)
	}
	page := a.body(a.get(a.as("lee"), fmt.Sprintf("/recertification/campaigns/%d", camp.ID)))
	rules := regexp.MustCompile(`<td class="mono" translate="no">([^<]*)</td>`).FindAllStringSubmatch(page, -1)
	if len(rules) == 0 {
		t.Fatalf("no openings listed:\n%s", page)
	}
	for _, m := range rules {
		if !regexp.MustCompile(`^(tcp|udp)/\d`).MatchString(m[1]) {
			t.Errorf("an opening's rules cell reads %q, want its protocol/ports", m[1])
		}
	}
	teams := page[strings.Index(page, "<tbody>"):]
	teams = teams[:strings.Index(teams, "</tbody>")]
	if !regexp.MustCompile(`</progress>\s*\d+%</td>`).MatchString(teams) {
		t.Errorf("the teams' Done cells show no figure:\n%s", teams)
	}
}
