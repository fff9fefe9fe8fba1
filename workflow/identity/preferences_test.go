package identity_test

import (
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func TestPreferences(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	events := func() int64 {
		var n int64
		workflowtest.Must(t, w.App.DB().Model(&models.AuditEvent{}).Where("action = ?", "user.preferences").Count(&n).Error)
		return n
	}
	workflowtest.Must(t, w.App.Identity.SetPreferences(w.Ctx, w.Alice, identity.Preferences{Language: "zh-CN", TimeZone: " Asia/Shanghai "}))
	a, err := w.App.Identity.ActorByID(w.Ctx, w.Alice.ID)
	workflowtest.Must(t, err)
	if a.Language != "zh-CN" || a.TimeZone != "Asia/Shanghai" {
		t.Fatalf("the actor reads language %q, zone %q", a.Language, a.TimeZone)
	}
	if events() != 1 {
		t.Fatal("the change is not audited once")
	}
	// The same choice again changes nothing and records nothing.
	workflowtest.Must(t, w.App.Identity.SetPreferences(w.Ctx, w.Alice, identity.Preferences{Language: "zh-CN", TimeZone: "Asia/Shanghai"}))
	if events() != 1 {
		t.Fatal("saving the same choice again was audited")
	}
	for _, tc := range []struct {
		name  string
		p     identity.Preferences
		field string
	}{
		{"zone not in the database", identity.Preferences{TimeZone: "Asia/Atlantis"}, "time_zone"},
		{"the host's zone", identity.Preferences{TimeZone: "Local"}, "time_zone"},
		{"a path", identity.Preferences{TimeZone: "../../../etc/localtime"}, "time_zone"},
		{"not a language tag", identity.Preferences{Language: "english please"}, "language"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := w.App.Identity.SetPreferences(w.Ctx, w.Alice, tc.p)
			workflowtest.MustCode(t, err, core.CodeInvalid)
			fe, ok := err.(core.FieldErrors)
			if !ok || len(fe) != 1 || fe[0].Field != tc.field {
				t.Fatalf("want one error on %s, got %v", tc.field, err)
			}
		})
	}
	a, _ = w.App.Identity.ActorByID(w.Ctx, w.Alice.ID)
	if a.Language != "zh-CN" || a.TimeZone != "Asia/Shanghai" || events() != 1 {
		t.Fatal("a refused choice changed the stored one")
	}
}
