package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/policy"
)

func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	zones, err := s.app.Inventory.Zones(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	perZone, err := s.app.Inventory.AssetCountsByZone(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.Zones{CanEdit: actor(r).Has(core.RoleAdmin)}
	for _, z := range zones {
		v.Rows = append(v.Rows, web.ZoneRow{ID: z.ID, Name: z.Name, Classification: z.Classification, CIDRs: z.CIDRs, Owner: z.Owner, Description: z.Description, Assets: perZone[z.ID], CheckCredentials: z.CheckCredentials})
	}
	s.render(w, r, http.StatusOK, web.ZonesPage(s.page(r, locale.T(r.Context(), "zones.title")), v))
}

func zoneForm(v web.ZoneForm) web.ZoneForm {
	for _, c := range inventory.AllClassifications {
		v.Classifications = append(v.Classifications, web.Option{Value: string(c), Label: string(c), Selected: string(c) == v.Classification})
	}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	return v
}

func (s *Server) newZoneForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, web.ZoneFormPage(s.page(r, locale.T(r.Context(), "zone_form.title_new")), zoneForm(web.ZoneForm{Action: "/zones", Classification: "low"})))
}

func (s *Server) editZoneForm(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	z, err := s.app.Inventory.GetZone(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.ZoneForm{Action: fmt.Sprintf("/zones/%d", id), Editing: true, ID: id, Name: z.Name, Classification: z.Classification, CIDRs: z.CIDRs, Owner: z.Owner, Description: z.Description, CheckCredentials: z.CheckCredentials}
	s.render(w, r, http.StatusOK, web.ZoneFormPage(s.page(r, locale.T(r.Context(), "zone_form.title_edit")), zoneForm(v)))
}

func (s *Server) saveZone(w http.ResponseWriter, r *http.Request, id uint) {
	in := inventory.ZoneInput{Name: r.PostFormValue("name"), Classification: r.PostFormValue("classification"), CIDRs: r.PostFormValue("cidrs"), Owner: r.PostFormValue("owner"), Description: r.PostFormValue("description"),
		CheckCredentials: r.PostFormValue("check_credentials") == "on"}
	z, err := s.app.Inventory.SaveZone(r.Context(), actor(r), id, in)
	if err != nil {
		if statusOf(err) != http.StatusBadRequest {
			s.fail(w, r, err)
			return
		}
		v := web.ZoneForm{Action: "/zones", Editing: id != 0, ID: id, Name: in.Name, Classification: in.Classification, CIDRs: in.CIDRs, Owner: in.Owner, Description: in.Description, CheckCredentials: in.CheckCredentials, Errors: fieldErrors(r.Context(), err)}
		if id != 0 {
			v.Action = fmt.Sprintf("/zones/%d", id)
		}
		s.render(w, r, http.StatusBadRequest, web.ZoneFormPage(s.page(r, locale.T(r.Context(), "zones.title")), zoneForm(v)))
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "zones.saved", "Name", z.Name))
	s.redirect(w, r, "/zones")
}

func (s *Server) createZone(w http.ResponseWriter, r *http.Request) { s.saveZone(w, r, 0) }

func (s *Server) updateZone(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.saveZone(w, r, id)
}

func (s *Server) deleteZone(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.app.Inventory.DeleteZone(r.Context(), actor(r), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "zones.deleted"))
	s.redirect(w, r, "/zones")
}

func assetRow(a models.Asset, tiers map[string]policy.Tier) web.AssetRow {
	row := web.AssetRow{ID: a.ID, Address: a.Address, Hostname: a.Hostname, OwnerTeam: a.OwnerTeam, Application: a.Application}
	if a.Application != "" {
		row.Tier = string(inventory.TierOf(tiers, a.Application))
	}
	if a.Zone != nil {
		row.Zone, row.Classification = a.Zone.Name, a.Zone.Classification
	}
	return row
}

// assetsPage is a page of the asset list with the tiers of its
// applications, as the page and the API show them.
func (s *Server) assetsPage(ctx context.Context, page paging.Request[inventory.AssetKey]) (paging.Page[models.Asset], map[string]policy.Tier, error) {
	assets, err := s.app.Inventory.ListAssetsPage(ctx, page)
	if err != nil {
		return assets, nil, err
	}
	tiers, err := s.app.Inventory.Tiers(ctx)
	return assets, tiers, err
}

func (s *Server) listAssets(w http.ResponseWriter, r *http.Request) {
	s.keptList(w, r, "assets", locale.T(r.Context(), "assets.title"), inventoryLists, func() (templ.Component, error) {
		page, err := cursorPage[inventory.AssetKey](r)
		if err != nil {
			return nil, err
		}
		assets, tiers, err := s.assetsPage(r.Context(), page)
		if err != nil {
			return nil, err
		}
		v := web.Assets{CanEdit: actor(r).Has(core.RoleAdmin), Links: pageLinks(r, "cursor", assets.Next)}
		for _, a := range assets.Items {
			v.Rows = append(v.Rows, assetRow(a, tiers))
		}
		return web.AssetsContent(v), nil
	})
}

func (s *Server) newAssetForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, web.AssetFormPage(s.page(r, locale.T(r.Context(), "asset_form.title_new")), web.AssetForm{Action: "/assets", Errors: map[string]string{}}))
}

func (s *Server) editAssetForm(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.app.Inventory.GetAsset(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.AssetForm{Action: fmt.Sprintf("/assets/%d", id), Editing: true, ID: id, Address: a.Address, Hostname: a.Hostname, OwnerTeam: a.OwnerTeam, Application: a.Application, PublicAddress: a.PublicAddress, Errors: map[string]string{}}
	s.render(w, r, http.StatusOK, web.AssetFormPage(s.page(r, locale.T(r.Context(), "asset_form.title_edit")), v))
}

func (s *Server) saveAsset(w http.ResponseWriter, r *http.Request, id uint) {
	in := inventory.AssetInput{Address: r.PostFormValue("address"), Hostname: r.PostFormValue("hostname"), OwnerTeam: r.PostFormValue("owner_team"), Application: r.PostFormValue("application"), PublicAddress: r.PostFormValue("public_address")}
	a, err := s.app.Inventory.SaveAsset(r.Context(), actor(r), id, in)
	if err != nil {
		if statusOf(err) != http.StatusBadRequest {
			s.fail(w, r, err)
			return
		}
		v := web.AssetForm{Action: "/assets", Editing: id != 0, ID: id, Address: in.Address, Hostname: in.Hostname, OwnerTeam: in.OwnerTeam, Application: in.Application, PublicAddress: in.PublicAddress, Errors: fieldErrors(r.Context(), err)}
		if id != 0 {
			v.Action = fmt.Sprintf("/assets/%d", id)
		}
		s.render(w, r, http.StatusBadRequest, web.AssetFormPage(s.page(r, locale.T(r.Context(), "assets.title")), v))
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "assets.saved", "Address", a.Address))
	s.redirect(w, r, "/assets")
}

func (s *Server) createAsset(w http.ResponseWriter, r *http.Request) { s.saveAsset(w, r, 0) }

func (s *Server) updateAsset(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.saveAsset(w, r, id)
}

func (s *Server) deleteAsset(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.app.Inventory.DeleteAsset(r.Context(), actor(r), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "assets.deleted"))
	s.redirect(w, r, "/assets")
}

func (s *Server) importAssetsForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, web.AssetImportPage(s.page(r, locale.T(r.Context(), "asset_import.title")), web.AssetImport{}))
}

// maxUpload bounds a CSV upload.
const maxUpload = 10 << 20

func (s *Server) importAssets(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	file, _, err := r.FormFile("file")
	if err != nil {
		s.render(w, r, http.StatusBadRequest, web.AssetImportPage(s.page(r, locale.T(r.Context(), "asset_import.title")), web.AssetImport{Error: locale.T(r.Context(), "asset_import.choose_file")}))
		return
	}
	defer file.Close()
	created, updated, err := s.app.Inventory.ImportAssets(r.Context(), actor(r), file)
	if err != nil {
		var ie *inventory.ImportError
		v := web.AssetImport{}
		switch {
		case errors.As(err, &ie):
			for _, l := range importLines(r.Context(), ie.Lines) {
				v.Lines = append(v.Lines, web.ImportLine{Line: l.Line, Field: l.Field, Message: l.Message})
			}
		case statusOf(err) == http.StatusBadRequest:
			v.Error, _ = publicMessage(r.Context(), err)
		default:
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusBadRequest, web.AssetImportPage(s.page(r, locale.T(r.Context(), "asset_import.title")), v))
		return
	}
	s.render(w, r, http.StatusOK, web.AssetImportPage(s.page(r, locale.T(r.Context(), "asset_import.title")), web.AssetImport{Summary: locale.T(r.Context(), "asset_import.imported", "New", locale.Number(r.Context(), created), "Updated", locale.Number(r.Context(), updated))}))
}
