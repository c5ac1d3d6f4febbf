package pattern

import "bytes"

// needLiterals returns literals one of which the raw bytes of every message a JSON pattern matches
// contain, or nil when it cannot say. It starts from guard's necessary condition, "the text at a
// selector is one of these literals": a JSON string holding such a literal holds it verbatim in the
// message unless it is written with escapes. Only literals of printable ASCII other than `"`, `\`
// and `/` are used, since those are the only characters whose escapes are all \uXXXX (JSON
// escapes `"` and `\` always, `/` optionally, control characters always), so mayMatch falls back
// to "maybe" for any message with a \u in it. A bare literal compared with a number, true, false or
// null compares with its source text, which is verbatim too.
func needLiterals(expr *jnode) [][]byte {
	_, lits, ok := guard(expr)
	if !ok || len(lits) == 0 {
		return nil
	}
	var need [][]byte
	for _, l := range lits {
		if l == "" {
			return nil
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '/' {
				return nil
			}
		}
		need = append(need, []byte(l))
	}
	return need
}

// unicodeEscape starts every escape that could write a needed literal's character.
var unicodeEscape = []byte(`\u`)

// mayMatch reports whether msg may match: false only when the pattern needs a literal msg does
// not contain and msg has no \u escape that could spell one.
func (p *Pattern) mayMatch(msg []byte) bool {
	if p.need == nil {
		return true
	}
	for _, l := range p.need {
		if bytes.Contains(msg, l) {
			return true
		}
	}
	return bytes.Contains(msg, unicodeEscape)
}
