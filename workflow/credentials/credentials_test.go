package credentials_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/credentials"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// countLines is a stand-in for the scanner's parser: it counts non-comment lines
// and refuses a line without three fields, naming the line only.
func countLines(text string) (int, error) {
	n := 0
	for i, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(strings.Fields(line)) < 3 {
			return 0, fmt.Errorf("credentials list line %d: want SERVICE USER PASSWORD", i+1)
		}
		n++
	}
	return n, nil
}

const secret = "Corp-Redis-Pw-7731"

func TestTheListIsSealedAuditedWithoutItsContentAndAdminOnly(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) { sealedList(t, workflowtest.NewWorld(t, db)) })
}

func sealedList(t *testing.T, w *workflowtest.World) {
	svc := w.App.Credentials
	if err := svc.Save(w.Ctx, w.Adam, "redis - "+secret+"\n"); err == nil {
		t.Fatal("saved without a key")
	}
	key, err := credentials.KeyFrom([]byte("the audit signing key, long enough"))
	workflowtest.Must(t, err)
	workflowtest.Must(t, svc.SetKey(key))
	svc.SetParser(countLines)

	workflowtest.MustCode(t, svc.Save(w.Ctx, w.Rita, "redis - "+secret+"\n"), core.CodeForbidden)
	err = svc.Save(w.Ctx, w.Adam, "# ours\nredis - "+secret+"\nssh\n")
	workflowtest.MustCode(t, err, core.CodeInvalid)
	if msg := workflowtest.FieldErrorsOf(err)["list"]; !strings.Contains(msg, "line 3") {
		t.Errorf("the error %q does not name the field and the line", msg)
	}

	text := "# ours\nredis - " + secret + "\nssh admin " + secret + "-2\n"
	workflowtest.Must(t, svc.Save(w.Ctx, w.Adam, text))
	st, err := svc.Status(w.Ctx)
	workflowtest.Must(t, err)
	if !st.Stored || st.Entries != 2 || st.UpdatedBy != w.Adam.Email {
		t.Errorf("status %+v", st)
	}
	got, err := svc.Load(w.Ctx)
	workflowtest.Must(t, err)
	if got != text {
		t.Errorf("Load = %q, want the list back", got)
	}

	// At rest: sealed. In the audit trail: counts only.
	var row models.CredentialList
	workflowtest.Must(t, w.App.DB().First(&row).Error)
	if bytes.Contains(row.Sealed, []byte(secret)) {
		t.Error("the stored list holds the password in clear")
	}
	var events []models.AuditEvent
	workflowtest.Must(t, w.App.DB().Where("object_type = ?", "credential_list").Find(&events).Error)
	if len(events) != 1 || events[0].Action != "credentials.list.update" || !strings.Contains(events[0].Detail, `"entries":2`) {
		t.Fatalf("audit events %+v", events)
	}
	if strings.Contains(events[0].Detail, secret) {
		t.Error("the audit event holds the password")
	}

	// Another key does not open it.
	other, _ := credentials.KeyFrom([]byte("another audit signing key, long"))
	workflowtest.Must(t, svc.SetKey(other))
	if _, err := svc.Load(w.Ctx); err == nil {
		t.Error("a list sealed under another key opened")
	}

	// An empty list removes it.
	workflowtest.Must(t, svc.Save(w.Ctx, w.Adam, ""))
	if st, _ := svc.Status(w.Ctx); st.Stored {
		t.Error("the list is still stored after saving an empty one")
	}
	if got, err := svc.Load(w.Ctx); got != "" || err != nil {
		t.Errorf("Load after clearing = %q, %v", got, err)
	}
}
