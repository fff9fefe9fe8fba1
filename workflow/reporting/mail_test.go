package reporting_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/alerts/channels"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/jobs"
	"github.com/portcullis/portcullis/workflow/periodic"
	"github.com/portcullis/portcullis/workflow/reporting"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// mailbox is an SMTP receiver on 127.0.0.1:0 that keeps each message with
// its envelope recipients.
type mailbox struct {
	addr string
	mu   sync.Mutex
	got  []received
	// refuse answers RCPT for these addresses instead of 250.
	refuse map[string]string
}

type received struct {
	to   []string
	data string
}

func newMailbox(t *testing.T) *mailbox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &mailbox{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { m.session(conn) })
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return m
}

func (m *mailbox) session(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	say := func(s string) { io.WriteString(conn, s+"\r\n") }
	say("220 mailbox ready")
	var msg received
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			say("250 mailbox")
		case "MAIL":
			msg = received{}
			say("250 ok")
		case "RCPT":
			to := strings.Trim(strings.TrimPrefix(arg, "TO:"), "<>")
			m.mu.Lock()
			reply, refused := m.refuse[to]
			m.mu.Unlock()
			if refused {
				say(reply)
				continue
			}
			msg.to = append(msg.to, to)
			say("250 ok")
		case "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			msg.data = b.String()
			m.mu.Lock()
			m.got = append(m.got, msg)
			m.mu.Unlock()
			say("250 queued")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (m *mailbox) messages() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]received(nil), m.got...)
}

// parts reads a report e-mail: the content types of its parts, depth
// first, with the attachment's bytes.
func parts(t *testing.T, data string) (subject string, types []string, texts map[string]string, attachment []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	texts = map[string]string{}
	var walk func(contentType string, body io.Reader)
	walk = func(contentType string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(contentType)
		if err != nil {
			t.Fatalf("content type %q: %v", contentType, err)
		}
		types = append(types, mt)
		if !strings.HasPrefix(mt, "multipart/") {
			b, _ := io.ReadAll(body)
			if mt == "application/pdf" {
				attachment = b
			} else {
				texts[mt] = string(b)
			}
			return
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart() // decodes quoted-printable itself
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var r io.Reader = p
			if p.Header.Get("Content-Transfer-Encoding") == "base64" {
				r = base64Reader(p)
			}
			walk(p.Header.Get("Content-Type"), r)
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Body)
	return subject, types, texts, attachment
}

func TestReportsAreMailedOncePerRecipient(t *testing.T) {
	requireFont(t)
	box := newMailbox(t)
	o := newOrg(t)
	o.App.Reports.SetMailer(&channels.Email{Addr: box.addr, From: "Portcullis <portcullis@example.test>", LocalName: "test"}, "https://portcullis.example")
	workflowtest.Must(t, o.App.Reports.Subscribe(o.Ctx, o.Rita, "apps", "", true))
	workflowtest.Must(t, o.App.Reports.Subscribe(o.Ctx, o.Bob, "", "sales", false))
	// Rita reads Chinese: her copies are in Chinese, everyone else's in the
	// server's default (English).
	workflowtest.Must(t, o.App.Identity.SetPreferences(o.Ctx, o.Rita, identity.Preferences{Language: "zh-CN", TimeZone: "Asia/Shanghai"}))
	o.scanDay(t, o.day1, network(1))
	o.scanDay(t, o.day2, network(2))
	for range 2 {
		deliverDue(t, o)
	}
	// Generating again queues nothing more: no delivery, no job.
	var runs []models.ScanRun
	o.App.DB().Where("kind = ?", "daily").Find(&runs)
	for _, r := range runs {
		workflowtest.Must(t, o.App.Reports.GenerateAfterScan(o.Ctx, r.ID))
	}
	if n := deliverDue(t, o); n != 0 {
		t.Errorf("a third round tried %d deliveries", n)
	}
	var deliveries, jobs int64
	o.App.DB().Model(&models.ReportDelivery{}).Count(&deliveries)
	o.App.DB().Table("river_job").Where("kind = ?", reporting.DeliveryArgs{}.Kind()).Count(&jobs)
	if deliveries == 0 || jobs != deliveries {
		t.Errorf("%d report deliveries, %d delivery jobs: want one job each", deliveries, jobs)
	}

	got := box.messages()
	per := map[string]int{}
	var alicePay string
	for _, m := range got {
		subject, _, texts, _ := parts(t, m.data)
		for _, to := range m.to {
			per[to+" "+subject]++
			chinese := strings.HasPrefix(subject, "[Portcullis] 每日端口报表：区域 apps") && strings.Contains(texts["text/html"], `<html lang="zh-CN">`) && strings.Contains(texts["text/plain"], "统计时段")
			if (to == "rita@example.test") != chinese {
				t.Errorf("%s got %q: in Chinese %v", to, subject, chinese)
			}
			if to == "alice@example.test" && strings.Contains(subject, "team payments") && strings.Contains(subject, periodic.Daily.Period(o.day2)) {
				alicePay = m.data
			}
		}
	}
	for k, c := range per {
		if c != 1 {
			t.Errorf("%q received %d times", k, c)
		}
	}
	var rita, bob, alice int
	for k := range per {
		switch {
		case strings.HasPrefix(k, "rita@"):
			rita++
		case strings.HasPrefix(k, "bob@"):
			bob++
		case strings.HasPrefix(k, "alice@"):
			alice++
		}
	}
	// Rita: the apps zone's two reports; alice: payments' two; bob opted out.
	if rita != 2 || alice != 2 || bob != 0 {
		t.Errorf("messages: rita %d, alice %d, bob %d (%v)", rita, alice, bob, per)
	}
	var rows []models.ReportDelivery
	o.App.DB().Find(&rows)
	for _, r := range rows {
		if r.Status != "delivered" || r.Attempts != 1 {
			t.Errorf("delivery %+v", r)
		}
	}
	if alicePay == "" {
		t.Fatalf("alice got no payments report for day 2: %v", per)
	}
	subject, types, texts, pdf := parts(t, alicePay)
	want := []string{"multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Errorf("parts %v, want %v", types, want)
	}
	if !strings.Contains(subject, "Daily port report: zone apps, team payments") {
		t.Errorf("subject %q", subject)
	}
	if !strings.Contains(texts["text/plain"], "tcp/8443") || !strings.Contains(texts["text/html"], "<td>tcp/8443</td>") ||
		!strings.Contains(texts["text/plain"], "https://portcullis.example/reports/") {
		t.Errorf("bodies:\n%s\n%s", texts["text/plain"], texts["text/html"])
	}
	if text := pdfText(t, pdf); !strings.Contains(text, "zone apps") || !strings.Contains(text, "tcp/8443") {
		t.Errorf("the attached PDF:\n%s", text)
	}
}

// deliverDue makes the next attempt at each pending report e-mail, as the
// job engine's report_delivery jobs do, and returns how many it tried.
func deliverDue(t *testing.T, o *org) int {
	t.Helper()
	var due []models.ReportDelivery
	workflowtest.Must(t, o.App.DB().Where("status = ?", reporting.Pending).Order("id").Find(&due).Error)
	for _, d := range due {
		// A refused send is an error for the engine to retry or give up
		// on; the delivery row records it, and the tests read the rows.
		if err := o.App.Reports.Deliver(o.Ctx, d.ID, d.Attempts+1, 8); err != nil {
			t.Logf("delivery %d to %s: %v", d.ID, d.Recipient, err)
		}
	}
	return len(due)
}

func base64Reader(r io.Reader) io.Reader { return base64.NewDecoder(base64.StdEncoding, r) }

// A refused recipient is given up at once (5xx) or tried again later
// (4xx); the others are delivered.
func TestRefusedReportMail(t *testing.T) {
	box := newMailbox(t)
	box.refuse = map[string]string{"rita@example.test": "550 5.1.1 no such user", "aude@example.test": "451 4.3.0 try later"}
	o := newOrg(t)
	o.App.Reports.SetMailer(&channels.Email{Addr: box.addr, From: "portcullis@example.test", LocalName: "test"}, "")
	workflowtest.Must(t, o.App.Reports.Subscribe(o.Ctx, o.Rita, "apps", "", true))
	workflowtest.Must(t, o.App.Reports.Subscribe(o.Ctx, o.Aude, "apps", "", true))
	o.scanDay(t, o.day1, network(1))
	deliverDue(t, o)
	var rows []models.ReportDelivery
	o.App.DB().Order("recipient").Find(&rows)
	status := map[string]models.ReportDelivery{}
	for _, r := range rows {
		status[r.Recipient] = r
	}
	if r := status["rita@example.test"]; r.Status != "failed" || !strings.Contains(r.LastError, "no such user") {
		t.Errorf("rita's delivery: %+v", r)
	}
	if r := status["aude@example.test"]; r.Status != "pending" || r.Attempts != 1 || !r.NextAttempt.After(o.now) {
		t.Errorf("aude's delivery: %+v", r)
	}
	if r := status["alice@example.test"]; r.Status != "delivered" {
		t.Errorf("alice's delivery: %+v", r)
	}
}

// TestReportMailJobsRunOnTheEngine: the e-mails a report queues are River
// jobs the engine works: each recipient's delivered once, and a 5xx
// refusal gives its delivery up at once (the job cancelled, not retried).
func TestReportMailJobsRunOnTheEngine(t *testing.T) {
	box := newMailbox(t)
	box.refuse = map[string]string{"aude@example.test": "550 5.1.1 no such user"}
	o := newOrg(t)
	o.App.Reports.SetMailer(&channels.Email{Addr: box.addr, From: "portcullis@example.test", LocalName: "test"}, "")
	workflowtest.Must(t, o.App.Reports.Subscribe(o.Ctx, o.Rita, "apps", "", true))
	workflowtest.Must(t, o.App.Reports.Subscribe(o.Ctx, o.Aude, "apps", "", true))
	o.scanDay(t, o.day1, network(1))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- o.App.Jobs.Run(ctx, o.App.JobDeps(nil, nil), jobs.Options{ID: "report-mail-test", PollInterval: 100 * time.Millisecond})
	}()
	defer func() {
		cancel()
		workflowtest.Must(t, <-done)
	}()
	var rows []models.ReportDelivery
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows = nil
		workflowtest.Must(t, o.App.DB().Order("recipient").Find(&rows).Error)
		pending := slices.ContainsFunc(rows, func(r models.ReportDelivery) bool { return r.Status == reporting.Pending })
		if len(rows) > 0 && !pending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("report deliveries still pending: %+v", rows)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, r := range rows {
		want := reporting.Delivered
		if r.Recipient == "aude@example.test" {
			want = reporting.Failed
		}
		if r.Status != want || r.Attempts != 1 {
			t.Errorf("delivery to %s: %s after %d attempts, want %s after 1", r.Recipient, r.Status, r.Attempts, want)
		}
	}
	var states []string
	workflowtest.Must(t, o.App.DB().Table("river_job").Where("kind = ?", reporting.DeliveryArgs{}.Kind()).Order("id").Pluck("state", &states).Error)
	if len(states) != len(rows) || !slices.Contains(states, "cancelled") {
		t.Errorf("report delivery jobs in states %v for %d deliveries: want one each, the refused one cancelled", states, len(rows))
	}
	per := map[string]int{}
	for _, m := range box.messages() {
		for _, to := range m.to {
			per[to]++
		}
	}
	if per["rita@example.test"] != 1 || per["aude@example.test"] != 0 {
		t.Errorf("mails received: %v", per)
	}
}
