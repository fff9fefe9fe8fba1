package handlers

import (
	"net/http"
	"strings"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
)

// ruleChoices is what every rule of the request form offers: the whole
// service catalog for the picker, and examples from the user's own
// inventory (a zone and an asset of their team, when there are any).
func (s *Server) ruleChoices(r *http.Request, zones []models.Zone) (web.RuleChoices, error) {
	ctx := r.Context()
	c := web.RuleChoices{PortsExample: "443, 8000-8100", MaxParts: policy.MaxRuleParts, MaxRules: requests.MaxRules}
	p, err := s.app.Inventory.GetPolicy(ctx)
	if err != nil {
		return c, err
	}
	for _, sv := range p.Catalog.Services() {
		protos := make([]string, len(sv.Protocols))
		for i, pr := range sv.Protocols {
			protos[i] = string(pr)
		}
		c.Services = append(c.Services, web.ServiceOption{Name: sv.Name, Label: sv.Title + " — " + strings.Join(protos, "/") + " " + sv.Ports.String()})
	}
	team := actor(r).Team
	for _, z := range zones {
		if z.Classification == string(policy.Internet) || strings.TrimSpace(z.CIDRs) == "" {
			continue
		}
		if c.ZoneExample == "" || (team != "" && z.Owner == team) {
			c.ZoneExample = z.Name
			if team != "" && z.Owner == team {
				break
			}
		}
	}
	assets, err := s.app.Inventory.SuggestAssets(ctx, "", assetSuggestions)
	if err != nil {
		return c, err
	}
	for _, a := range assets {
		if c.AssetExample == "" || (team != "" && a.OwnerTeam == team) {
			c.AssetExample = a.Address
			if team != "" && a.OwnerTeam == team {
				break
			}
		}
	}
	return c, nil
}
