package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/policy"
)

// Question is one question of the security assessment a request touching
// an innovation-tier application answers.
type Question struct {
	// ID names the answer (assessment.ID in forms and the API); stable
	// across versions so that an edited wording keeps its answers' key.
	ID       string `json:"id"`
	Text     string `json:"text"`
	Required bool   `json:"required"`
}

// Questionnaire is one version of the assessment.
type Questionnaire struct {
	Version   uint       `json:"version"`
	Questions []Question `json:"questions"`
}

// DefaultQuestionnaire is the assessment until an admin edits it: what the
// service handles, who reaches it, how it authenticates, who answers for it.
func DefaultQuestionnaire() Questionnaire {
	return Questionnaire{Version: 1, Questions: []Question{
		{ID: "data_handled", Text: "What data does the service handle (personal, payment, confidential, internal only, public)?", Required: true},
		{ID: "exposure", Text: "Who reaches the service, and from where (the internet, partners, internal users only)?", Required: true},
		{ID: "authentication", Text: "How do clients authenticate to the service, and is authentication on for every port opened?", Required: true},
		{ID: "owner_on_call", Text: "Who owns the service and is on call for it (name and how to reach them)?", Required: true},
	}}
}

// maxQuestions bounds the questionnaire: an assessment, not an audit.
const maxQuestions = 30

// MaxQuestionText bounds one question's wording.
const MaxQuestionText = 500

var questionID = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// CurrentQuestionnaire is the latest version, or the default when no admin
// edited it.
func CurrentQuestionnaire(tx *gorm.DB) (Questionnaire, error) {
	var row models.AssessmentQuestionnaire
	err := tx.Order("version DESC").Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return DefaultQuestionnaire(), nil
	}
	if err != nil {
		return Questionnaire{}, err
	}
	q := Questionnaire{Version: row.Version}
	if err := json.Unmarshal([]byte(row.Questions), &q.Questions); err != nil {
		return Questionnaire{}, fmt.Errorf("stored questionnaire version %d: %w", row.Version, err)
	}
	return q, nil
}

// GetQuestionnaire is the questionnaire in force.
func (s *Service) GetQuestionnaire(ctx context.Context) (Questionnaire, error) {
	return CurrentQuestionnaire(s.DB().WithContext(ctx))
}

// QuestionInput is one row of the admin's questionnaire form; a row with
// Remove set, or with neither id nor text, is left out.
type QuestionInput struct {
	ID, Text string
	Required bool
	Remove   bool
}

// SaveQuestionnaire stores the admin's questions as a new version, audited
// with both versions. Requests answered before keep the questions they were
// asked; drafts and new requests are asked the new ones.
func (s *Service) SaveQuestionnaire(ctx context.Context, actor core.Actor, in []QuestionInput) (Questionnaire, error) {
	if err := requireAdmin(actor); err != nil {
		return Questionnaire{}, err
	}
	var errs core.FieldErrors
	add := errs.Add
	var qs []Question
	seen := map[string]int{}
	for i, q := range in {
		q.ID, q.Text = strings.TrimSpace(q.ID), strings.TrimSpace(q.Text)
		if q.Remove || (q.ID == "" && q.Text == "") {
			continue
		}
		field := func(name string) string { return fmt.Sprintf("questions[%d].%s", i, name) }
		switch {
		case !questionID.MatchString(q.ID):
			add(field("id"), core.M("err.inventory.question_key", "an answer key is 1 to 40 lower-case letters, digits or '_', starting with a letter (e.g. data_handled)"))
		case seen[q.ID] > 0:
			add(field("id"), core.M("err.inventory.question_key_used", "the key {{.Key}} is used by question {{.N}} already", "Key", strconv.Quote(q.ID), "N", seen[q.ID]))
		default:
			seen[q.ID] = i + 1
		}
		if q.Text == "" {
			add(field("text"), core.M("err.inventory.question_text_required", "the question's text is required"))
		} else if why := policy.CheckText(q.Text); why != "" {
			add(field("text"), core.M("err.inventory.question_text_invalid", "the question {{.Reason}}", "Reason", core.Plain(why)))
		} else if err := core.CheckLength(field("text"), core.M("err.field.question", "the question"), q.Text, MaxQuestionText); err != nil {
			errs = append(errs, err.(*core.Error))
		}
		qs = append(qs, Question{ID: q.ID, Text: q.Text, Required: q.Required})
	}
	if len(qs) == 0 && len(errs) == 0 {
		add("questions", core.M("err.inventory.questions_none", "the assessment needs at least one question"))
	}
	if len(qs) > maxQuestions {
		add("questions", core.M("err.inventory.questions_too_many", "the assessment holds at most {{.Max}} questions", "Max", maxQuestions))
	}
	if len(errs) > 0 {
		return Questionnaire{}, errs
	}
	var out Questionnaire
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		before, err := CurrentQuestionnaire(tx)
		if err != nil {
			return err
		}
		out = Questionnaire{Version: before.Version + 1, Questions: qs}
		b, _ := json.Marshal(qs)
		if err := tx.Create(&models.AssessmentQuestionnaire{Version: out.Version, Questions: string(b), CreatedBy: actor.Email, CreatedAt: s.Now()}).Error; err != nil {
			// Two admins saving at once on PostgreSQL: the version is taken.
			if errors.Is(err, gorm.ErrDuplicatedKey) || strings.Contains(strings.ToLower(err.Error()), "unique") || strings.Contains(err.Error(), "duplicate key") {
				return core.Conflict(core.M("err.inventory.questionnaire_race", "another admin saved version {{.Version}} of the questionnaire at the same moment: reload the page and save again", "Version", out.Version))
			}
			return err
		}
		return s.Audit(tx, actor, "assessment.questionnaire.update", "questionnaire", out.Version, "", "", map[string]any{"before": before, "after": out}, "")
	})
	return out, err
}
