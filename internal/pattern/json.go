package pattern

import (
	"encoding/binary"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the hot path for JSON patterns: a byte scanner that walks one event once and
// records, for every selector some filter needs, where its value is. It never builds a tree of
// the document and allocates nothing once its buffers have grown.

// jsonKind is the type of a JSON value found at a selector.
type jsonKind uint8

const (
	jString jsonKind = iota
	jNumber
	jTrue
	jFalse
	jNull
	jObject
	jArray
)

// jval locates one value in the event. For a string, [start,end) is the text between the quotes
// and esc says whether it holds escapes; for a number it is the source text.
type jval struct {
	kind       jsonKind
	esc        bool
	start, end int32
}

// pathNode is a node of the selector trie. The trie is determinised when built: a named child
// already includes what the wildcard child would match, so the scanner follows one node per key.
type pathNode struct {
	names    []namedChild
	buckets  *[nameBuckets][]namedChild // when there are many names
	anyField *pathNode
	indexes  []indexChild
	anyIndex *pathNode
	slots    []int // selectors that end here
}

type namedChild struct {
	name string
	node *pathNode
}

type indexChild struct {
	index int
	node  *pathNode
}

func (n *pathNode) hasChildren() bool {
	return len(n.names) > 0 || n.anyField != nil || len(n.indexes) > 0 || n.anyIndex != nil
}

// nameBuckets is the size of the hash table of a node with many names. The hash is cheap
// (length, first and last byte), so keys the node does not need are usually rejected without
// comparing any bytes.
const nameBuckets = 64

func nameHash(key []byte) int {
	if len(key) == 0 {
		return 0
	}
	return (len(key)*7 + int(key[0])*3 + int(key[len(key)-1])) & (nameBuckets - 1)
}

// field returns the child for key (nil if the key is not needed).
func (n *pathNode) field(key []byte) *pathNode {
	if n.buckets != nil {
		b := n.buckets[nameHash(key)]
		for i := range b {
			if b[i].name == string(key) {
				return b[i].node
			}
		}
		return n.anyField
	}
	for i := range n.names {
		if n.names[i].name == string(key) {
			return n.names[i].node
		}
	}
	return n.anyField
}

func (n *pathNode) index(i int) *pathNode {
	for j := range n.indexes {
		if n.indexes[j].index == i {
			return n.indexes[j].node
		}
	}
	return n.anyIndex
}

// buildTrie makes the determinised trie for paths; slot i is paths[i].
func buildTrie(paths []selector) *pathNode {
	type raw struct {
		names    map[string]*raw
		order    []string
		anyField *raw
		indexes  map[int]*raw
		iorder   []int
		anyIndex *raw
		slots    []int
	}
	newRaw := func() *raw { return &raw{names: map[string]*raw{}, indexes: map[int]*raw{}} }
	root := newRaw()
	for slot, sel := range paths {
		n := root
		for _, st := range sel {
			switch st.kind {
			case stepField:
				c := n.names[st.name]
				if c == nil {
					c = newRaw()
					n.names[st.name] = c
					n.order = append(n.order, st.name)
				}
				n = c
			case stepAnyField:
				if n.anyField == nil {
					n.anyField = newRaw()
				}
				n = n.anyField
			case stepIndex:
				c := n.indexes[st.index]
				if c == nil {
					c = newRaw()
					n.indexes[st.index] = c
					n.iorder = append(n.iorder, st.index)
				}
				n = c
			case stepAnyIndex:
				if n.anyIndex == nil {
					n.anyIndex = newRaw()
				}
				n = n.anyIndex
			}
		}
		n.slots = append(n.slots, slot)
	}
	// Determinise: the node reached by a set of raw nodes is their union.
	memo := map[string]*pathNode{}
	ids := map[*raw]int{}
	id := func(r *raw) int {
		if v, ok := ids[r]; ok {
			return v
		}
		ids[r] = len(ids)
		return ids[r]
	}
	var build func(set []*raw) *pathNode
	key := func(set []*raw) string {
		b := make([]byte, 0, 8*len(set))
		for _, r := range set {
			b = strconv.AppendInt(b, int64(id(r)), 10)
			b = append(b, ',')
		}
		return string(b)
	}
	build = func(set []*raw) *pathNode {
		if len(set) == 0 {
			return nil
		}
		k := key(set)
		if n, ok := memo[k]; ok {
			return n
		}
		n := &pathNode{}
		memo[k] = n
		seenSlot := map[int]bool{}
		var anyF, anyI []*raw
		for _, r := range set {
			for _, s := range r.slots {
				if !seenSlot[s] {
					seenSlot[s] = true
					n.slots = append(n.slots, s)
				}
			}
			if r.anyField != nil {
				anyF = append(anyF, r.anyField)
			}
			if r.anyIndex != nil {
				anyI = append(anyI, r.anyIndex)
			}
		}
		var names []string
		seenName := map[string]bool{}
		var idxs []int
		seenIdx := map[int]bool{}
		for _, r := range set {
			for _, nm := range r.order {
				if !seenName[nm] {
					seenName[nm] = true
					names = append(names, nm)
				}
			}
			for _, ix := range r.iorder {
				if !seenIdx[ix] {
					seenIdx[ix] = true
					idxs = append(idxs, ix)
				}
			}
		}
		for _, nm := range names {
			var sub []*raw
			for _, r := range set {
				if c := r.names[nm]; c != nil {
					sub = append(sub, c)
				}
			}
			sub = append(sub, anyF...)
			n.names = append(n.names, namedChild{name: nm, node: build(sub)})
		}
		if len(n.names) > 4 {
			n.buckets = new([nameBuckets][]namedChild)
			for _, c := range n.names {
				h := nameHash([]byte(c.name))
				n.buckets[h] = append(n.buckets[h], c)
			}
		}
		n.anyField = build(anyF)
		for _, ix := range idxs {
			var sub []*raw
			for _, r := range set {
				if c := r.indexes[ix]; c != nil {
					sub = append(sub, c)
				}
			}
			sub = append(sub, anyI...)
			n.indexes = append(n.indexes, indexChild{index: ix, node: build(sub)})
		}
		n.anyIndex = build(anyI)
		return n
	}
	return build([]*raw{root})
}

// scanState is the per-event working memory of the scanner; it is pooled and reused.
type scanState struct {
	data    []byte
	pos     int
	depth   int
	vals    [][]jval // per slot, in document order
	scratch []byte   // unescaped text, valid until the next unescape
	keybuf  []byte
	fields  []span // delimited tokens
}

// maxDepth matches encoding/json's nesting limit, so both reject the same documents.
const maxDepth = 10000

func (s *scanState) reset(nslots int) {
	if cap(s.vals) < nslots {
		s.vals = make([][]jval, nslots)
	}
	s.vals = s.vals[:nslots]
	for i := range s.vals {
		s.vals[i] = s.vals[i][:0]
	}
}

// scan walks data, filling s.vals for the selectors of root. It reports whether data is one
// JSON object or array (JSON patterns do not match anything else, §4.2).
func (s *scanState) scan(data []byte, root *pathNode, nslots int) bool {
	s.reset(nslots)
	s.data, s.pos, s.depth = data, 0, 0
	s.ws()
	if s.pos >= len(data) || (data[s.pos] != '{' && data[s.pos] != '[') {
		return false
	}
	if !s.value(root) {
		return false
	}
	s.ws()
	return s.pos == len(data)
}

func (s *scanState) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanState) record(n *pathNode, v jval) {
	for _, slot := range n.slots {
		s.vals[slot] = append(s.vals[slot], v)
	}
}

// value scans one value; n is the trie node for it, or nil when nothing below it is needed.
func (s *scanState) value(n *pathNode) bool {
	if s.pos >= len(s.data) {
		return false
	}
	start := s.pos
	switch c := s.data[s.pos]; c {
	case '{':
		if n != nil && len(n.slots) > 0 {
			s.record(n, jval{kind: jObject, start: int32(start)})
		}
		if n == nil || !n.hasChildren() {
			return s.skipContainer()
		}
		return s.object(n)
	case '[':
		if n != nil && len(n.slots) > 0 {
			s.record(n, jval{kind: jArray, start: int32(start)})
		}
		if n == nil || !n.hasChildren() {
			return s.skipContainer()
		}
		return s.array(n)
	case '"':
		esc, ok := s.str()
		if !ok {
			return false
		}
		if n != nil && len(n.slots) > 0 {
			s.record(n, jval{kind: jString, esc: esc, start: int32(start + 1), end: int32(s.pos - 1)})
		}
		return true
	case 't':
		return s.keyword(n, "true", jTrue, start)
	case 'f':
		return s.keyword(n, "false", jFalse, start)
	case 'n':
		return s.keyword(n, "null", jNull, start)
	default:
		if !s.number() {
			return false
		}
		if n != nil && len(n.slots) > 0 {
			s.record(n, jval{kind: jNumber, start: int32(start), end: int32(s.pos)})
		}
		return true
	}
}

// keyword scans the JSON literal w (true, false or null), which started at start, and records it for
// n's slots.
func (s *scanState) keyword(n *pathNode, w string, kind jsonKind, start int) bool {
	if !s.lit(w) {
		return false
	}
	if n != nil && len(n.slots) > 0 {
		s.record(n, jval{kind: kind, start: int32(start), end: int32(s.pos)})
	}
	return true
}

func (s *scanState) lit(w string) bool {
	if len(s.data)-s.pos < len(w) || string(s.data[s.pos:s.pos+len(w)]) != w {
		return false
	}
	s.pos += len(w)
	return true
}

// number scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanState) number() bool {
	d := s.data
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	if i >= len(d) {
		return false
	}
	if d[i] == '0' {
		i++
	} else if d[i] >= '1' && d[i] <= '9' {
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	s.pos = i
	return true
}

// strSpecial marks the bytes that end the fast path of a string scan: the closing quote, an
// escape, and the control characters JSON forbids in strings.
var strSpecial = [256]bool{
	'"': true, '\\': true,
	0x00: true, 0x01: true, 0x02: true, 0x03: true, 0x04: true, 0x05: true, 0x06: true, 0x07: true,
	0x08: true, 0x09: true, 0x0a: true, 0x0b: true, 0x0c: true, 0x0d: true, 0x0e: true, 0x0f: true,
	0x10: true, 0x11: true, 0x12: true, 0x13: true, 0x14: true, 0x15: true, 0x16: true, 0x17: true,
	0x18: true, 0x19: true, 0x1a: true, 0x1b: true, 0x1c: true, 0x1d: true, 0x1e: true, 0x1f: true,
}

// lo8 and hi8 are the SWAR constants: 0x01 and 0x80 in every byte.
const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// str scans a string starting at the opening quote, leaving pos after the closing quote.
func (s *scanState) str() (esc, ok bool) {
	d := s.data
	i := s.pos + 1
	for {
		// Fast path: eight ordinary characters at a time (SWAR: no byte is '"', '\\' or a
		// control character).
		for i+8 <= len(d) {
			x := binary.LittleEndian.Uint64(d[i:])
			q := x ^ 0x2222222222222222
			b := x ^ 0x5c5c5c5c5c5c5c5c
			if ((q-lo8)&^q|(b-lo8)&^b|(x-0x2020202020202020)&^x)&hi8 != 0 {
				break
			}
			i += 8
		}
		for i < len(d) && !strSpecial[d[i]] {
			i++
		}
		if i >= len(d) {
			return esc, false
		}
		switch d[i] {
		case '"':
			s.pos = i + 1
			return esc, true
		case '\\':
			esc = true
			if i+1 >= len(d) {
				return esc, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+5 >= len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return esc, false
				}
				i += 6
			default:
				return esc, false
			}
		default:
			return esc, false // control character
		}
	}
}

func (s *scanState) object(n *pathNode) bool {
	s.depth++
	if s.depth > maxDepth {
		return false
	}
	s.pos++ // {
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.depth--
		return true
	}
	for {
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return false
		}
		ks := s.pos + 1
		esc, ok := s.str()
		if !ok {
			return false
		}
		var child *pathNode
		if n != nil {
			key := s.data[ks : s.pos-1]
			if esc {
				s.keybuf = unescape(s.keybuf[:0], key)
				key = s.keybuf
			}
			child = n.field(key)
		}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return false
		}
		s.pos++
		s.ws()
		if !s.value(child) {
			return false
		}
		s.ws()
		if s.pos >= len(s.data) {
			return false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.depth--
			return true
		default:
			return false
		}
	}
}

func (s *scanState) array(n *pathNode) bool {
	s.depth++
	if s.depth > maxDepth {
		return false
	}
	s.pos++ // [
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		s.depth--
		return true
	}
	for i := 0; ; i++ {
		s.ws()
		var child *pathNode
		if n != nil {
			child = n.index(i)
		}
		if !s.value(child) {
			return false
		}
		s.ws()
		if s.pos >= len(s.data) {
			return false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// skipContainer validates and skips an object or array nobody needs anything from.
func (s *scanState) skipContainer() bool {
	if s.data[s.pos] == '{' {
		return s.object(nil)
	}
	return s.array(nil)
}

// unescape appends the decoded form of a JSON string body to dst, as encoding/json decodes it
// (invalid surrogates become U+FFFD).
func unescape(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			dst = append(dst, c)
			continue
		}
		i++
		switch b[i] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			if i+4 >= len(b) {
				return dst
			}
			r := rune(hex4(b[i+1 : i+5]))
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
					r2 := rune(hex4(b[i+3 : i+7]))
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						dst = utf8.AppendRune(dst, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			dst = append(dst, b[i])
		}
	}
	return dst
}

func hex4(b []byte) int {
	v := 0
	for _, c := range b {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= int(c - '0')
		case c >= 'a' && c <= 'f':
			v |= int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			v |= int(c-'A') + 10
		}
	}
	return v
}
