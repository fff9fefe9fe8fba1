package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/live"
)

// liveSrc is the change stream of a page drawn at stamp; the stamp is read
// before the page's data, so a change made while the page was drawn is
// reported, not lost. A failed read leaves the page without live updates.
func (s *Server) liveSrc(r *http.Request, stream string) (src string, ok bool) {
	st, err := s.app.Live.Current(r.Context())
	if err != nil {
		s.log.Warn("live pages: reading the store's stamp", "err", err)
		return "", false
	}
	return stream + "?since=" + url.QueryEscape(st.String()), true
}

// liveEvents streams an event "changed" each time watch says what the page
// shows moved since the stamp it was drawn at (its "since"), until the
// reader leaves, the session ends or the user loses the roles (none: any
// logged-in user).
func (s *Server) liveEvents(w http.ResponseWriter, r *http.Request, roles []core.Role, watch live.Watch) {
	last, err := live.ParseStamp(r.URL.Query().Get("since"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc := startEventStream(w)
	// A reconnecting browser waits a little; the first flush tells the
	// browser the stream is open.
	fmt.Fprint(w, "retry: 5000\n\n")
	if rc.Flush() != nil {
		return
	}
	updates, stop := s.app.Live.Subscribe()
	defer stop()
	recheck := time.NewTicker(s.cfg.StreamSessionCheck)
	defer recheck.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-recheck.C:
			if s.endedStream(w, rc, r, roles) {
				return
			}
		case to := <-updates:
			if to == last {
				continue
			}
			changed, err := watch(r.Context(), last, to)
			if err != nil {
				if r.Context().Err() == nil {
					s.log.Warn("live pages: checking for changes", "err", err)
				}
				return
			}
			last = to
			if !changed {
				continue
			}
			if s.endedStream(w, rc, r, roles) {
				return
			}
			if _, err := fmt.Fprintf(w, "event: changed\ndata: %s\n\n", to); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

// startEventStream answers with a stream of Server-Sent Events. The
// session manager's writer does not flush: the response controller reaches
// the connection's.
func startEventStream(w http.ResponseWriter) *http.ResponseController {
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return rc
}

// endedStream ends a stream whose session ended or whose user lost the
// roles, telling the browser why so that it does not reconnect.
func (s *Server) endedStream(w http.ResponseWriter, rc *http.ResponseController, r *http.Request, roles []core.Role) bool {
	why := s.streamSessionEnded(r, roles)
	if why == "" {
		return false
	}
	fmt.Fprintf(w, "event: end\ndata: {\"reason\":%q}\n\n", why)
	rc.Flush()
	return true
}

func (s *Server) requestEvents(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Only who may see the request may follow it.
	if _, err := s.app.Requests.Get(r.Context(), actor(r), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.liveEvents(w, r, nil, s.app.Live.Request(id))
}

func (s *Server) driftEvents(w http.ResponseWriter, r *http.Request) {
	s.liveEvents(w, r, streamRoles, s.app.Live.Drift())
}

func (s *Server) scanListEvents(w http.ResponseWriter, r *http.Request) {
	s.liveEvents(w, r, streamRoles, s.app.Live.Scans())
}
