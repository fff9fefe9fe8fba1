package channels_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/portcullis/portcullis/workflow/alerts/channels"
)

// How the server wires the package: channels from its settings, routes
// over them, a dispatcher its outbox worker calls once per alert.
func Example_wiring() {
	soc := &channels.Webhook{URL: "https://soc.example.com/hooks/portcullis", Secret: "from the settings store"}
	siem := &channels.Syslog{Network: channels.NetworkTLS, Address: "siem.example.com:6514", Format: channels.FormatCEF, ProductVersion: "1.4.0"}
	mail := &channels.Email{Addr: "smtp.example.com:587", From: "Portcullis <portcullis@example.com>",
		To: []string{"soc@example.com"}, Username: "portcullis", Password: "from the settings store", StartTLS: true}

	router, err := channels.NewRouter(
		channels.Route{Name: "all drift to the SIEM", Channel: siem},
		channels.Route{Name: "serious drift to the SOC", MinSeverity: channels.SeverityHigh, Channel: soc},
		channels.Route{Name: "DMZ drift by mail", Classifications: []string{"dmz", "internet"}, Channel: mail},
	)
	if err != nil {
		log.Fatal(err)
	}
	dispatcher := &channels.Dispatcher{Router: router, MaxAttempts: 5, MaxDelay: time.Minute}

	a := channels.Alert{ID: "drift-42", Kind: "drift.new_port", Severity: channels.SeverityHigh,
		Title: "New open port on web01", Asset: "web01", Zone: "dmz-east", Classification: "dmz",
		Protocol: "tcp", Port: 8443, FirstSeen: time.Now(), Link: "https://portcullis.example.com/drift/42"}
	for _, res := range dispatcher.Deliver(context.Background(), a) {
		// The outbox stores one row per channel: delivered, or the error
		// for admins, and whether a later retry makes sense.
		fmt.Println(res.Channel, res.Delivered, res.Attempts, res.Err, channels.IsPermanent(res.Err))
	}
}

// How a receiver checks a delivery.
func ExampleVerifySignature() {
	secret := "shared with Portcullis"
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		err = channels.VerifySignature(secret, r.Header.Get(channels.HeaderTimestamp), body,
			r.Header.Get(channels.HeaderSignature), time.Now(), 5*time.Minute)
		if err != nil {
			// 401 is permanent for Portcullis: it will not retry.
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		// Deduplicate on the X-Portcullis-Delivery header, then handle body.
		w.WriteHeader(http.StatusNoContent)
	}
	_ = handler

	body := []byte(`{"id":"drift-42"}`)
	now := time.Unix(1_800_000_000, 0)
	timestamp := fmt.Sprint(now.Unix())
	signature := channels.Signature(secret, timestamp, body)
	fmt.Println(signature[:7], channels.VerifySignature(secret, timestamp, body, signature, now, 0))
	fmt.Println(channels.VerifySignature(secret, timestamp, []byte(`{"id":"drift-43"}`), signature, now, 0))
	// Output:
	// sha256= <nil>
	// webhook signature: does not match the body
}
