package devidp

// loginPageHTML is the html/template source of the login form. Demo users are
// listed with their passwords on purpose: they are throwaway development
// accounts, and listing them is what makes the demo usable.
const loginPageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in – development identity provider</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f5; color: #18181b; }
main { max-width: 28rem; margin: 3rem auto; padding: 2rem; background: #fff; border-radius: 0.5rem; }
.warning { padding: 0.5rem 0.75rem; background: #fef3c7; border: 1px solid #f59e0b; border-radius: 0.25rem; }
.field { margin: 1rem 0; }
label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
input { box-sizing: border-box; width: 100%; padding: 0.5rem; font-size: 1rem; }
.error { color: #b91c1c; margin: 0.25rem 0 0; }
button { padding: 0.5rem 1.25rem; font-size: 1rem; }
li { margin: 0.5rem 0; }
</style>
</head>
<body>
<main>
<p class="warning">Development identity provider. Never use it in production.</p>
<h1>Sign in</h1>
<p>to continue to <strong>{{.ClientID}}</strong></p>
<form method="post" action="/authorize">
{{- range .HiddenFields}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{- end}}
<div class="field">
<label for="username">Email</label>
<input id="username" name="username" type="text" inputmode="email" autocomplete="username" value="{{.Username}}" required{{if not .Username}} autofocus{{end}}>
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required{{if .Username}} autofocus{{end}}{{if .Error}} aria-invalid="true" aria-describedby="password-error"{{end}}>
{{- if .Error}}
<p id="password-error" class="error" role="alert">{{.Error}}</p>
{{- end}}
</div>
<button type="submit">Sign in</button>
</form>
{{- if .DemoUsers}}
<section aria-labelledby="demo-users-heading">
<h2 id="demo-users-heading">Demo users</h2>
<p>Pick a user to fill in the email, then enter the password shown.</p>
<ul id="demo-users">
{{- range .DemoUsers}}
<li><a href="{{.PrefillURL}}">{{if .Name}}{{.Name}}{{else}}{{.Email}}{{end}}</a>: {{.Email}}, password <code>{{.Password}}</code>
{{- if .Groups}}, groups {{range $i, $group := .Groups}}{{if $i}}, {{end}}{{$group}}{{end}}{{end}}</li>
{{- end}}
</ul>
</section>
{{- end}}
</main>
</body>
</html>
`

// errorPageHTML is the html/template source of the page shown for requests
// whose errors cannot be sent to a redirect URI. Its data is the message.
const errorPageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sign-in request refused – development identity provider</title>
</head>
<body>
<main>
<p>Development identity provider. Never use it in production.</p>
<h1>Sign-in request refused</h1>
<p id="error">{{.}}</p>
</main>
</body>
</html>
`
