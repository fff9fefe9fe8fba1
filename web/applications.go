package web

// ApplicationRow is one application on the admin's list, with its tier.
type ApplicationRow struct {
	Name, Tier, UpdatedBy, Updated string
	Assets                         int
}

// QuestionRow is one question of the assessment in the admin's editor.
type QuestionRow struct {
	Index          int
	ID, Text       string
	Required       bool
	IDErr, TextErr string
}

// Applications is the admin's page of application tiers, the innovation
// tier's maximum expiry and the security questionnaire.
type Applications struct {
	Rows                 []ApplicationRow
	Tiers                []string
	MaxExpiryDays        string
	MaxExpiryError       string
	QuestionnaireVersion int
	Questions            []QuestionRow
	QuestionsError       string
	MaxQuestionText      int
	// TierError names the application whose tier was refused.
	TierError, TierErrorApp string
}

// TierErrorUnplaced: the refused application has no row to show the
// refusal beside (a forged or stale form), so the page shows it on top.
func (v Applications) TierErrorUnplaced() bool {
	if v.TierError == "" {
		return false
	}
	for _, r := range v.Rows {
		if r.Name == v.TierErrorApp {
			return false
		}
	}
	return true
}

// AssessmentQuestion is one question of the request form's assessment.
type AssessmentQuestion struct {
	ID, Text, Answer, Error string
	Required                bool
}

// AssessmentForm is the security assessment in the request form, shown
// when the rules touch an innovation-tier application.
type AssessmentForm struct {
	// Endpoint is where htmx asks for the assessment again as the rules change.
	Endpoint     string
	Applications []string
	MaxDays      int
	Until        string
	Version      int
	Questions    []AssessmentQuestion
}

// AssessmentView is a request's answered assessment on its pages.
type AssessmentView struct {
	Version   int
	Questions []AssessmentQuestion
}

// tierSuffix names an application's tier after its name, when it has one.
func tierSuffix(tier string) string {
	if tier == "" {
		return ""
	}
	return " (" + tier + " tier)"
}
