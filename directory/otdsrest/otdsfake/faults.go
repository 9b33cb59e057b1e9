package otdsfake

// Fault makes requests of a route fail. A fault fires on the (After+1)th
// matching request counted from when it was added, and on the Times-1
// matching requests after that.
type Fault struct {
	// Route is a route name (RouteUsers, …); empty matches every route.
	Route string
	// After is how many matching requests pass first.
	After int
	// Times is how many matching requests fail (0: one; negative: all).
	Times int
	// Status is the answer's status (default 500), with an OTDS error
	// body carrying Code and Message.
	Status  int
	Code    int
	Message string
	// Drop closes the connection without answering instead.
	Drop bool
}

// FailNth answers the nth request (1-based) of a route with a 500.
func FailNth(route string, n int) Fault { return Fault{Route: route, After: n - 1} }

// DropNth drops the connection of the nth request (1-based) of a route and
// of every later one: Go's transport silently resends an idempotent request
// whose reused connection was dropped, so a single drop is often invisible.
func DropNth(route string, n int) Fault {
	return Fault{Route: route, After: n - 1, Times: -1, Drop: true}
}

// ExpiredTicketNth answers the nth request (1-based) of a route as OTDS
// answers an expired ticket: 400 {"status":1034,"error":"Expired OTDS SSO ticket"}.
func ExpiredTicketNth(route string, n int) Fault {
	return Fault{Route: route, After: n - 1, Status: 400, Code: 1034, Message: "Expired OTDS SSO ticket"}
}

// UnauthorizedNth answers the nth request (1-based) of a route with 401.
func UnauthorizedNth(route string, n int) Fault {
	return Fault{Route: route, After: n - 1, Status: 401, Message: "Invalid or expired access token"}
}

type faultState struct {
	Fault
	seen int
}

// AddFault arms a fault.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &faultState{Fault: f})
}

// ClearFaults disarms every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// fault returns the fault a request of route fires, if any. s.mu is held.
func (s *Server) fault(route string) *Fault {
	var fired *Fault
	for _, f := range s.faults {
		if f.Route != "" && f.Route != route {
			continue
		}
		f.seen++
		n := f.seen - f.After // 1 for the first failing request
		if fired == nil && n >= 1 && (f.Times < 0 || n <= f.Times) {
			fired = &f.Fault
		}
	}
	return fired
}
