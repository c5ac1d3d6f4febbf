package alarm

// All returns the current record of every alarm, metric and composite, of every account and
// region, in no particular order. It reads the alarms kept in memory, so a console can list and
// filter thousands of alarms across scopes without a store query; the records must not be
// modified.
func (s *Service) All() []*Record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Record, 0, len(s.alarms))
	for _, e := range s.alarms {
		if r := e.rec.Load(); r != nil {
			out = append(out, r)
		}
	}
	return out
}
