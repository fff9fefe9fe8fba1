package scans

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
)

// maxVerifyPorts bounds a verification scan; wider openings are verified on
// their first ports and the rest left to the scheduled scans.
const maxVerifyPorts = 2048

// QueueVerification queues the scan that proves an implemented request: its
// destination assets, on exactly the approved ports.
func (s *Service) QueueVerification(tx *gorm.DB, r *models.Request) error {
	addrs, tcp, udp, err := verificationScope(tx, r)
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		if !allEgress(r) {
			return nil
		}
		// Nothing of ours listens for an outbound opening, and the peer is
		// not ours to scan: the implementer's change is the record.
		if err := s.requests.Step(tx, core.SystemActor, r, requests.EventVerify, nil, nil, "only egress rules: an outbound opening is not proven by scanning our assets, and the outside peer is not ours to scan"); err != nil {
			return err
		}
		return s.requests.Step(tx, core.SystemActor, r, requests.EventActivate, nil, nil, "the opening is in force")
	}
	id := r.ID
	_, err = s.enqueue(tx, core.SystemActor, models.ScanRun{
		Kind: "verification", Profile: "verification", Targets: strings.Join(addrs, ","),
		TCPPorts: tcp.String(), UDPPorts: udp.String(), RequestID: &id,
	})
	return err
}

// verificationScope is what a request's rules open: the destination
// addresses (a zone destination means its assets) and the ports per protocol.
func verificationScope(tx *gorm.DB, r *models.Request) (addrs []string, tcp, udp policy.PortSet, err error) {
	seen := map[string]bool{}
	var tcpRanges, udpRanges []string
	for _, ru := range r.Rules {
		if isEgress(ru) {
			continue
		}
		dests, err := ruleAddresses(tx, ru)
		if err != nil {
			return nil, nil, nil, err
		}
		for _, a := range dests {
			if !seen[a] {
				seen[a] = true
				addrs = append(addrs, a)
			}
		}
		if ru.Protocol == string(policy.UDP) {
			udpRanges = append(udpRanges, ru.Ports)
		} else {
			tcpRanges = append(tcpRanges, ru.Ports)
		}
	}
	sort.Strings(addrs)
	if len(tcpRanges) > 0 {
		tcp, _ = policy.ParsePorts(strings.Join(tcpRanges, ","))
	}
	if len(udpRanges) > 0 {
		udp, _ = policy.ParsePorts(strings.Join(udpRanges, ","))
	}
	return addrs, capPorts(tcp), capPorts(udp), nil
}

func capPorts(ps policy.PortSet) policy.PortSet {
	var out policy.PortSet
	n := 0
	for _, r := range ps {
		if n >= maxVerifyPorts {
			break
		}
		last := r.Last
		if room := maxVerifyPorts - n; int(last)-int(r.First)+1 > room {
			last = r.First + uint16(room-1)
		}
		out = append(out, policy.PortRange{First: r.First, Last: last})
		n += int(last) - int(r.First) + 1
	}
	return out
}

// isEgress: the rule opens outbound connections from our assets (its
// source) to an outside peer (its destination).
func isEgress(ru models.Rule) bool { return ru.Direction == string(policy.Egress) }

// allEgress: every rule of the request is outbound.
func allEgress(r *models.Request) bool {
	for _, ru := range r.Rules {
		if !isEgress(ru) {
			return false
		}
	}
	return len(r.Rules) > 0
}

// ruleAddresses are the asset addresses a rule's destination names.
func ruleAddresses(tx *gorm.DB, ru models.Rule) ([]string, error) {
	if _, err := netip.ParseAddr(strings.Split(ru.Destination, ",")[0]); err == nil {
		return strings.Split(ru.Destination, ","), nil
	}
	var addrs []string
	err := tx.Model(&models.Asset{}).Joins("JOIN zones ON zones.id = assets.zone_id").
		Where("LOWER(zones.name) = LOWER(?)", ru.Destination).Order("assets.address").Pluck("assets.address", &addrs).Error
	return addrs, err
}

// serviceMatches accepts the service a rule expects; "https" is http over TLS.
func serviceMatches(expected string, p Port) bool {
	switch expected {
	case "", "unknown":
		return true
	case "https":
		return p.Service == "http" && p.TLS
	}
	return p.Service == expected
}

// concludeVerification judges a verification scan: every approved port
// must be open, answer with the expected service and, where the policy
// required authentication, show no weak configuration. The request becomes
// verified and active, or fails verification with the evidence.
func (s *Service) concludeVerification(tx *gorm.DB, requestID, runID uint, rep *Report) (string, error) {
	r, err := requests.LoadRequest(tx, requestID)
	if err != nil {
		return "", err
	}
	if requests.State(r.State) != requests.StateImplemented {
		return fmt.Sprintf("request #%d is %s: the scan does not change it", r.ID, requests.StateLabel(requests.State(r.State))), nil
	}
	// Where the policy required authentication, and on every rule touching
	// an innovation-tier application, a weak configuration the scanner
	// confirmed (a service answering without authentication) fails it.
	needsAuth, innovation := map[int]bool{}, map[int]bool{}
	for _, f := range requests.FindingsOf(*r) {
		switch f.Code {
		case policy.CodeAuthRequired:
			needsAuth[f.Rule] = true
		case policy.CodeInnovationTier:
			needsAuth[f.Rule], innovation[f.Rule] = true, true
		}
	}
	hosts := map[string]*Host{}
	for i := range rep.Hosts {
		hosts[rep.Hosts[i].Address] = &rep.Hosts[i]
	}
	var evidence []requests.Evidence
	allOK := true
	for i, ru := range r.Rules {
		if isEgress(ru) {
			continue // outbound: nothing of ours listens for it (see QueueVerification)
		}
		addrs, err := ruleAddresses(tx, ru)
		if err != nil {
			return "", err
		}
		ports, _ := policy.ParsePorts(ru.Ports)
		for _, addr := range addrs {
			for _, pr := range capPorts(ports) {
				for p := int(pr.First); p <= int(pr.Last); p++ {
					ev := requests.Evidence{Rule: i, Address: addr, Protocol: ru.Protocol, Port: uint16(p), State: "not scanned"}
					var seen *Port
					if h := hosts[addr]; h != nil {
						ev.State = "closed"
						if h.State == "down" {
							ev.State = "no answer (host down or filtered)"
						}
						for k := range h.Ports {
							if h.Ports[k].Protocol == ru.Protocol && int(h.Ports[k].Port) == p {
								seen = &h.Ports[k]
							}
						}
					}
					if seen != nil {
						ev.State, ev.Service, ev.TLS, ev.Banner = seen.State, seen.Service, seen.TLS, seen.Banner
						for _, f := range seen.Findings {
							ev.Weak = append(ev.Weak, f.ID)
						}
					}
					switch {
					case seen == nil || seen.State != "open":
						ev.Verdict = fmt.Sprintf("not open (%s)", ev.State)
					case !serviceMatches(ru.Service, *seen):
						ev.Verdict = fmt.Sprintf("answers as %s, not the approved %s", seen.Service, ru.Service)
					case innovation[i] && len(ev.Weak) > 0:
						ev.Verdict = "accepts unauthenticated or anonymous access, which an innovation-tier application may not: " + strings.Join(ev.Weak, ", ")
					case needsAuth[i] && len(ev.Weak) > 0:
						ev.Verdict = "runs without the authentication the policy required: " + strings.Join(ev.Weak, ", ")
					default:
						ev.Verdict, ev.OK = "as approved", true
					}
					allOK = allOK && ev.OK
					evidence = append(evidence, ev)
				}
			}
		}
	}
	summary := evidenceText(evidence)
	detail := map[string]any{"scan_id": runID, "evidence": evidence}
	if allOK {
		if err := s.requests.Step(tx, core.SystemActor, r, requests.EventVerify, nil, detail, fmt.Sprintf("scan #%d: every approved port answers as approved", runID)); err != nil {
			return "", err
		}
		if err := s.requests.Step(tx, core.SystemActor, r, requests.EventActivate, nil, nil, "verified on the wire; the opening is in force"); err != nil {
			return "", err
		}
		return summary, nil
	}
	failed := 0
	for _, e := range evidence {
		if !e.OK {
			failed++
		}
	}
	if err := s.requests.Step(tx, core.SystemActor, r, requests.EventFailVerify, nil, detail, fmt.Sprintf("scan #%d: %d of %d approved ports are not as approved", runID, failed, len(evidence))); err != nil {
		return "", err
	}
	return summary, nil
}

func evidenceText(evidence []requests.Evidence) string {
	var b strings.Builder
	for _, e := range evidence {
		fmt.Fprintf(&b, "rule %d %s %s/%d: %s", e.Rule+1, e.Address, e.Protocol, e.Port, e.Verdict)
		if e.Service != "" {
			svc := e.Service
			if e.TLS {
				svc += " over TLS"
			}
			fmt.Fprintf(&b, " [%s", svc)
			if e.Banner != "" {
				fmt.Fprintf(&b, ", banner %q", truncate(e.Banner, 80))
			}
			b.WriteString("]")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// VerificationEvidence is the evidence of a request's latest verification:
// none when no verification ran. A failed read is an error, not "none": a
// page drawn from it is kept.
func (s *Service) VerificationEvidence(tx *gorm.DB, requestID uint) (*models.ScanRun, []requests.Evidence, error) {
	var run models.ScanRun
	if err := tx.Where("request_id = ? AND kind = ?", requestID, "verification").Order("id DESC").Take(&run).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			err = nil
		}
		return nil, nil, err
	}
	var ev models.AuditEvent
	var evidence []requests.Evidence
	err := tx.Where("object_type = ? AND object_id = ? AND action IN ?", "request", requestID, []string{string(requests.EventVerify), string(requests.EventFailVerify)}).Order("seq DESC").Take(&ev).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
	case err != nil:
		return nil, nil, err
	default:
		var d struct {
			ScanID   uint                `json:"scan_id"`
			Evidence []requests.Evidence `json:"evidence"`
		}
		if json.Unmarshal([]byte(ev.Detail), &d) == nil && d.ScanID == run.ID {
			evidence = d.Evidence
		}
	}
	return &run, evidence, nil
}
