package inventory

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/policy"
)

// catalogCache keeps the parsed catalog until its text changes: parsing a
// hundred entries on every evaluation would be waste.
type catalogCache struct {
	mu      sync.Mutex
	sum     [32]byte
	catalog *policy.Catalog
}

func (c *catalogCache) get(text string) (*policy.Catalog, error) {
	sum := sha256.Sum256([]byte(text))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.catalog != nil && c.sum == sum {
		return c.catalog, nil
	}
	cat, err := policy.LoadCatalog([]byte(text))
	if err != nil {
		return nil, err
	}
	c.sum, c.catalog = sum, cat
	return cat, nil
}

// LoadPolicy assembles the policy in force: the catalog and the matrix as
// admins edited them (or as shipped), and the settings.
func (s *Service) LoadPolicy(tx *gorm.DB) (policy.Policy, error) {
	p := policy.Policy{Catalog: policy.DefaultCatalog(), Matrix: policy.DefaultMatrix()}
	var docs []models.PolicyDocument
	if err := tx.Find(&docs).Error; err != nil {
		return p, err
	}
	for _, d := range docs {
		switch d.Kind {
		case "catalog":
			cat, err := s.catalogs.get(d.Content)
			if err != nil {
				return p, fmt.Errorf("stored catalog: %w", err)
			}
			p.Catalog = cat
		case "matrix":
			if err := json.Unmarshal([]byte(d.Content), &p.Matrix); err != nil {
				return p, fmt.Errorf("stored matrix: %w", err)
			}
		}
	}
	st, err := LoadSettings(tx)
	if err != nil {
		return p, err
	}
	p.Settings = st
	if p.Tiered, err = TieredAssets(tx); err != nil {
		return p, err
	}
	return p, nil
}

// PolicyInventory is the zones as the engine sees them.
func PolicyInventory(tx *gorm.DB) (*policy.Inventory, error) {
	var zones []models.Zone
	if err := tx.Order("id").Find(&zones).Error; err != nil {
		return nil, err
	}
	pz := make([]policy.Zone, 0, len(zones))
	for _, z := range zones {
		pz = append(pz, policy.Zone{Name: z.Name, Classification: policy.Classification(z.Classification), CIDRs: ZoneCIDRs(z)})
	}
	inv, err := policy.NewInventory(pz)
	if err != nil {
		return nil, fmt.Errorf("the zones cannot be judged: %w", err)
	}
	return inv, nil
}

// Policy is what the admin's policy page shows.
type Policy struct {
	Matrix      policy.Matrix
	CatalogYAML string
	Catalog     *policy.Catalog
}

// GetPolicy returns the matrix and the catalog in force.
func (s *Service) GetPolicy(ctx context.Context) (*Policy, error) {
	db := s.DB().WithContext(ctx)
	p, err := s.LoadPolicy(db)
	if err != nil {
		return nil, err
	}
	out := &Policy{Matrix: p.Matrix, Catalog: p.Catalog, CatalogYAML: string(policy.CatalogYAML())}
	var doc models.PolicyDocument
	if err := db.Where("kind = ?", "catalog").First(&doc).Error; err == nil {
		out.CatalogYAML = doc.Content
	}
	return out, nil
}

// PolicyChange is an admin's proposed new matrix or catalog; nil parts stay as they are.
type PolicyChange struct {
	Matrix      *policy.Matrix
	CatalogYAML *string
}

func ApplyChange(p policy.Policy, change PolicyChange) (policy.Policy, error) {
	if change.Matrix != nil {
		p.Matrix = *change.Matrix
	}
	if change.CatalogYAML != nil {
		cat, err := policy.LoadCatalog([]byte(*change.CatalogYAML))
		if err != nil {
			// Both: the refusal for the error helper, the catalog's own
			// error for the line it names (the editor shows it).
			return p, errors.Join(&core.Error{Code: core.CodeInvalid, Field: "catalog", Message: err.Error()}, err)
		}
		p.Catalog = cat
	}
	return p, nil
}

// SavePolicy stores a changed matrix or catalog, audited with both versions.
func (s *Service) SavePolicy(ctx context.Context, actor core.Actor, change PolicyChange) error {
	if !actor.Has(core.RoleAdmin) {
		return core.Forbidden("you need the admin role to change the policy")
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		before, err := s.LoadPolicy(tx)
		if err != nil {
			return err
		}
		if _, err := ApplyChange(before, change); err != nil {
			return err
		}
		save := func(kind, content, old string) error {
			doc := models.PolicyDocument{Kind: kind, Content: content, UpdatedBy: actor.Email, UpdatedAt: s.Now()}
			if err := tx.Save(&doc).Error; err != nil {
				return err
			}
			return s.Audit(tx, actor, "policy."+kind+".update", "policy", 0, "", "", map[string]string{"before": old, "after": content}, "")
		}
		if change.Matrix != nil {
			oldM, _ := json.Marshal(before.Matrix)
			newM, _ := json.Marshal(*change.Matrix)
			if err := save("matrix", string(newM), string(oldM)); err != nil {
				return err
			}
		}
		if change.CatalogYAML != nil {
			var old models.PolicyDocument
			oldText := string(policy.CatalogYAML())
			if tx.Where("kind = ?", "catalog").First(&old).Error == nil {
				oldText = old.Content
			}
			if err := save("catalog", *change.CatalogYAML, oldText); err != nil {
				return err
			}
		}
		return nil
	})
}

// EnsurePolicy loads the shipped catalog and matrix into the database the
// first time, so that admins edit them there and every later change is an
// audited edit of a stored document.
func (s *Service) EnsurePolicy(ctx context.Context) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		seed := map[string]func() (string, error){
			"catalog": func() (string, error) { return string(policy.CatalogYAML()), nil },
			"matrix": func() (string, error) {
				b, err := json.Marshal(policy.DefaultMatrix())
				return string(b), err
			},
		}
		for _, kind := range []string{"catalog", "matrix"} {
			var n int64
			if err := tx.Model(&models.PolicyDocument{}).Where("kind = ?", kind).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			content, err := seed[kind]()
			if err != nil {
				return err
			}
			if err := tx.Create(&models.PolicyDocument{Kind: kind, Content: content, UpdatedBy: "system", UpdatedAt: s.Now()}).Error; err != nil {
				return err
			}
			if err := s.Audit(tx, core.SystemActor, "policy."+kind+".load", "policy", 0, "", "", map[string]string{"source": "shipped defaults"}, ""); err != nil {
				return err
			}
		}
		return nil
	})
}
