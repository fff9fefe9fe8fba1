package workflow_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// fieldOf names the field an invalid-input error is about.
func fieldOf(err error) string {
	var fe core.FieldErrors
	if errors.As(err, &fe) && len(fe) > 0 {
		return fe[0].Field
	}
	var e *core.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Issue 12 item 3: an 8 MiB cancel reason was accepted and made permanent
// in the append-only log. Every free-text field has a limit (core.Limits),
// enforced in the domain so the API and the command line are bound too;
// over-long input is refused naming the field, and nothing is written.
func TestFreeTextLimits(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	draft := w.Create(t, w.Alice, workflowtest.LowRisk())
	l := core.Limits
	long := func(n int) string { return strings.Repeat("é", n+1) } // characters, not bytes
	in := func(mod func(*requests.Input)) requests.Input {
		v := workflowtest.LowRisk()
		mod(&v)
		return v
	}
	for _, tc := range []struct {
		name, field string
		call        func() error
	}{
		{"request title", "title", func() error {
			_, err := w.App.Requests.Create(w.Ctx, w.Alice, in(func(v *requests.Input) { v.Title = long(l.Title) }))
			return err
		}},
		{"request justification", "justification", func() error {
			_, err := w.App.Requests.Update(w.Ctx, w.Alice, draft.ID, in(func(v *requests.Input) { v.Justification = long(l.Justification) }))
			return err
		}},
		{"cancel reason", "reason", func() error {
			_, err := w.App.Requests.Cancel(w.Ctx, w.Alice, draft.ID, long(l.Reason))
			return err
		}},
		{"revoke reason", "reason", func() error {
			_, err := w.App.Requests.Revoke(w.Ctx, w.Lee, draft.ID, long(l.Reason))
			return err
		}},
		{"review comment", "comment", func() error {
			_, err := w.App.Requests.Review(w.Ctx, w.Rita, draft.ID, requests.ReviewInput{Decision: requests.DecisionReject, Comment: long(l.Comment)})
			return err
		}},
		{"checklist note", "note.auth", func() error {
			_, err := w.App.Requests.Review(w.Ctx, w.Rita, draft.ID, requests.ReviewInput{Decision: requests.DecisionApprove,
				Checklist: []requests.ChecklistAnswer{{Item: "auth", Result: "pass", Note: long(l.ChecklistNote)}}})
			return err
		}},
		{"compensating control", "compensating_controls[k]", func() error {
			_, err := w.App.Requests.Review(w.Ctx, w.Rita, draft.ID, requests.ReviewInput{Decision: requests.DecisionApprove,
				CompensatingControls: map[string]string{"k": long(l.CompensatingControl)}})
			return err
		}},
		{"second approval comment", "comment", func() error {
			_, err := w.App.Requests.SecondApproval(w.Ctx, w.Lee, draft.ID, requests.DecisionReject, long(l.Comment))
			return err
		}},
		{"change reference", "change_ref", func() error {
			_, err := w.App.Requests.Implement(w.Ctx, w.Ivan, draft.ID, long(l.ChangeRef), "")
			return err
		}},
		{"change note", "note", func() error {
			_, err := w.App.Requests.Implement(w.Ctx, w.Ivan, draft.ID, "CHG-1", long(l.ChangeNote))
			return err
		}},
		{"comment", "body", func() error {
			_, err := w.App.Requests.AddComment(w.Ctx, w.Alice, draft.ID, long(l.Comment))
			return err
		}},
		{"search", "q", func() error {
			_, err := w.App.Requests.List(w.Ctx, w.Alice, requests.Filter{Search: long(l.Search)})
			return err
		}},
		{"drift acknowledgement", "comment", func() error {
			_, err := w.App.Drift.Acknowledge(w.Ctx, w.Rita, 1, long(l.Comment))
			return err
		}},
		{"drift suppression", "reason", func() error {
			_, err := w.App.Drift.Suppress(w.Ctx, w.Lee, 1, long(l.Reason), time.Now().Add(time.Hour))
			return err
		}},
		{"scan cancel", "reason", func() error {
			_, err := w.App.Scans.Cancel(w.Ctx, w.Rita, 1, long(l.Reason))
			return err
		}},
		{"campaign name", "name", func() error {
			_, _, err := w.App.Recert.StartCampaign(w.Ctx, w.Lee, long(l.Name), time.Now().AddDate(0, 1, 0))
			return err
		}},
		{"re-certification justification", "justification", func() error {
			_, err := w.App.Recert.Recertify(w.Ctx, w.Alice, 1, long(l.Justification), time.Time{})
			return err
		}},
		{"lapse reason", "reason", func() error {
			_, err := w.App.Recert.LetLapse(w.Ctx, w.Alice, 1, long(l.Reason))
			return err
		}},
		{"zone description", "description", func() error {
			_, err := w.App.Inventory.SaveZone(w.Ctx, w.Adam, 0, inventory.ZoneInput{Name: "lab", Classification: "low", CIDRs: "10.60.0.0/16", Description: long(l.Label)})
			return err
		}},
		{"zone owner", "owner", func() error {
			_, err := w.App.Inventory.SaveZone(w.Ctx, w.Adam, 0, inventory.ZoneInput{Name: "lab", Classification: "low", CIDRs: "10.60.0.0/16", Owner: long(l.Label)})
			return err
		}},
		{"asset application", "application", func() error {
			_, err := w.App.Inventory.SaveAsset(w.Ctx, w.Adam, 0, inventory.AssetInput{Address: "10.40.0.99", Application: long(l.Label)})
			return err
		}},
		{"asset host name", "hostname", func() error {
			_, err := w.App.Inventory.SaveAsset(w.Ctx, w.Adam, 0, inventory.AssetInput{Address: "10.40.0.99", Hostname: strings.Repeat("a", l.Hostname+1)})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after int64
			w.App.DB().Model(&models.AuditEvent{}).Count(&before)
			err := tc.call()
			workflowtest.MustCode(t, err, core.CodeInvalid)
			if got := fieldOf(err); got != tc.field {
				t.Fatalf("refusal names %q, want %q: %v", got, tc.field, err)
			}
			w.App.DB().Model(&models.AuditEvent{}).Count(&after)
			if after != before {
				t.Fatalf("%d audit events written for refused input", after-before)
			}
		})
	}
	// At the limit is accepted (characters, not bytes).
	_, err := w.App.Requests.AddComment(w.Ctx, w.Alice, draft.ID, strings.Repeat("é", l.Comment))
	workflowtest.Must(t, err)
}
