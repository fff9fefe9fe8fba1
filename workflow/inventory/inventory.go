package inventory

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/policy"
)

// Classification is a zone's sensitivity.
type Classification string

const (
	ClassInternet Classification = "internet"
	ClassDMZ      Classification = "dmz"
	ClassTransit  Classification = "transit"
	ClassLow      Classification = "low"
	ClassMedium   Classification = "medium"
	ClassHigh     Classification = "high"
)

// AllClassifications from the outside in.
var AllClassifications = []Classification{ClassInternet, ClassDMZ, ClassTransit, ClassLow, ClassMedium, ClassHigh}

// ZoneInput is what an admin enters for a zone.
type ZoneInput struct {
	Name           string
	Classification string
	CIDRs          string // separated by commas, spaces or lines
	Owner          string
	Description    string
	// CheckCredentials turns on the default-credential checks of the zone's scans.
	CheckCredentials bool
}

func (in ZoneInput) validate() (models.Zone, error) {
	var errs core.FieldErrors
	z := models.Zone{
		Name: strings.TrimSpace(in.Name), Owner: strings.TrimSpace(in.Owner),
		Description: strings.TrimSpace(in.Description), CheckCredentials: in.CheckCredentials,
	}
	if !policy.ValidZoneName(z.Name) {
		errs.Add("name", core.M("err.inventory.zone_name", "a zone name is 1 to 64 letters, digits, '-', '_' or '.', not starting with a digit"))
	}
	c := Classification(strings.ToLower(strings.TrimSpace(in.Classification)))
	if !slices.Contains(AllClassifications, c) {
		errs.Add("classification", core.M("err.inventory.classification", "classification {{.Value}} is not one of internet, dmz, transit, low, medium, high", "Value", strconv.Quote(in.Classification)))
	}
	z.Classification = string(c)
	for _, f := range []struct {
		field string
		what  core.Message
		value string
	}{{"owner", core.M("err.field.owner", "the owner"), z.Owner}, {"description", core.M("err.field.zone_description", "the description"), z.Description}} {
		if err := core.CheckLength(f.field, f.what, f.value, core.Limits.Label); err != nil {
			errs = append(errs, err.(*core.Error))
		}
	}
	if strings.TrimSpace(in.CIDRs) != "" {
		prefixes, err := policy.ParseCIDRs(in.CIDRs)
		if err != nil {
			errs.Add("cidrs", core.M("err.inventory.cidrs_invalid", "{{.Reason}}", "Reason", core.Plain(err.Error())))
		} else {
			lines := make([]string, len(prefixes))
			for i, p := range prefixes {
				lines[i] = p.String()
			}
			z.CIDRs = strings.Join(lines, "\n")
		}
	} else if c != ClassInternet {
		errs.Add("cidrs", core.M("err.inventory.cidrs_required", "a zone needs at least one CIDR (only the internet zone may have none)"))
	}
	if len(errs) > 0 {
		return z, errs
	}
	return z, nil
}

// ZoneCIDRs parses the stored prefixes of a zone.
func ZoneCIDRs(z models.Zone) []netip.Prefix {
	var out []netip.Prefix
	for _, line := range strings.Fields(z.CIDRs) {
		if p, err := netip.ParsePrefix(line); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// ListZones returns every zone by name.
func (s *Service) ListZones(ctx context.Context) ([]models.Zone, error) {
	var zones []models.Zone
	err := s.DB().WithContext(ctx).Order("name").Find(&zones).Error
	return zones, err
}

// Zones are every zone, by name, kept until something changes (see
// core.Summary) and shared by every caller: callers never change them.
// What decides (a scan's drift, a policy judgement) reads ListZones in its
// own transaction instead.
func (s *Service) Zones(ctx context.Context) ([]models.Zone, error) {
	return s.zones.Get(s.Store, func() ([]models.Zone, error) { return s.ListZones(ctx) })
}

// GetZone returns one zone.
func (s *Service) GetZone(ctx context.Context, id uint) (*models.Zone, error) {
	var z models.Zone
	if err := s.DB().WithContext(ctx).First(&z, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, core.NotFound("zone", id)
		}
		return nil, err
	}
	return &z, nil
}

func requireAdmin(actor core.Actor) error {
	if !actor.Has(core.RoleAdmin) {
		return core.Forbidden(core.M("err.inventory.admin", "you need the admin role to change the inventory"))
	}
	return nil
}

// SaveZone creates a zone (id 0) or updates one, then re-derives the zone of every asset.
func (s *Service) SaveZone(ctx context.Context, actor core.Actor, id uint, in ZoneInput) (*models.Zone, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	z, err := in.validate()
	if err != nil {
		return nil, err
	}
	err = s.InTx(ctx, func(tx *gorm.DB) error {
		var clash int64
		tx.Model(&models.Zone{}).Where("LOWER(name) = LOWER(?) AND id <> ?", z.Name, id).Count(&clash)
		if clash > 0 {
			return core.Invalid("name", core.M("err.inventory.zone_exists", "a zone named {{.Name}} exists already", "Name", strconv.Quote(z.Name)))
		}
		action := "zone.create"
		var before *models.Zone
		if id == 0 {
			if err := tx.Create(&z).Error; err != nil {
				return err
			}
		} else {
			var old models.Zone
			if err := tx.First(&old, id).Error; err != nil {
				return core.NotFound("zone", id)
			}
			before = &old
			z.ID, z.CreatedAt = id, old.CreatedAt
			if err := tx.Save(&z).Error; err != nil {
				return err
			}
			action = "zone.update"
		}
		if err := rederiveAssetZones(tx); err != nil {
			return err
		}
		return s.Audit(tx, actor, action, "zone", z.ID, "", "", map[string]any{"before": before, "after": z}, "")
	})
	if err != nil {
		return nil, err
	}
	return &z, nil
}

// DeleteZone removes a zone; its assets lose their zone until another contains them.
func (s *Service) DeleteZone(ctx context.Context, actor core.Actor, id uint) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var z models.Zone
		if err := tx.First(&z, id).Error; err != nil {
			return core.NotFound("zone", id)
		}
		if err := tx.Delete(&z).Error; err != nil {
			return err
		}
		if err := rederiveAssetZones(tx); err != nil {
			return err
		}
		return s.Audit(tx, actor, "zone.delete", "zone", id, "", "", z, "")
	})
}

// ZoneIndex finds the most specific zone holding an address.
type ZoneIndex struct {
	zones []models.Zone
	cidrs [][]netip.Prefix
}

func NewZoneIndex(zones []models.Zone) *ZoneIndex {
	ix := &ZoneIndex{zones: zones}
	for _, z := range zones {
		ix.cidrs = append(ix.cidrs, ZoneCIDRs(z))
	}
	return ix
}

func (ix *ZoneIndex) Lookup(addr netip.Addr) *models.Zone {
	best, bestBits := -1, -1
	for i, ps := range ix.cidrs {
		for _, p := range ps {
			if p.Contains(addr) && p.Bits() > bestBits {
				best, bestBits = i, p.Bits()
			}
		}
	}
	if best < 0 {
		return nil
	}
	return &ix.zones[best]
}

func (ix *ZoneIndex) ByName(name string) *models.Zone {
	for i := range ix.zones {
		if strings.EqualFold(ix.zones[i].Name, name) {
			return &ix.zones[i]
		}
	}
	return nil
}

func LoadZoneIndex(tx *gorm.DB) (*ZoneIndex, error) {
	var zones []models.Zone
	if err := tx.Order("name").Find(&zones).Error; err != nil {
		return nil, err
	}
	return NewZoneIndex(zones), nil
}

func rederiveAssetZones(tx *gorm.DB) error {
	ix, err := LoadZoneIndex(tx)
	if err != nil {
		return err
	}
	var assets []models.Asset
	if err := tx.Find(&assets).Error; err != nil {
		return err
	}
	for _, a := range assets {
		var zoneID *uint
		if addr, err := netip.ParseAddr(a.Address); err == nil {
			if z := ix.Lookup(addr); z != nil {
				zoneID = &z.ID
			}
		}
		if !sameID(zoneID, a.ZoneID) {
			if err := tx.Model(&models.Asset{}).Where("id = ?", a.ID).Update("zone_id", zoneID).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

func sameID(a, b *uint) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// AssetInput is what an admin enters for an asset.
type AssetInput struct {
	Address     string
	Hostname    string
	OwnerTeam   string
	Application string
	// PublicAddress is the asset's internet-facing (NAT) address, if any:
	// what an internet-vantage agent scans.
	PublicAddress string
}

func (in AssetInput) validate(fieldPrefix string, rules policy.AssetAddressRules) (models.Asset, core.FieldErrors) {
	var errs core.FieldErrors
	a := models.Asset{
		Hostname: strings.TrimSpace(in.Hostname), OwnerTeam: strings.TrimSpace(in.OwnerTeam),
		Application: strings.TrimSpace(in.Application),
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(in.Address))
	if err != nil || addr.Zone() != "" {
		errs.Add(fieldPrefix+"address", core.M("err.inventory.address_invalid", "{{.Value}} is not an IP address", "Value", strconv.Quote(in.Address)))
	} else {
		a.Address = addr.Unmap().String()
		if why := rules.CheckAssetAddress(addr); why != "" {
			errs.Add(fieldPrefix+"address", core.M("err.inventory.address_refused", "{{.Reason}}", "Reason", core.Plain(why)))
		}
	}
	if why := policy.CheckHostname(a.Hostname); why != "" {
		errs.Add(fieldPrefix+"hostname", core.M("err.inventory.hostname_invalid", "{{.Reason}}", "Reason", core.Plain(why)))
	}
	for field, v := range map[string]string{"owner_team": a.OwnerTeam, "application": a.Application} {
		if why := policy.CheckText(v); why != "" { // an imported file is no form: checked here
			errs.Add(fieldPrefix+field, core.M("err.inventory.text_invalid", "{{.Field}} {{.Reason}}", "Field", field, "Reason", core.Plain(why)))
		} else if err := core.CheckLength(fieldPrefix+field, core.M("err.field."+field, "the "+strings.ReplaceAll(field, "_", " ")), v, core.Limits.Label); err != nil {
			errs = append(errs, err.(*core.Error))
		}
	}
	if pub := strings.TrimSpace(in.PublicAddress); pub != "" {
		p, err := netip.ParseAddr(pub)
		switch {
		case err != nil || p.Zone() != "":
			errs.Add(fieldPrefix+"public_address", core.M("err.inventory.public_address_invalid", "public address {{.Value}} is not an IP address", "Value", strconv.Quote(pub)))
		case p.Unmap().String() == a.Address:
			errs.Add(fieldPrefix+"public_address", core.M("err.inventory.public_address_own", "the public address is the (NAT) address the internet reaches the asset at; leave it empty when it is the asset's own"))
		case rules.CheckAssetAddress(p) != "":
			// The internet agent scans it: no metadata service or broadcast either.
			errs.Add(fieldPrefix+"public_address", core.M("err.inventory.address_refused", "{{.Reason}}", "Reason", core.Plain(rules.CheckAssetAddress(p))))
		default:
			a.PublicAddress = p.Unmap().String()
		}
	}
	return a, errs
}

// ListAssets returns the inventory with each asset's zone.
func (s *Service) ListAssets(ctx context.Context) ([]models.Asset, error) {
	var assets []models.Asset
	err := s.DB().WithContext(ctx).Preload("Zone").Order("address").Find(&assets).Error
	return assets, err
}

// GetAsset returns one asset.
func (s *Service) GetAsset(ctx context.Context, id uint) (*models.Asset, error) {
	var a models.Asset
	if err := s.DB().WithContext(ctx).Joins("Zone").First(&a, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, core.NotFound("asset", id)
		}
		return nil, err
	}
	return &a, nil
}

// SaveAsset creates (id 0) or updates an asset; its zone follows from its address.
func (s *Service) SaveAsset(ctx context.Context, actor core.Actor, id uint, in AssetInput) (*models.Asset, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	rules, err := s.assetAddressRules(ctx)
	if err != nil {
		return nil, err
	}
	a, errs := in.validate("", rules)
	if len(errs) > 0 {
		return nil, errs
	}
	err = s.InTx(ctx, func(tx *gorm.DB) error {
		var clash int64
		tx.Model(&models.Asset{}).Where("address = ? AND id <> ?", a.Address, id).Count(&clash)
		if clash > 0 {
			return core.Invalid("address", core.M("err.inventory.asset_exists", "asset {{.Address}} is in the inventory already", "Address", a.Address))
		}
		ix, err := LoadZoneIndex(tx)
		if err != nil {
			return err
		}
		if z := ix.Lookup(netip.MustParseAddr(a.Address)); z != nil {
			a.ZoneID = &z.ID
		}
		action := "asset.create"
		if id == 0 {
			err = tx.Create(&a).Error
		} else {
			var old models.Asset
			if err := tx.First(&old, id).Error; err != nil {
				return core.NotFound("asset", id)
			}
			a.ID, a.CreatedAt, action = id, old.CreatedAt, "asset.update"
			err = tx.Save(&a).Error
		}
		if err != nil {
			return err
		}
		return s.Audit(tx, actor, action, "asset", a.ID, "", "", a, "")
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// DeleteAsset removes an asset from the inventory.
func (s *Service) DeleteAsset(ctx context.Context, actor core.Actor, id uint) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var a models.Asset
		if err := tx.First(&a, id).Error; err != nil {
			return core.NotFound("asset", id)
		}
		if err := tx.Delete(&a).Error; err != nil {
			return err
		}
		return s.Audit(tx, actor, "asset.delete", "asset", id, "", "", a, "")
	})
}

// LineError is one bad line of an import. Message is Text in English.
type LineError struct {
	Line    int
	Field   string
	Message string
	Text    core.Message `json:"-"`
}

// lineError is the bad line line, about field, saying m.
func lineError(line int, field string, m core.Message) LineError {
	return LineError{Line: line, Field: field, Message: m.String(), Text: m}
}

// Said is what the line's refusal says, for any language.
func (l LineError) Said() core.Message {
	if l.Text.ID == "" && l.Text.English == "" {
		return core.Plain(l.Message)
	}
	return l.Text
}

// ImportError reports every bad line of a CSV import; nothing was imported.
type ImportError struct{ Lines []LineError }

func (e *ImportError) Error() string {
	if len(e.Lines) == 0 {
		return "import failed"
	}
	l := e.Lines[0]
	return fmt.Sprintf("line %d: %s: %s (%d bad lines in all; nothing was imported)", l.Line, l.Field, l.Message, len(e.Lines))
}

// Unwrap makes an import error a bad-input error.
func (e *ImportError) Unwrap() error {
	if len(e.Lines) == 0 {
		return core.Invalid("file", core.M("err.inventory.import_failed_plain", "import failed"))
	}
	l := e.Lines[0]
	return core.Invalid("file", core.M("err.inventory.import_failed", "line {{.Line}}: {{.Field}}: {{.Reason}} ({{.Count}} bad lines in all; nothing was imported)",
		"Line", l.Line, "Field", l.Field, "Reason", l.Said(), "Count", len(e.Lines)))
}

// maxImportLines bounds one import, so a mistaken upload cannot hold the database for long.
const maxImportLines = 50000

// ImportAssets reads a CSV with the header address,hostname,owner_team,application,tier
// (columns in any order; only address is required) and creates or updates
// each asset; a tier (innovation, standard, critical) is its application's,
// so the lines of one application must agree on it. Either every line is good and all are imported in one
// transaction, or nothing is and every bad line is reported.
func (s *Service) ImportAssets(ctx context.Context, actor core.Actor, r io.Reader) (created, updated int, err error) {
	if err := requireAdmin(actor); err != nil {
		return 0, 0, err
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return 0, 0, core.Invalid("file", core.M("err.inventory.file_not_csv", "the file is empty or not CSV: the first line must be a header such as address,hostname,owner_team,application"))
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["address"]; !ok {
		return 0, 0, core.Invalid("file", core.M("err.inventory.file_no_address", "the header has no address column (expected address,hostname,owner_team,application)"))
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	rules, err := s.assetAddressRules(ctx)
	if err != nil {
		return 0, 0, err
	}
	var rows []models.Asset
	var bad []LineError
	seen := map[string]int{}
	tiers := map[string]tierLine{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			bad = append(bad, lineError(line, "line", core.M("err.inventory.line_unreadable", "{{.Reason}}", "Reason", core.Plain(err.Error()))))
			if errors.Is(err, csv.ErrQuote) || errors.Is(err, csv.ErrBareQuote) {
				continue
			}
			break
		}
		if line-1 > maxImportLines {
			return 0, 0, core.Invalid("file", core.M("err.inventory.file_too_long", "the file has more than {{.Max}} lines; split it", "Max", maxImportLines))
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		a, errs := AssetInput{
			Address: field(rec, "address"), Hostname: field(rec, "hostname"),
			OwnerTeam: field(rec, "owner_team"), Application: field(rec, "application"), PublicAddress: field(rec, "public_address"),
		}.validate("", rules)
		for _, e := range errs {
			bad = append(bad, lineError(line, e.Field, e.Said()))
		}
		if e := checkImportTier(tiers, line, a.Application, field(rec, "tier")); e != nil {
			bad = append(bad, *e)
			continue
		}
		if len(errs) == 0 {
			if first, dup := seen[a.Address]; dup {
				bad = append(bad, lineError(line, "address", core.M("err.inventory.address_repeated", "{{.Address}} appears already on line {{.First}}", "Address", a.Address, "First", first)))
				continue
			}
			seen[a.Address] = line
			rows = append(rows, a)
		}
	}
	if len(bad) > 0 {
		return 0, 0, &ImportError{Lines: bad}
	}
	if len(rows) == 0 {
		return 0, 0, core.Invalid("file", core.M("err.inventory.file_no_assets", "the file has a header but no assets"))
	}
	err = s.InTx(ctx, func(tx *gorm.DB) error {
		ix, err := LoadZoneIndex(tx)
		if err != nil {
			return err
		}
		for _, a := range rows {
			if z := ix.Lookup(netip.MustParseAddr(a.Address)); z != nil {
				a.ZoneID = &z.ID
			}
			var old models.Asset
			err := tx.Where("address = ?", a.Address).First(&old).Error
			switch {
			case errors.Is(err, gorm.ErrRecordNotFound):
				if err := tx.Create(&a).Error; err != nil {
					return err
				}
				created++
			case err != nil:
				return err
			default:
				a.ID, a.CreatedAt = old.ID, old.CreatedAt
				if err := tx.Save(&a).Error; err != nil {
					return err
				}
				updated++
			}
		}
		changed, err := applyImportTiers(tx, actor, tiers, s.Now())
		if err != nil {
			return err
		}
		detail := map[string]any{"created": created, "updated": updated}
		if len(changed) > 0 {
			detail["tiers"] = changed
		}
		return s.Audit(tx, actor, "asset.import", "asset", 0, "", "", detail, "")
	})
	if err != nil {
		return 0, 0, err
	}
	return created, updated, nil
}

// SuggestAssets offers at most limit assets whose address or host name
// starts with prefix (any, when empty), by address: a form suggests from
// them without the page carrying the whole inventory.
func (s *Service) SuggestAssets(ctx context.Context, prefix string, limit int) ([]models.Asset, error) {
	q := s.DB().WithContext(ctx).Preload("Zone").Order("address").Limit(limit)
	if prefix = strings.TrimSpace(prefix); prefix != "" {
		like := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(prefix)) + "%"
		q = q.Where(`address LIKE ? ESCAPE '\' OR LOWER(hostname) LIKE ? ESCAPE '\'`, like, like)
	}
	var assets []models.Asset
	err := q.Find(&assets).Error
	return assets, err
}

// AssetCountsByZone counts the assets of each zone in one grouped query,
// kept until something changes. The map is shared: callers do not modify it.
func (s *Service) AssetCountsByZone(ctx context.Context) (map[uint]int, error) {
	return s.zoneSizes.Get(s.Store, func() (map[uint]int, error) { return s.countAssetsByZone(ctx) })
}

func (s *Service) countAssetsByZone(ctx context.Context) (map[uint]int, error) {
	var rows []struct {
		ZoneID uint
		N      int
	}
	if err := s.DB().WithContext(ctx).Model(&models.Asset{}).Select("zone_id, COUNT(*) AS n").
		Where("zone_id IS NOT NULL").Group("zone_id").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[uint]int, len(rows))
	for _, r := range rows {
		out[r.ZoneID] = r.N
	}
	return out, nil
}

// AssetsByAddress reads the assets at the addresses (those in the
// inventory), keyed by address: pages that list drift or scans link them.
func (s *Service) AssetsByAddress(ctx context.Context, addresses []string) (map[string]models.Asset, error) {
	out := map[string]models.Asset{}
	if len(addresses) == 0 {
		return out, nil
	}
	var rows []models.Asset
	if err := s.DB().WithContext(ctx).Preload("Zone").Where("address IN ?", addresses).Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, a := range rows {
		out[a.Address] = a
	}
	return out, nil
}
