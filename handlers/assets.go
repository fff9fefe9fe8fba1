package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
)

// maxAssetDrift bounds the drift listed on an asset's page; the rest is a
// link to the drift list filtered on the asset.
const maxAssetDrift = 50

func (s *Server) assetPage(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := actor(r)
	// The title (the address) is kept with the page: a kept view reads no asset.
	s.keptTitled(w, r, "asset:"+strconv.FormatUint(uint64(id), 10), assetPages, func() (string, templ.Component, error) {
		asset, err := s.app.Inventory.GetAsset(r.Context(), id)
		if err != nil {
			return "", nil, err
		}
		portsReq, err := pageParams[scans.PortKey](r, "limit", "ports_cursor")
		if err != nil {
			return "", nil, err
		}
		historyReq, err := pageParams[scans.RunKey](r, "limit", "history_cursor")
		if err != nil {
			return "", nil, err
		}
		tiers, err := s.app.Inventory.Tiers(r.Context())
		if err != nil {
			return "", nil, err
		}
		v := web.AssetDetail{Asset: assetRow(*asset, tiers)}
		reaching, err := s.app.Drift.RulesOnAsset(r.Context(), asset.Address)
		if err != nil {
			return "", nil, err
		}
		for _, e := range reaching {
			v.Rules = append(v.Rules, web.RegisterRow{RequestID: e.Request.ID, Href: fmt.Sprintf("/requests/%d", e.Request.ID), Source: e.Rule.Source,
				Protocol: e.Rule.Protocol, Ports: e.Rule.Ports, Service: e.Rule.Service, State: e.Request.State, StateLabel: requests.State(e.Request.State).Label()})
		}
		if a.SeesAllRequests() {
			latest, err := s.app.Scans.LatestOf(r.Context(), asset.Address)
			if err != nil {
				return "", nil, err
			}
			if latest != nil {
				v.LastScan, v.ScanHref = locale.TimePtr(r.Context(), latest.Run.FinishedAt), fmt.Sprintf("/scans/%d", latest.Run.ID)
				ports, err := s.app.Scans.HostPorts(r.Context(), latest.Run.ID, asset.Address, portsReq)
				if err != nil {
					return "", nil, err
				}
				v.LivePages = pageLinks(r, "ports_cursor", ports.Next)
				for _, p := range ports.Items {
					lp := web.LivePort{Port: fmt.Sprintf("%s/%d", p.Protocol, p.Port), State: p.State, Service: p.Service, Banner: p.Banner}
					for _, e := range reaching {
						if e.Rule.Protocol == p.Protocol && portIn(e.Rule.Ports, p.Port) {
							lp.Approved, lp.Approval = true, strconv.FormatUint(uint64(e.Request.ID), 10)
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
			items, err := s.app.Drift.List(r.Context(), a, drift.Filter{Address: asset.Address, States: []string{drift.Open, drift.Acknowledged}, Limit: maxAssetDrift + 1})
			if err != nil {
				return "", nil, err
			}
			if len(items) > maxAssetDrift {
				items = items[:maxAssetDrift]
				v.DriftHref = "/drift?asset=" + urlQueryEscape(asset.Address)
			}
			for _, d := range items {
				v.Drift = append(v.Drift, driftRow(r.Context(), d, a))
			}
			history, err := s.app.Scans.HistoryOf(r.Context(), asset.Address, historyReq)
			if err != nil {
				return "", nil, err
			}
			v.HistoryPages = pageLinks(r, "history_cursor", history.Next)
			for _, run := range history.Items {
				v.History = append(v.History, scanRow(r.Context(), run))
			}
		}
		return asset.Address, web.AssetContent(web.Limits(core.Limits), v), nil
	})
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
