package devidp

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// authorizationRequest holds the parameters of an authorization request. The
// login form carries them through unchanged as hidden fields.
type authorizationRequest struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              string
}

// formField is one name/value pair of an HTML form or query string.
type formField struct {
	Name  string
	Value string
}

// fields returns the request's non-empty parameters, in a fixed order.
func (req authorizationRequest) fields() []formField {
	all := []formField{
		{"client_id", req.ClientID},
		{"redirect_uri", req.RedirectURI},
		{"response_type", req.ResponseType},
		{"scope", req.Scope},
		{"state", req.State},
		{"nonce", req.Nonce},
		{"code_challenge", req.CodeChallenge},
		{"code_challenge_method", req.CodeChallengeMethod},
		{"prompt", req.Prompt},
	}
	return slices.DeleteFunc(all, func(f formField) bool { return f.Value == "" })
}

// check validates everything but the client and redirect URI, returning an
// RFC 6749 error code and description, or "" if the request is acceptable.
func (req authorizationRequest) check() (errorCode, description string) {
	switch {
	case req.ResponseType != "code":
		return "unsupported_response_type", "only response_type=code is supported"
	case !slices.Contains(strings.Fields(req.Scope), "openid"):
		return "invalid_scope", "scope must include openid"
	case req.CodeChallenge == "":
		return "invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256"
	case req.CodeChallengeMethod != "S256":
		return "invalid_request", "code_challenge_method must be S256"
	case !isS256Challenge(req.CodeChallenge):
		return "invalid_request", "code_challenge must be a base64url-encoded SHA-256 digest"
	case slices.Contains(strings.Fields(req.Prompt), "none"):
		// There are no sign-in sessions here, so a sign-in without the form is impossible.
		return "login_required", "this provider always shows its login form"
	}
	return "", ""
}

// loginPageData is the data of the login page template.
type loginPageData struct {
	ClientID     string
	HiddenFields []formField
	Username     string
	Error        string
	DemoUsers    []demoUser
}

// demoUser is one entry in the login page's list of demo accounts.
type demoUser struct {
	Name     string
	Email    string
	Password string
	Groups   []string
	// PrefillURL reloads the login page with this user's email filled in.
	PrefillURL string
}

// serveAuthorize shows the login form (GET) and checks submitted credentials
// (POST). Parameters come from the query string for GET and from the form
// body for POST, which also accepts authorization requests sent by POST.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	values := r.URL.Query()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			p.showErrorPage(w, "The request could not be read.")
			return
		}
		values = r.PostForm
	}
	in := params{values: values}
	req := authorizationRequest{
		ClientID:            in.get("client_id"),
		RedirectURI:         in.get("redirect_uri"),
		ResponseType:        in.get("response_type"),
		Scope:               in.get("scope"),
		State:               in.get("state"),
		Nonce:               in.get("nonce"),
		CodeChallenge:       in.get("code_challenge"),
		CodeChallengeMethod: in.get("code_challenge_method"),
		Prompt:              in.get("prompt"),
	}
	loginHint := in.get("login_hint")
	username := in.get("username")
	password := in.get("password")

	// Until the client and redirect URI are known to be registered, errors are
	// shown here rather than redirected, so this cannot act as an open redirect.
	client, ok := p.clients[req.ClientID]
	if !ok {
		p.logger.Warn("devidp: authorization request from unknown client", "client_id", req.ClientID)
		p.showErrorPage(w, "Unknown client_id.")
		return
	}
	if !slices.Contains(client.RedirectURIs, req.RedirectURI) {
		p.logger.Warn("devidp: authorization request with unregistered redirect_uri",
			"client_id", client.ID, "redirect_uri", req.RedirectURI)
		p.showErrorPage(w, "The redirect_uri is not registered for this client.")
		return
	}

	if repeated := in.firstRepeated(); repeated != "" {
		p.redirectWithError(w, r, req, "invalid_request", "parameter "+repeated+" was given more than once")
		return
	}
	if errorCode, description := req.check(); errorCode != "" {
		p.redirectWithError(w, r, req, errorCode, description)
		return
	}

	if r.Method == http.MethodGet || (!in.values.Has("username") && !in.values.Has("password")) {
		p.showLoginPage(w, req, loginHint, "")
		return
	}

	userIndex, ok := p.checkCredentials(username, password)
	if !ok {
		p.logger.Warn("devidp: failed sign-in", "username", username, "client_id", client.ID)
		p.showLoginPage(w, req, username, "Incorrect email or password.")
		return
	}

	code := p.issueCode(req, userIndex)
	p.logger.Info("devidp: signed in", "subject", p.users[userIndex].Subject, "client_id", client.ID)
	p.redirect(w, r, req.RedirectURI, url.Values{"code": {code}}, req.State)
}

// checkCredentials returns the index of the user with this email (compared
// case-insensitively) and password.
func (p *Provider) checkCredentials(email, password string) (int, bool) {
	i, ok := p.usersByEmail[strings.ToLower(email)]
	if !ok {
		return 0, false
	}
	if subtle.ConstantTimeCompare([]byte(password), []byte(p.users[i].Password)) != 1 {
		return 0, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return i, !p.removed[i]
}

// issueCode records a new authorization code for a signed-in user.
func (p *Provider) issueCode(req authorizationRequest, userIndex int) string {
	code := rand.Text()
	now := p.now()

	p.mu.Lock()
	defer p.mu.Unlock()
	p.forgetExpiredLocked(now)
	p.codes[code] = &authorizationCode{
		clientID:      req.ClientID,
		redirectURI:   req.RedirectURI,
		userIndex:     userIndex,
		nonce:         req.Nonce,
		codeChallenge: req.CodeChallenge,
		offline:       slices.Contains(strings.Fields(req.Scope), "offline_access"),
		expiresAt:     now.Add(codeLifetime),
		forgetAt:      now.Add(codeLifetime),
	}
	return code
}

// redirectWithError sends an authorization error back to the client's
// (already validated) redirect URI.
func (p *Provider) redirectWithError(w http.ResponseWriter, r *http.Request, req authorizationRequest, errorCode, description string) {
	p.logger.Warn("devidp: authorization request refused", "client_id", req.ClientID, "error", errorCode, "description", description)
	p.redirect(w, r, req.RedirectURI, url.Values{"error": {errorCode}, "error_description": {description}}, req.State)
}

// redirect sends the browser to redirectURI with extra query parameters
// added to any it already has, plus state when the client sent one.
func (p *Provider) redirect(w http.ResponseWriter, r *http.Request, redirectURI string, extra url.Values, state string) {
	target, err := url.Parse(redirectURI)
	if err != nil {
		// Unreachable: New checked every registered redirect URI.
		p.showErrorPage(w, "The redirect_uri is invalid.")
		return
	}
	query := target.Query()
	for name, values := range extra {
		query[name] = values
	}
	if state != "" {
		query.Set("state", state)
	}
	target.RawQuery = query.Encode()

	status := http.StatusFound
	if r.Method == http.MethodPost {
		// 303 makes the browser follow the redirect with GET.
		status = http.StatusSeeOther
	}
	http.Redirect(w, r, target.String(), status)
}

func (p *Provider) showLoginPage(w http.ResponseWriter, req authorizationRequest, username, errorMessage string) {
	data := loginPageData{
		ClientID:     req.ClientID,
		HiddenFields: req.fields(),
		Username:     username,
		Error:        errorMessage,
	}
	for _, u := range p.users {
		prefill := url.Values{"login_hint": {u.Email}}
		for _, f := range data.HiddenFields {
			prefill.Set(f.Name, f.Value)
		}
		data.DemoUsers = append(data.DemoUsers, demoUser{
			Name:       u.Name,
			Email:      u.Email,
			Password:   u.Password,
			Groups:     u.Groups,
			PrefillURL: "/authorize?" + prefill.Encode(),
		})
	}
	p.renderPage(w, http.StatusOK, p.loginPage, data)
}

// showErrorPage tells the person in the browser that the request is bad. It is
// used only when the error cannot safely be sent to the client's redirect URI.
func (p *Provider) showErrorPage(w http.ResponseWriter, message string) {
	p.renderPage(w, http.StatusBadRequest, p.errorPage, message)
}

func (p *Provider) renderPage(w http.ResponseWriter, status int, page *template.Template, data any) {
	var body bytes.Buffer
	if err := page.Execute(&body, data); err != nil {
		p.logger.Error("devidp: rendering page", "page", page.Name(), "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The page needs nothing but its inline styles, and must not be framed
	// (clickjacking). form-action is left open on purpose: browsers apply it
	// to the redirect that follows a successful sign-in.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	w.Write(body.Bytes())
}
