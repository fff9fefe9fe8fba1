package requests_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// TestCrashChild is the writer the crash test kills; it runs only when
// re-executed by TestCrashKeepsAcknowledgedTransitions.
func TestCrashChild(t *testing.T) {
	path := os.Getenv("PORTCULLIS_CRASH_DB")
	if path == "" {
		t.Skip("run by TestCrashKeepsAcknowledgedTransitions")
	}
	db, err := models.Open(context.Background(), path, modelstest.Logger())
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	w := &workflowtest.World{App: workflow.New(db, modelstest.Logger()), Ctx: context.Background()}
	for _, who := range []struct {
		sub  string
		role core.Role
		dst  *core.Actor
	}{{"alice", core.RoleRequester, &w.Alice}, {"rita", core.RoleReviewer, &w.Rita}} {
		a, err := w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: "https://idp.test", Subject: who.sub, Email: who.sub + "@example.test", Roles: []core.Role{who.role}})
		if err != nil {
			fmt.Println("login:", err)
			os.Exit(3)
		}
		*who.dst = a
	}
	// Each step on every start: an earlier child may have been killed between
	// two of them, and a step already done is refused harmlessly.
	w.Adam = core.Actor{ID: 0, Email: "setup", Roles: []core.Role{core.RoleAdmin}}
	w.App.Inventory.SaveZone(w.Ctx, w.Adam, 0, inventory.ZoneInput{Name: "transit", Classification: "transit", CIDRs: "10.20.0.0/16"})
	w.App.Inventory.SaveZone(w.Ctx, w.Adam, 0, inventory.ZoneInput{Name: "pci", Classification: "high", CIDRs: "10.50.0.0/16"})
	w.App.Inventory.SaveAsset(w.Ctx, w.Adam, 0, inventory.AssetInput{Address: "10.50.0.10"})
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		r, err := w.App.Requests.Create(w.Ctx, w.Alice, workflowtest.LowRisk())
		if err != nil {
			fmt.Println("create:", err)
			os.Exit(3)
		}
		fmt.Fprintf(out, "draft %d\n", r.ID)
		out.Flush()
		if _, err := w.App.Requests.Submit(w.Ctx, w.Alice, r.ID); err != nil {
			fmt.Println("submit:", err)
			os.Exit(3)
		}
		fmt.Fprintf(out, "submitted %d\n", r.ID)
		out.Flush()
		if _, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput()); err != nil {
			fmt.Println("review:", err)
			os.Exit(3)
		}
		fmt.Fprintf(out, "approved %d\n", r.ID)
		out.Flush()
	}
}

// TestCrashKeepsAcknowledgedTransitions kills a writer with SIGKILL at
// random moments, again and again; after each crash the database passes its
// integrity check, holds every transition the writer was told had
// committed, and its audit chain verifies.
//
// The kill is timed from the writer's acknowledgements, not from its start:
// its start-up (migrations, logins, fixtures) can take seconds on a loaded
// machine, and a kill on a clock started with the process then landed before
// any write. After a random number of acknowledgements (1 to 20) and a random
// delay of under 25 ms, it lands somewhere among the writes whatever the load.
func TestCrashKeepsAcknowledgedTransitions(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: not in -short")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	acked := map[uint]requests.State{}
	states := map[string]requests.State{"draft": requests.StateDraft, "submitted": requests.StateSubmitted, "approved": requests.StateApproved}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 5; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PORTCULLIS_CRASH_DB="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 1 + rng.IntN(20)
		delay := time.Duration(rng.IntN(25_000)) * time.Microsecond
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		var kill <-chan time.Time // armed by the killAfter-th acknowledgement
		// Only a writer that never gets going is given up on: this bound
		// turns a hang into a failure, it times nothing the test checks.
		stuck := time.NewTimer(5 * time.Minute)
		seen := 0
	read:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					break read // killed, or it stopped on its own after saying why
				}
				verb, idText, _ := strings.Cut(line, " ")
				id, err := strconv.Atoi(idText)
				if err != nil || states[verb] == "" {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("child said %q", line)
				}
				// Read after the kill too: a line was printed only once its
				// transition had committed.
				acked[uint(id)] = states[verb]
				if seen++; seen == killAfter {
					kill = time.After(delay)
				}
			case <-kill:
				cmd.Process.Signal(syscall.SIGKILL)
				kill = nil
			case <-stuck.C:
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("round %d: the writer acknowledged %d of the %d writes awaited before the kill, in 5 minutes", round, seen, killAfter)
			}
		}
		stuck.Stop()
		cmd.Wait()
	}
	if len(acked) == 0 {
		t.Fatal("the writer acknowledged nothing before being killed")
	}
	db, err := models.Open(context.Background(), path, modelstest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	var integrity string
	db.Raw("PRAGMA integrity_check").Scan(&integrity)
	if integrity != "ok" {
		t.Fatalf("integrity check: %s", integrity)
	}
	order := map[requests.State]int{requests.StateDraft: 0, requests.StateSubmitted: 1, requests.StateApproved: 2}
	for id, want := range acked {
		var r models.Request
		if err := db.First(&r, id).Error; err != nil {
			t.Fatalf("acknowledged request %d is gone: %v", id, err)
		}
		if order[requests.State(r.State)] < order[want] {
			t.Fatalf("request %d is %s, but %s was acknowledged", id, r.State, want)
		}
	}
	svc := workflow.New(db, modelstest.Logger())
	rep, err := svc.Compliance.VerifyAuditChain(context.Background(), core.SystemActor)
	if err != nil || !rep.OK() {
		t.Fatalf("audit chain after crashes: %+v %v", rep, err)
	}
	t.Logf("%d requests acknowledged over 5 crashes; %d audit events verify", len(acked), rep.Events)
}
