package handlers

import (
	"context"
	"errors"
	"strings"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
)

// humanMessage is publicMessage with the field at fault named the way the
// form shows it ("Rule 1, source: …"), never by its path
// ("rules[0].source"): for pages, and for the API's message beside its
// `field`, which keeps the path.
func humanMessage(ctx context.Context, err error) string {
	var fe core.FieldErrors
	if errors.As(err, &fe) && len(fe) > 0 {
		first := labelled(ctx, fe[0])
		if len(fe) == 1 {
			return first
		}
		return locale.T(ctx, "field.and_more", "First", first, "More", len(fe)-1)
	}
	var de *core.Error
	if errors.As(err, &de) {
		return labelled(ctx, de)
	}
	msg, _ := publicMessage(ctx, err)
	return msg
}

func labelled(ctx context.Context, e *core.Error) string {
	if e.Field == "" {
		return say(ctx, e.Said())
	}
	return web.FieldLabel(ctx, e.Field) + ": " + say(ctx, e.Said())
}

// problemsOf lists a refused form's problems in the order found, each with
// its field named as the form shows it and a link to the field.
func problemsOf(ctx context.Context, err error) []web.Problem {
	var all core.FieldErrors
	var de *core.Error
	switch {
	case errors.As(err, &all):
	case errors.As(err, &de):
		all = core.FieldErrors{de}
	}
	out := make([]web.Problem, 0, len(all))
	for _, e := range all {
		p := web.Problem{Text: labelled(ctx, e)}
		if e.Field != "" {
			p.Href = "#" + fieldAnchor(e.Field)
		}
		out = append(out, p)
	}
	return out
}

// fieldAnchor is the id of the input a field path is about: the form's
// inputs are named by path, without a list's index ("rules[0].destination[1]"
// is the input "rules[0].destination").
func fieldAnchor(field string) string {
	if m := ruleFieldPrefix.FindString(field); m != "" {
		rest := strings.TrimPrefix(field, m)
		if i := strings.IndexByte(rest, '['); i >= 0 {
			rest = rest[:i]
		}
		return m + rest
	}
	if i := strings.IndexByte(field, '['); i >= 0 {
		return field[:i]
	}
	return field
}
