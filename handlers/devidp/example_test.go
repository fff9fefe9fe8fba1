package devidp_test

import (
	"log"
	"log/slog"
	"net"
	"net/http"

	"github.com/portcullis/portcullis/handlers/devidp"
)

// The provider needs its issuer URL before it can be made, so listen first
// on a free loopback port and build the issuer from the address it got.
func ExampleNew() {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	issuer := "http://" + listener.Addr().String()

	provider, err := devidp.New(issuer,
		[]devidp.Client{{
			ID:           "portcullis",
			Secret:       "demo-secret",
			RedirectURIs: []string{"http://127.0.0.1:8080/auth/callback"},
		}},
		[]devidp.User{{
			Subject:  "demo-admin",
			Email:    "admin@demo.test",
			Name:     "Demo Admin",
			Groups:   []string{"admins"},
			Password: "demo",
		}},
		slog.Default(),
	)
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(listener, provider)

	// The application then discovers the provider with
	// oidc.NewProvider(ctx, issuer) and logs in as usual.
}
