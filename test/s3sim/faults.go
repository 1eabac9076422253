package s3sim

import "strings"

// Always, as Times, makes a fault spoil every matching answer.
const Always = -1

// Fault answers matching requests with an S3 error instead of serving them.
type Fault struct {
	// Method ("" for any) and Resource, a prefix of /<bucket>/<key> (whatever the addressing style), select
	// the requests.
	Method, Resource string
	// Times is how many answers it spoils (0 is taken as 1; Always: every one).
	Times int
	// Status and Code are the answer's, e.g. 503 SlowDown, 500 InternalError.
	Status int
	Code   string
}

// Fail adds a fault.
func (s *Server) Fail(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// bodyFault spoils the body of an object's GET.
type bodyFault struct {
	key   string // "" for any
	kind  string // "cut" or "corrupt"
	after int64  // cut: the bytes sent first
	times int
}

// CutBody makes the next `times` GETs of key ("" for any) send `after` bytes of the body and then drop the
// connection. Only an answer whose body is longer than `after` is cut, and only such an answer counts.
func (s *Server) CutBody(key string, after int64, times int) {
	s.addBodyFault(&bodyFault{key: key, kind: "cut", after: after, times: times})
}

// Corrupt makes the next `times` GETs of key send other bytes of the same length (every byte inverted), so
// that only a checksum sees it.
func (s *Server) Corrupt(key string, times int) {
	s.addBodyFault(&bodyFault{key: key, kind: "corrupt", times: times})
}

func (s *Server) addBodyFault(f *bodyFault) {
	if f.times == 0 {
		f.times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodyFaults = append(s.bodyFaults, f)
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.bodyFaults = nil, nil
}

// takeFault returns the pending fault for a request, if any, and uses it up once.
func (s *Server) takeFault(method, resource string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Times != 0 && (f.Method == "" || f.Method == method) && strings.HasPrefix(resource, f.Resource) {
			if f.Times > 0 {
				f.Times--
			}
			return f
		}
	}
	return nil
}

// takeBodyFault returns the pending body fault of a kind for key that applies to a body of n bytes, and uses
// it up once.
func (s *Server) takeBodyFault(key, kind string, n int64) *bodyFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.bodyFaults {
		if f.times != 0 && f.kind == kind && (f.key == "" || f.key == key) && (kind != "cut" || n > f.after) {
			if f.times > 0 {
				f.times--
			}
			return f
		}
	}
	return nil
}
