package handlers

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/requests"
)

func (s *Server) assetPage(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := actor(r)
	asset, err := s.app.Inventory.GetAsset(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.AssetDetail{Asset: assetRow(*asset)}
	register, err := s.app.Requests.RuleRegister(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type approval struct {
		proto string
		ports string
		req   uint
	}
	var approvals []approval
	for _, e := range register {
		if !containsAddress(e.Rule.Destination, asset) {
			continue
		}
		approvals = append(approvals, approval{e.Rule.Protocol, e.Rule.Ports, e.Request.ID})
		v.Rules = append(v.Rules, web.RegisterRow{RequestID: e.Request.ID, Href: fmt.Sprintf("/requests/%d", e.Request.ID), Source: e.Rule.Source,
			Protocol: e.Rule.Protocol, Ports: e.Rule.Ports, Service: e.Rule.Service, State: e.Request.State, StateLabel: requests.State(e.Request.State).Label()})
	}
	if a.SeesAllRequests() {
		if run, host := s.app.Scans.LatestOf(r.Context(), asset.Address); run != nil {
			v.LastScan, v.ScanHref = fmtTimePtr(run.FinishedAt), fmt.Sprintf("/scans/%d", run.ID)
			for _, p := range host.Ports {
				lp := web.LivePort{Port: fmt.Sprintf("%s/%d", p.Protocol, p.Port), State: p.State, Service: p.Service, Banner: p.Banner, Approval: "not approved"}
				for _, ap := range approvals {
					if ap.proto == p.Protocol && portIn(ap.ports, p.Port) {
						lp.Approved, lp.Approval = true, fmt.Sprintf("approved by #%d", ap.req)
					}
				}
				var ids []string
				for _, f := range p.Findings {
					ids = append(ids, f.ID)
				}
				lp.Findings = strings.Join(ids, ", ")
				v.Live = append(v.Live, lp)
			}
		}
		items, _ := s.app.Drift.List(r.Context(), a, drift.Filter{Address: asset.Address, States: []string{drift.Open, drift.Acknowledged}})
		for _, d := range items {
			v.Drift = append(v.Drift, driftRow(d, a))
		}
	}
	sort.Slice(v.Live, func(i, j int) bool { return v.Live[i].Port < v.Live[j].Port })
	s.render(w, r, http.StatusOK, web.AssetPage(s.page(r, asset.Address), v))
}

func containsAddress(destination string, asset *models.Asset) bool {
	for _, d := range strings.Split(destination, ",") {
		if d == asset.Address || (asset.Zone != nil && strings.EqualFold(d, asset.Zone.Name)) {
			return true
		}
	}
	return false
}

func portIn(spec string, port uint16) bool {
	for _, part := range strings.Split(spec, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if isRange {
			b, _ = strconv.Atoi(hi)
		}
		if int(port) >= a && int(port) <= b {
			return true
		}
	}
	return false
}
