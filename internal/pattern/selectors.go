package pattern

// Selectors returns the JSON selectors a JSON pattern tests, in the order they appear and each
// once, written as Source writes them ("$.userIdentity.type"); nil for the other kinds. A console
// uses it to show which fields of an event a metric filter looked at: the selectors say where to
// look, not whether each test passed (in an OR, one branch decides).
func (p *Pattern) Selectors() []string {
	if p.ast.kind != KindJSON {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	var walk func(e expr)
	walk = func(e expr) {
		switch x := e.(type) {
		case *orExpr:
			for _, c := range x.x {
				walk(c)
			}
		case *andExpr:
			for _, c := range x.x {
				walk(c)
			}
		case *condExpr:
			if s := x.sel.String(); !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	walk(p.ast.json)
	return out
}
